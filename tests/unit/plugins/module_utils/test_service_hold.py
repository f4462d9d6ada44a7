"""Unit tests for plugins/module_utils/_service_hold.py: the hold on Debian's service starts."""

from __future__ import annotations

import os
import stat
import subprocess

from ansible_collections.mailops.mailhost.plugins.module_utils import _service_hold as sh


def debian(tmp_path):
    """A host with invoke-rc.d (Debian); the policy-rc.d path beside it."""
    invoke = tmp_path / "invoke-rc.d"
    invoke.write_text("#!/bin/sh\n")
    return str(tmp_path / "policy-rc.d"), str(invoke)


def test_the_hold_denies_every_action_and_is_removed_on_release(tmp_path):
    path, invoke = debian(tmp_path)
    assert sh.hold(path, invoke) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    # what invoke-rc.d and deb-systemd-invoke read: exit status 101, "action forbidden by policy"
    assert subprocess.run([path, "postfix", "start"], check=False).returncode == 101
    assert sh.held(path) is True
    assert sh.hold(path, invoke) is True  # a second hold (the same run, or a killed run's file) keeps it
    assert sh.release(path) is True and not os.path.exists(path)
    assert sh.release(path) is False
    assert [p.name for p in tmp_path.iterdir()] == ["invoke-rc.d"]  # no temporary file left


def test_the_administrators_own_policy_rc_d_is_never_touched(tmp_path):
    path, invoke = debian(tmp_path)
    own = "#!/bin/sh\n# site policy\nexit 0\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(own)
    assert sh.hold(path, invoke) is False and sh.held(path) is False
    assert sh.release(path) is False
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == own


def test_nothing_is_held_without_invoke_rc_d(tmp_path):
    """EL: its packages start no service at install, and nothing there reads policy-rc.d."""
    path = str(tmp_path / "policy-rc.d")
    assert sh.hold(path, str(tmp_path / "no-invoke-rc.d")) is False
    assert not os.path.exists(path)


def test_a_file_cut_short_by_a_kill_is_still_recognised_as_ours(tmp_path):
    path, _invoke = debian(tmp_path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(sh.TEXT[: sh.TEXT.index(sh.MARK) + len(sh.MARK)])
    assert sh.held(path) is True
    assert sh.release(path) is True and not os.path.exists(path)


def test_a_policy_rc_d_that_is_not_text_is_not_ours(tmp_path):
    path, invoke = debian(tmp_path)
    with open(path, "wb") as handle:
        handle.write(b"\x7fELF\xff\xfe")
    assert sh.held(path) is False and sh.hold(path, invoke) is False and sh.release(path) is False
    assert os.path.exists(path)
