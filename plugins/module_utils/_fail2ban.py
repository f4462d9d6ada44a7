# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fail2ban's jails: a candidate tested by fail2ban itself before it is written, and how it goes live.

The candidate is tested in a copy of the whole configuration directory (``fail2ban-client --conf
COPY -t``), so that fail2ban judges it with every file it will be read with. A running fail2ban
is reloaded (its bans are kept), a stopped one started; fail2ban is never restarted.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def inside(path: str, directory: str) -> bool:
    """Whether path is a file below directory (after resolving ``..``)."""
    path, directory = os.path.normpath(path), os.path.normpath(directory)
    return path.startswith(directory.rstrip("/") + "/") and not path.endswith("/")


def candidate_problem(run, client: str, config_dir: str, path: str, content: str) -> str | None:
    """fail2ban's own words about the configuration with ``content`` at ``path``, or None when it passes."""
    with tempfile.TemporaryDirectory(prefix="mailhost-fail2ban-") as copy:
        shutil.copytree(config_dir, copy, symlinks=True, dirs_exist_ok=True)
        target = os.path.join(copy, os.path.relpath(path, config_dir))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(content)
        rc, out, err = run([client, "--conf", copy, "-t"])
        if rc == 0:
            return None
        return (errors_of(err, out).replace(copy, config_dir) or f"fail2ban-client -t exited {rc}").strip()


def errors_of(err: str, out: str) -> str:
    """fail2ban's ERROR lines, without their time and logger prefix (all it said, when none is an ERROR)."""
    lines = [line for line in ((err or "") + "\n" + (out or "")).splitlines() if line.strip()]
    errors = [line[line.index("ERROR") :].replace("ERROR", "", 1).strip() for line in lines if "ERROR" in line]
    return "; ".join(e for e in errors if e and e != "ERROR: test configuration failed") or "\n".join(lines)


def live_action(active: bool, jails_changed: bool) -> str:
    """What brings the jails on disk live: start a stopped fail2ban, reload a running one whose jails changed."""
    if not active:
        return "start"
    return "reload" if jails_changed else "none"
