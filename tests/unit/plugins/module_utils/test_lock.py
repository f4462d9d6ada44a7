"""Unit tests for plugins/module_utils/_lock.py: one run at a time, stale locks taken over."""

from __future__ import annotations

import json
import os
import subprocess
import time

from ansible_collections.mailops.mailhost.plugins.module_utils import _lock

A = {"id": "ctl:100:1", "controller": "ctl", "pid": "100", "started": "1", "user": "ops"}
B = {"id": "ctl:200:2", "controller": "ctl", "pid": "200", "started": "2", "user": "ops"}


def test_first_run_takes_it_second_waits_then_takes_it_after_release(tmp_path):
    path = str(tmp_path / "run" / "lock")
    assert _lock.try_acquire(path, A, 1800)[0] is True
    assert _lock.try_acquire(path, A, 1800)[0] is True  # the same run again
    taken, holder = _lock.try_acquire(path, B, 1800)
    assert taken is False and holder["id"] == A["id"]
    assert _lock.release(path, B["id"]) is False and os.path.exists(path)  # not B's to release
    assert _lock.release(path, A["id"]) is True
    assert _lock.try_acquire(path, B, 1800)[0] is True


def test_a_lock_older_than_the_maximum_age_is_taken_over(tmp_path):
    path = tmp_path / "lock"
    path.write_text(json.dumps({**A, "taken": time.time() - 4000}))
    taken, holder = _lock.try_acquire(str(path), B, 1800)
    assert taken is True and holder["id"] == B["id"]


def test_a_named_stale_holder_is_broken_and_only_that_one(tmp_path):
    path = str(tmp_path / "lock")
    _lock.try_acquire(path, A, 1800)
    assert _lock.try_acquire(path, B, 1800, break_id="someone-else")[0] is False
    assert _lock.try_acquire(path, B, 1800, break_id=A["id"])[0] is True


def test_check_mode_looks_but_never_creates(tmp_path):
    path = str(tmp_path / "lock")
    assert _lock.try_acquire(path, A, 1800, create=False) == (True, A)
    assert not os.path.exists(path)
    _lock.try_acquire(path, B, 1800)
    assert _lock.try_acquire(path, A, 1800, create=False)[0] is False


def test_an_unreadable_lock_is_stale(tmp_path):
    path = tmp_path / "lock"
    path.write_text("{not json")
    assert _lock.try_acquire(str(path), A, 1800)[0] is True


def test_a_process_that_is_gone_or_whose_pid_was_reused():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        started = _lock.process_start(proc.pid)
        assert started and not _lock.process_gone(proc.pid, started)
        assert _lock.process_gone(proc.pid, str(int(started) + 1))  # same pid, another process
    finally:
        proc.kill()
        proc.wait()
    assert _lock.process_gone(proc.pid, started)


def test_describe_says_who_and_since_when():
    text = _lock.describe({**A, "taken": 1000.0}, now=1042.0)
    assert text == "the run ctl:100:1 (ansible-playbook pid 100 on ctl, user ops), which took it 42 s ago"
