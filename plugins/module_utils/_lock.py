# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time per host: the lock file of a stack run, and when its holder is gone.

The lock is a small JSON file (in /run, so a reboot clears it) naming its holder: an id unique
to the ansible-playbook run, the controller's host name, the run's process id there, the user
and the time it was taken. A holder is stale when the lock is older than the maximum age, or
when it was taken on this same controller by a process that no longer runs (a killed run).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time

from ansible_collections.mailops.mailhost.plugins.module_utils._files import remove


def read_holder(path: str) -> dict | None:
    """The holder recorded in the lock file, or None when there is no lock (or it is unreadable)."""
    try:
        with open(path, encoding="utf-8") as handle:
            holder = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"id": "", "unreadable": True, "taken": 0}
    return holder if isinstance(holder, dict) else {"id": "", "unreadable": True, "taken": 0}


def age(holder: dict, now: float | None = None) -> float:
    try:
        return max(0.0, (now or time.time()) - float(holder.get("taken", 0)))
    except (TypeError, ValueError):
        return float("inf")


def is_stale(holder: dict, max_age: float, now: float | None = None) -> bool:
    """Older than ``max_age`` seconds (or unreadable): nobody can still be working under it."""
    return bool(holder.get("unreadable")) or age(holder, now) > max_age


def process_gone(pid: int, started: str, proc: str = "/proc") -> bool:
    """Whether the process ``pid`` (started at ``started``, its /proc start time) no longer runs here."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, TypeError):
        return False
    if started:
        return process_start(int(pid), proc) not in ("", str(started))  # the pid was reused
    return False


def process_start(pid: int, proc: str = "/proc") -> str:
    """A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or ''."""
    try:
        with open(f"{proc}/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def running_modules(proc: str = "/proc", own: tuple[int, ...] = ()) -> list[int]:
    """Process ids of Ansible modules running on this host (their wrapper is AnsiballZ_<name>.py).

    A run killed on the controller may leave its current module running on the host (podman exec
    and some SSH setups do not stop it): a run that takes over a stale lock waits for these first.
    """
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) in own:
            continue
        try:
            with open(f"{proc}/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if b"AnsiballZ_" in cmdline and b"AnsiballZ_mailhost_lock" not in cmdline:
            found.append(int(entry))
    return found


def describe(holder: dict, now: float | None = None) -> str:
    if holder.get("unreadable"):
        return "an unreadable lock file"
    return (
        f"the run {holder.get('id', '?')} (ansible-playbook pid {holder.get('pid', '?')} on "
        f"{holder.get('controller', '?')}, user {holder.get('user', '?')}), which took it "
        f"{int(age(holder, now))} s ago"
    )


def try_acquire(path: str, owner: dict, max_age: float, break_id: str = "", create: bool = True) -> tuple[bool, dict]:
    """One attempt: (True, owner) when the lock is now ours, else (False, the holder).

    Deciding and replacing a stale lock happen under an flock on a guard file beside it, so two
    runs that find the same stale lock never both take it. ``create`` false (check mode) only
    looks: the lock counts as ours when nobody else holds it.
    """
    os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
    guard = os.open(path + ".guard", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        holder = read_holder(path)
        if holder is not None:
            mine = holder.get("id") == owner["id"]
            breakable = is_stale(holder, max_age) or (break_id and holder.get("id") == break_id)
            if mine:
                return True, holder
            if not breakable:
                return False, holder
            if create:
                os.unlink(path)
        if not create:
            return True, owner
        record = dict(owner, taken=time.time())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        return True, record
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            return False, read_holder(path) or {}
        raise
    finally:
        os.close(guard)


def release(path: str, owner_id: str) -> bool:
    """Remove the lock when it is ours; whether it was removed."""
    holder = read_holder(path)
    return holder is not None and holder.get("id") == owner_id and remove(path)
