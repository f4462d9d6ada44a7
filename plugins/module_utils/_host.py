# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands on the host: always in the C locale, so that their output parses the same everywhere."""

from __future__ import annotations

C_LOCALE = {"LC_ALL": "C"}


def run(module, argv: list[str], **kwargs) -> tuple[int, str, str]:
    """Run argv (never a shell string) in the C locale; (rc, stdout, stderr). kwargs go to run_command."""
    return module.run_command(argv, environ_update=C_LOCALE, **kwargs)


def words(out: str, err: str) -> str:
    """What a failed command said, for a failure message: its stderr, else its stdout."""
    return (err or "").strip() or (out or "").strip()
