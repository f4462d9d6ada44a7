# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files the action plugins write on the controller: whole, or not at all."""

from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place: a reader (a
    scheduler, CI, a second run at once) sees the old file or the new one, never half of one."""
    directory = os.path.dirname(path) or "."
    fd, temp = tempfile.mkstemp(prefix=".mailhost-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
