"""Unit tests for plugins/module_utils/_rollback.py: generations, the pending mark, retention."""

from __future__ import annotations

import json
import os

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback


def test_save_then_restore_puts_files_back_removes_new_ones_and_returns_after_commands(tmp_path):
    old, new = tmp_path / "main.cf", tmp_path / "virtual"
    old.write_text("before\n")
    generation = _rollback.new_generation(str(tmp_path / "backup"))
    _rollback.save(generation, [str(old), str(new)], {str(new): ["postmap", str(new)]}, [["systemctl", "restart", "x"]])
    old.write_text("after\n")
    new.write_text("new table\n")
    ran = []
    assert _rollback.restore(generation, ran.append) == [["systemctl", "restart", "x"]]
    assert old.read_text() == "before\n" and not new.exists() and ran == []
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".mailhost-")]


def test_manifests_of_earlier_versions_are_read(tmp_path):
    generation = tmp_path / "g"
    generation.mkdir()
    (generation / "manifest.json").write_text(json.dumps([{"path": str(tmp_path / "x"), "backup": None}]))
    assert _rollback.files(str(generation)) == [str(tmp_path / "x")]


def test_pending_mark_names_the_last_live_generation_until_cleared(tmp_path):
    backup = str(tmp_path / "backup")
    generation = _rollback.new_generation(backup)
    _rollback.save(generation, [], {})
    assert _rollback.pending(backup) is None
    _rollback.mark_pending(backup, generation, "postfix")
    assert _rollback.pending(backup) == generation
    _rollback.clear_pending(backup)
    assert _rollback.pending(backup) is None
    _rollback.clear_pending(backup)  # clearing twice is fine


def test_a_mark_naming_a_generation_without_manifest_is_ignored(tmp_path):
    backup = str(tmp_path / "backup")
    _rollback.mark_pending(backup, str(tmp_path / "gone"), "postfix")
    assert _rollback.pending(backup) is None


def test_prune_keeps_the_newest_and_the_protected(tmp_path):
    backup = tmp_path / "backup"
    names = [f"20261201T0000{i:02d}-000000-1" for i in range(15)]
    for name in names:
        (backup / name).mkdir(parents=True)
    (backup / "pending.json").write_text("{}")
    removed = _rollback.prune(str(backup), 10, protect=(str(backup / names[0]),))
    assert len(removed) == 4
    assert sorted(os.listdir(backup)) == sorted([names[0], *names[5:], "pending.json"])
