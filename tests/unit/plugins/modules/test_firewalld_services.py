"""firewalld_services with firewall-cmd answered by a fake that keeps a zone's state."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic

from ansible_collections.mailops.mailhost.plugins.modules import firewalld_services


class FakeFirewalld:
    def __init__(self, known, services=(), running=True):
        self.known = set(known)
        self.zone = {True: set(services), False: set(services)}
        self.ports = {True: set(), False: set()}
        self.running = running
        self.refuse: set[str] = set()
        self.calls = []

    def __call__(self, argv, **_kwargs):
        args = [str(a) for a in argv[1:]]
        self.calls.append(args)
        if args == ["--state"]:
            return (0, "running\n", "") if self.running else (252, "not running\n", "")
        if args == ["--get-default-zone"]:
            return 0, "public\n", ""
        if args == ["--get-services"]:
            return 0, " ".join(sorted(self.known)) + "\n", ""
        permanent = "--permanent" in args
        if "--list-all" in args:
            services, ports = " ".join(sorted(self.zone[permanent])), " ".join(sorted(self.ports[permanent]))
            return 0, f"public\n  services: {services}\n  ports: {ports}\n", ""
        for arg in args:
            key, _sep, value = arg.partition("=")
            if key == "--add-service":
                if value not in self.known or value in self.refuse:
                    return 101, "", f"Error: INVALID_SERVICE: {value}"
                self.zone[permanent].add(value)
            elif key == "--remove-service":
                self.zone[permanent].discard(value)
            elif key == "--add-port":
                self.ports[permanent].add(value)
            elif key == "--remove-port":
                self.ports[permanent].discard(value)
        return 0, "success\n", ""


@pytest.fixture
def firewalld(monkeypatch):
    def _make(**kwargs):
        fake = FakeFirewalld(**kwargs)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: fake(argv, **kw))
        monkeypatch.setattr(
            basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: f"/usr/bin/{name}"
        )
        return fake

    return _make


V1 = {"smtp", "smtps", "smtp-submission", "http", "ssh"}
V2 = V1 | {"submission"}


def test_opens_the_stack_in_permanent_and_running_configuration(firewalld, run_module, tmp_path):
    fake = firewalld(known=V1, services={"ssh"})
    state = str(tmp_path / "ports.json")
    result = run_module(
        firewalld_services, {"services": ["smtp", "submission", "smtps"], "state_file": state}, diff=True
    ).result
    assert result["changed"] and result["services"] == ["smtp", "smtp-submission", "smtps"]
    assert fake.zone[True] == fake.zone[False] == {"ssh", "smtp", "smtp-submission", "smtps"}
    assert "+" not in result["diff"]["before"] and "smtp-submission" in result["diff"]["after"]
    again = run_module(firewalld_services, {"services": ["smtp", "submission", "smtps"], "state_file": state}).result
    assert not again["changed"]
    assert not any("--reload" in call for call in fake.calls), "firewalld was reloaded (fail2ban's bans would be lost)"


def test_check_mode_changes_nothing(firewalld, run_module, tmp_path):
    fake = firewalld(known=V2, services={"ssh"})
    result = run_module(
        firewalld_services, {"services": ["smtp"], "state_file": str(tmp_path / "p.json")}, check_mode=True
    ).result
    assert result["changed"] and fake.zone[True] == {"ssh"}
    assert not (tmp_path / "p.json").exists()


def test_turning_465_off_closes_smtps_and_keeps_ssh(firewalld, run_module, tmp_path):
    fake = firewalld(known=V2, services={"ssh", "smtp", "submission", "smtps"})
    result = run_module(
        firewalld_services, {"services": ["smtp", "submission"], "state_file": str(tmp_path / "p")}
    ).result
    assert result["removed"] == ["smtps"]
    assert fake.zone[True] == fake.zone[False] == {"ssh", "smtp", "submission"}


def test_a_port_opened_earlier_is_closed_when_no_longer_asked_for(firewalld, run_module, tmp_path):
    fake = firewalld(known=V2)
    state = tmp_path / "ports.json"
    run_module(firewalld_services, {"services": ["smtp"], "ports": ["8080/tcp"], "state_file": str(state)})
    assert fake.ports[True] == {"8080/tcp"} and json.loads(state.read_text()) == ["8080/tcp"]
    run_module(firewalld_services, {"services": ["smtp"], "state_file": str(state)})
    assert fake.ports[True] == fake.ports[False] == set()


def test_refuses_a_bad_port_before_calling_firewalld(firewalld, run_module, tmp_path):
    fake = firewalld(known=V2)
    out = run_module(
        firewalld_services, {"services": ["smtp"], "ports": ["80; reboot"], "state_file": str(tmp_path / "p")}
    )
    assert out.failed and out.result["msg"].startswith("ports: '80; reboot' is not a port")
    assert fake.calls == []


def test_fails_clearly_when_firewalld_is_not_running(firewalld, run_module, tmp_path):
    firewalld(known=V2, running=False)
    out = run_module(firewalld_services, {"services": ["smtp"], "state_file": str(tmp_path / "p")})
    assert out.failed and "firewalld is not running" in out.result["msg"]


def test_carries_firewall_cmds_own_words(firewalld, run_module, tmp_path):
    fake = firewalld(known=V2)
    fake.refuse.add("smtps")  # listed by --get-services, refused by --add-service
    out = run_module(firewalld_services, {"services": ["smtps"], "state_file": str(tmp_path / "p")})
    assert out.failed and "INVALID_SERVICE: smtps" in out.result["msg"], out.result
    assert out.result["rc"] == 101 and "--add-service=smtps" in out.result["cmd"]


def test_refuses_a_service_this_firewalld_does_not_define(firewalld, run_module, tmp_path):
    firewalld(known={"smtp"})
    out = run_module(firewalld_services, {"services": ["smtps"], "state_file": str(tmp_path / "p")})
    assert out.failed and out.result["msg"] == "services: this firewalld defines none of smtps (for smtps)"
