"""Unit tests for plugins/module_utils/_service_hold.py: the hold on Debian's service starts."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _files
from ansible_collections.mailops.mailhost.plugins.module_utils import _service_hold as sh

SERVICES = ["postfix", "opendkim"]


def debian(tmp_path):
    """A host with invoke-rc.d (Debian); the policy-rc.d path beside it."""
    invoke = tmp_path / "invoke-rc.d"
    invoke.write_text("#!/bin/sh\n")
    return str(tmp_path / "policy-rc.d"), str(invoke)


def test_the_hold_denies_every_action_and_is_removed_on_release(tmp_path):
    path, invoke = debian(tmp_path)
    assert sh.hold(SERVICES, path, invoke) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    # what invoke-rc.d (init script names) and deb-systemd-invoke (unit names) read: 101, "action
    # forbidden by policy", for the held services; 0 for every other, so a dependency starts and
    # dbus reloads for a new bus policy (firewalld cannot start without that reload)
    for argv, code in (
        (["postfix", "start"], 101),
        (["postfix.service", "restart"], 101),
        (["postfix@-.service", "start"], 101),
        (["opendkim", "start"], 101),
        (["dbus", "reload"], 0),
        (["firewalld.service", "start"], 0),
        (["postfix-policyd", "start"], 0),
    ):
        assert subprocess.run([path, *argv], check=False).returncode == code, argv
    assert sh.held(path) is True
    assert sh.hold(SERVICES, path, invoke) is True  # a second hold (the same run, or a killed run's file) keeps it
    assert sh.release(path) is True and not os.path.exists(path)
    assert sh.release(path) is False
    assert [p.name for p in tmp_path.iterdir()] == ["invoke-rc.d"]  # no temporary file left


def test_the_administrators_own_policy_rc_d_is_never_touched(tmp_path):
    path, invoke = debian(tmp_path)
    own = "#!/bin/sh\n# site policy\nexit 0\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(own)
    assert sh.hold(SERVICES, path, invoke) is False and sh.held(path) is False
    assert sh.release(path) is False
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == own


def test_nothing_is_held_without_invoke_rc_d(tmp_path):
    """EL: its packages start no service at install, and nothing there reads policy-rc.d."""
    path = str(tmp_path / "policy-rc.d")
    assert sh.hold(SERVICES, path, str(tmp_path / "no-invoke-rc.d")) is False
    assert not os.path.exists(path)


def test_a_file_cut_short_by_a_kill_is_still_recognised_as_ours(tmp_path):
    path, _invoke = debian(tmp_path)
    with open(path, "w", encoding="utf-8") as handle:
        whole = sh.text(SERVICES)
        handle.write(whole[: whole.index(sh.MARK) + len(sh.MARK)])
    assert sh.held(path) is True
    assert sh.release(path) is True and not os.path.exists(path)


def test_a_policy_rc_d_that_is_not_text_is_not_ours(tmp_path):
    path, invoke = debian(tmp_path)
    with open(path, "wb") as handle:
        handle.write(b"\x7fELF\xff\xfe")
    assert sh.held(path) is False and sh.hold(SERVICES, path, invoke) is False and sh.release(path) is False
    assert os.path.exists(path)


def test_a_killed_runs_hold_is_replaced_by_this_runs(tmp_path):
    path, invoke = debian(tmp_path)
    assert sh.hold(["postfix"], path, invoke) is True
    assert sh.hold(["fail2ban"], path, invoke) is True
    assert subprocess.run([path, "fail2ban", "start"], check=False).returncode == 101
    assert subprocess.run([path, "postfix", "start"], check=False).returncode == 0


def test_service_names_a_shell_would_read_are_refused():
    for names in ([], ["postfix;reboot"], ["$(id)"], ["a b"], ["-x"]):
        with pytest.raises(ValueError, match="service names must match"):
            sh.text(names)


def test_a_file_that_appears_first_is_never_replaced(tmp_path):
    path = tmp_path / "f"
    path.write_text("theirs\n")
    with pytest.raises(FileExistsError):
        _files.write_atomic(str(path), "ours\n", 0o755, exclusive=True)
    assert path.read_text() == "theirs\n" and [p.name for p in tmp_path.iterdir()] == ["f"]
