# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollback generation: the previous files of a Postfix change, written by postconf and restored
by postfix_reload.

A generation is a directory holding a copy of every file the change replaces and a manifest
(``manifest.json``), a list of entries ``{"path", "backup", "compile"}``: ``backup`` is the copy
(None when the file did not exist before, so that a rollback removes it), ``compile`` the argv
that rebuilds the file's indexed table after it is put back.
"""

from __future__ import annotations

import json
import os
import shutil
import time

MANIFEST = "manifest.json"


def new_generation(backup_dir: str) -> str:
    """A new, empty generation directory (0700) under ``backup_dir``."""
    path = os.path.join(backup_dir, time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}")
    os.makedirs(path, mode=0o700)
    return path


def save(generation: str, files: list[str], compile_argv: dict[str, list[str]]) -> list[dict]:
    """Copy each existing file into the generation and write the manifest; returns the entries."""
    entries = []
    for index, path in enumerate(files):
        entry: dict = {"path": path, "backup": None}
        if os.path.exists(path):
            entry["backup"] = os.path.join(generation, f"{index}-{os.path.basename(path)}")
            shutil.copy2(path, entry["backup"])
        if path in compile_argv:
            entry["compile"] = compile_argv[path]
        entries.append(entry)
    with open(os.path.join(generation, MANIFEST), "w", encoding="utf-8") as handle:
        json.dump(entries, handle, indent=1)
    return entries


def has_manifest(generation: str | None) -> bool:
    return bool(generation) and os.path.isfile(os.path.join(generation, MANIFEST))


def load(generation: str) -> list[dict]:
    with open(os.path.join(generation, MANIFEST), encoding="utf-8") as handle:
        return json.load(handle)


def restore(generation: str, run) -> None:
    """Put every file of the generation back (or remove it when it was new), recompiling tables with ``run``."""
    for entry in load(generation):
        if entry.get("backup"):
            shutil.copy2(entry["backup"], entry["path"])
        elif os.path.exists(entry["path"]):
            os.unlink(entry["path"])
            continue
        if entry.get("compile"):
            run(entry["compile"])
