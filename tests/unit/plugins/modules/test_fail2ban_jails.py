"""The fail2ban_jails module against a fake systemctl and fail2ban-client: test, write, bring live, put back."""

from __future__ import annotations

import os
import stat

import pytest
from ansible.module_utils import basic

from ansible_collections.mailops.mailhost.plugins.modules import fail2ban_jails

JAILS = "[postfix]\nenabled = true\nmaxretry = 5\n"


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


class Host:
    """systemctl and fail2ban-client as the module sees them; every call is recorded."""

    def __init__(self, config_dir):
        self.config_dir = str(config_dir)
        self.active, self.enabled = True, True
        self.reload_fails = False
        self.calls: list[list[str]] = []
        self.tested: list[str] = []

    def run(self, argv, environ_update=None, data=None, **_kw):
        self.calls.append(list(argv))
        name, args = os.path.basename(argv[0]), argv[1:]
        if name == "systemctl":
            what = args[0]
            if what == "is-active":
                return (0 if self.active else 3), ("active" if self.active else "inactive") + "\n", ""
            if what == "is-enabled":
                return (0 if self.enabled else 1), ("enabled" if self.enabled else "disabled") + "\n", ""
            if what == "reload" and self.reload_fails:
                return 1, "", "Job for fail2ban.service failed."
            if what in ("start", "reload"):
                self.active = True
            if what == "enable":
                self.enabled = True
            return 0, "", ""
        if args[:1] == ["ping"]:
            return 0, "Server replied: pong\n", ""
        if "-t" in args:  # read the candidate in the copy, as fail2ban does
            copy = args[args.index("--conf") + 1]
            text = read(os.path.join(copy, "jail.d", "mailops-mailhost.local"))
            self.tested.append(text)
            if "filter = missing" in text:
                return 255, "", f"ERROR  Unable to read the filter 'missing' (in {copy}/filter.d)\nERROR  test failed\n"
            return 0, "OK: configuration test is successful\n", ""
        return 1, "", "unexpected"


@pytest.fixture
def host(tmp_path, monkeypatch):
    conf = tmp_path / "fail2ban"
    (conf / "jail.d").mkdir(parents=True)
    (conf / "jail.conf").write_text("[DEFAULT]\n")
    fake = Host(conf)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", fake.run)
    monkeypatch.setattr(
        basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: "/usr/bin/" + name
    )
    monkeypatch.setattr(fail2ban_jails.time, "sleep", lambda _s: None)
    return fake


def args(host, **kw):
    return {
        "path": os.path.join(host.config_dir, "jail.d", "mailops-mailhost.local"),
        "config_dir": host.config_dir,
        "pending_mark": os.path.join(os.path.dirname(host.config_dir), "state", "fail2ban-pending"),
        "content": JAILS,
        **kw,
    }


def actions(host):
    return [
        c[1] for c in host.calls if os.path.basename(c[0]) == "systemctl" and c[1] in ("start", "reload", "restart")
    ]


def test_jails_are_tested_written_and_reloaded_then_nothing_to_do(run_module, host):
    out = run_module(fail2ban_jails, args(host), diff=True)
    assert not out.failed, out.result
    assert out.result["changed"] and out.result["action"] == "reload" and out.result["diff"]["after"] == JAILS
    path = args(host)["path"]
    assert read(path) == JAILS and stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert host.tested == [JAILS] and actions(host) == ["reload"]
    assert not os.path.exists(args(host)["pending_mark"])
    again = run_module(fail2ban_jails, args(host))
    assert again.result["changed"] is False and actions(host) == ["reload"]  # never a restart


def test_a_candidate_fail2ban_refuses_is_never_written(run_module, host):
    run_module(fail2ban_jails, args(host))
    out = run_module(fail2ban_jails, args(host, content=JAILS + "filter = missing\n"))
    assert out.failed and "nothing was written" in out.result["msg"]
    assert "Unable to read the filter 'missing'" in out.result["msg"]
    assert host.config_dir + "/filter.d" in out.result["msg"]  # fail2ban's words, about the real directory
    assert read(args(host)["path"]) == JAILS and actions(host) == ["reload"]


def test_a_stopped_fail2ban_is_started_and_enabled(run_module, host):
    host.active, host.enabled = False, False
    out = run_module(fail2ban_jails, args(host))
    assert out.result["action"] == "start" and out.result["enabled_now"] is True
    assert host.active and host.enabled
    # what the change report lists (and flags as security-relevant: a jail file, the fail2ban unit)
    assert [(c["kind"], c["after"]) for c in out.result["mailhost_changes"]] == [
        ("file", "changed"),
        ("unit", "start"),
        ("unit", "enabled"),
    ]
    assert all(c["component"] == "fail2ban" for c in out.result["mailhost_changes"])


def test_a_killed_runs_mark_reloads_although_the_file_is_what_it_wants(run_module, host):
    run_module(fail2ban_jails, args(host))
    mark = args(host)["pending_mark"]
    with open(mark, "w", encoding="utf-8"):
        pass  # a run killed after it wrote the file, before the reload
    out = run_module(fail2ban_jails, args(host))
    assert out.result["changed"] and out.result["written"] is False and out.result["action"] == "reload"
    assert actions(host) == ["reload", "reload"] and not os.path.exists(mark)


def test_a_reload_that_fails_puts_the_previous_jails_back(run_module, host):
    run_module(fail2ban_jails, args(host))
    host.reload_fails = True
    out = run_module(fail2ban_jails, args(host, content=JAILS.replace("5", "7")))
    assert out.failed and "did not come live" in out.result["msg"] and "put back" in out.result["msg"]
    assert read(args(host)["path"]) == JAILS


def test_check_mode_writes_nothing_and_says_what_would_change(run_module, host):
    out = run_module(fail2ban_jails, args(host), check_mode=True, diff=True)
    assert out.result["changed"] and out.result["written"] and out.result["action"] == "reload"
    assert not os.path.exists(args(host)["path"]) and actions(host) == []


def test_a_path_outside_the_configuration_directory_is_refused(run_module, host):
    out = run_module(fail2ban_jails, args(host, path="/etc/passwd"))
    assert out.failed and "inside config_dir" in out.result["msg"]
    out = run_module(fail2ban_jails, args(host, path=host.config_dir + "/../x.local"))
    assert out.failed and "inside config_dir" in out.result["msg"]
