# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the host, the one way every module reads, writes and diffs them."""

from __future__ import annotations

import os
import tempfile
import time


def read_text(path: str, errors: str = "strict") -> str | None:
    """The file's text, or None when it does not exist (``errors`` as for open())."""
    try:
        with open(path, encoding="utf-8", errors=errors) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def remove(path: str) -> bool:
    """Remove a file; whether it was there (another process may have removed it first)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def write_atomic(
    path: str, content: str, mode: int, uid: int = -1, gid: int = -1, exclusive: bool = False, dated_back: float = 0
) -> None:
    """Write ``content`` to ``path`` atomically, with mode and owner set before the file appears.

    The temporary file is created 0600 in the target directory, given its final mode and owner,
    then renamed over ``path``: no reader ever sees a half-written file, and a secret is never
    readable by others, not even for a moment (AnsibleModule.atomic_move gives a new file the
    default permissions first). Without ``uid``/``gid`` an existing file keeps its owner. The
    temporary file is removed on any failure. ``exclusive``: the file must not exist yet
    (FileExistsError otherwise), and one that appears meanwhile is never replaced.
    ``dated_back``: the file appears with its modification time that many seconds in the past
    (its change time stays the true one); see postconf's main.cf.
    """
    if (uid == -1 or gid == -1) and os.path.exists(path):
        st = os.stat(path)
        uid = st.st_uid if uid == -1 else uid
        gid = st.st_gid if gid == -1 else gid
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".mailhost-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if uid != -1 or gid != -1:
            os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        if dated_back:
            past = time.time() - dated_back
            os.utime(tmp, (past, past))
        if exclusive:  # never over a file that exists (FileExistsError): a hard link, then the name goes
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def file_diff(path: str, before: str | None, after: str, header: str = "") -> dict:
    """A diff entry for Ansible's diff output: the file's text before and after."""
    label = f"{path} ({header})" if header else path
    return {"before_header": label, "after_header": label, "before": before or "", "after": after}
