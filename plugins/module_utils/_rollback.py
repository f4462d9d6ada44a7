# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback generations and the pending mark: what was live before a change, and whether it is live now.

A *generation* is a directory under a component's backup directory (for Postfix
``/var/lib/mailops-mailhost/postfix-rollback``) holding a copy of every file a change replaces
and a manifest (``manifest.json``)::

    {"files": [{"path", "backup", "compile"}], "after": [argv, ...]}

``backup`` is the copy (None when the file did not exist, so that a rollback removes it),
``compile`` the argv that rebuilds an indexed table after the file is put back, ``after`` the
commands that bring the restored files live (``systemctl restart opendkim``); Postfix's own
restart is done by postfix_reload. Manifests of earlier versions are a bare list of files.

The *pending mark* (``pending.json`` in the backup directory) is written before the first new
file is written and removed once the change is live and its probes passed, or once it was rolled
back. While it exists, the files on disk are not known to be live: a run that was killed in
between finds it, and either brings the files on disk live (when they are what it wants) or
first puts back the generation it names, the last configuration that was live.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time

MANIFEST = "manifest.json"
PENDING = "pending.json"


def new_generation(backup_dir: str) -> str:
    """A new, empty generation directory (0700) under ``backup_dir``."""
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    now = time.time()
    stamp = (
        time.strftime("%Y%m%dT%H%M%S", time.localtime(now)) + f"-{int(now * 1_000_000) % 1_000_000:06d}-{os.getpid()}"
    )
    path = os.path.join(backup_dir, stamp)
    os.makedirs(path, mode=0o700)
    return path


def save(generation: str, files: list[str], compile_argv: dict[str, list[str]], after: list[list[str]] | None = None):
    """Copy each existing file into the generation and write the manifest last; returns the file entries."""
    entries = []
    for index, path in enumerate(files):
        entry: dict = {"path": path, "backup": None}
        if os.path.lexists(path):
            entry["backup"] = os.path.join(generation, f"{index}-{os.path.basename(path)}")
            shutil.copy2(path, entry["backup"])
            st = os.stat(path)
            entry["owner"] = [st.st_uid, st.st_gid]
        if path in compile_argv:
            entry["compile"] = compile_argv[path]
        entries.append(entry)
    manifest = {"files": entries, "after": after or []}
    tmp = os.path.join(generation, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, os.path.join(generation, MANIFEST))
    return entries


def has_manifest(generation: str | None) -> bool:
    return bool(generation) and os.path.isfile(os.path.join(generation, MANIFEST))


def load(generation: str) -> dict:
    with open(os.path.join(generation, MANIFEST), encoding="utf-8") as handle:
        data = json.load(handle)
    return {"files": data, "after": []} if isinstance(data, list) else data


def files(generation: str) -> list[str]:
    return [entry["path"] for entry in load(generation)["files"]]


def restore(generation: str, run) -> list[str]:
    """Put every file back (or remove it when it was new), recompile tables; the ``after`` commands to run.

    ``run`` runs an argv. Each file is copied to a temporary name beside it and renamed over the
    live one, so a reader never sees half a file, and a restore killed halfway can simply be run
    again.
    """
    manifest = load(generation)
    for entry in manifest["files"]:
        path = entry["path"]
        if entry.get("backup"):
            if not same_content(entry["backup"], path):  # untouched files cost no space (a full disk)
                put_back(entry["backup"], path, entry.get("owner"))
        elif os.path.lexists(path):
            os.unlink(path)
            continue
        if entry.get("compile"):
            run(entry["compile"])
    return manifest.get("after", [])


def same_content(a: str, b: str) -> bool:
    try:
        with open(a, "rb") as one, open(b, "rb") as two:
            return one.read() == two.read()
    except OSError:
        return False


def put_back(backup: str, path: str, owner) -> None:
    tmp = os.path.join(os.path.dirname(path), ".mailhost-restore-" + os.path.basename(path))
    try:
        shutil.copy2(backup, tmp)
        if owner:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


# --- the pending mark ------------------------------------------------------------------------------


def mark_pending(backup_dir: str, generation: str, component: str) -> None:
    """Before the first new file is written: the files are not known to be live until cleared."""
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    path = os.path.join(backup_dir, PENDING)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"generation": generation, "component": component, "since": time.time()}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def pending(backup_dir: str) -> str | None:
    """The generation of an interrupted change (the last live configuration), or None."""
    try:
        with open(os.path.join(backup_dir, PENDING), encoding="utf-8") as handle:
            generation = json.load(handle).get("generation")
    except (OSError, ValueError, AttributeError):
        return None
    return generation if has_manifest(generation) else None


def clear_pending(backup_dir: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(backup_dir, PENDING))


def prune(backup_dir: str, keep: int, protect: tuple[str, ...] = ()) -> list[str]:
    """Remove all but the ``keep`` newest generations (never a protected one); the ones removed."""
    try:
        names = sorted(n for n in os.listdir(backup_dir) if os.path.isdir(os.path.join(backup_dir, n)))
    except FileNotFoundError:
        return []
    keep_set = set(names[-keep:]) if keep > 0 else set()
    protected = {os.path.basename(os.path.normpath(p)) for p in protect if p}
    removed = []
    for name in names:
        if name in keep_set or name in protected:
            continue
        shutil.rmtree(os.path.join(backup_dir, name), ignore_errors=True)
        removed.append(os.path.join(backup_dir, name))
    return removed
