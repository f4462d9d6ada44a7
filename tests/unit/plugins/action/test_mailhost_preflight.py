"""The pre-flight action on the controller, run by ansible-playbook itself: one inventory host per case.

Every case is a host of one inventory (connection local, facts given): the plugin templates the
roles' defaults and the postfix role's derived parameters the way the roles will, validates the
argument specs and applies every rule. The Molecule scenario `mailhost` proves the same cases
leave a real host untouched; this test covers the rules' wording quickly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

FACTS = {"os_family": "RedHat", "distribution_major_version": "9", "fqdn": "mx1.example.com"}
GOOD = {
    "postfix_myhostname": "mx1.example.com",
    "postfix_mydestination": ["$myhostname", "localhost", "example.com"],
    "postfix_sasl_enabled": True,
    "dovecot_sasl_users": [{"name": "alice", "password_hash": "$6$salt$hashvalue"}],
    "opendkim_keys": [{"domain": "example.com", "selector": "mail2026"}],
}
CASES = {
    "good": ({}, None),
    "relay": ({"postfix_mynetworks": ["0.0.0.0/0"]}, "postfix_mynetworks: '0.0.0.0/0' trusts every address"),
    "typo": (
        {"postfix_mynetwork": ["10.0.0.1/32"]},
        "postfix_mynetwork: unknown variable; did you mean postfix_mynetworks?",
    ),
    "type": ({"postfix_message_size_limit": "huge"}, "postfix_message_size_limit: 'huge' is not an int"),
    "choice": ({"postfix_inet_protocols": "ipv5"}, "postfix_inet_protocols: 'ipv5' is not one of"),
    "nested": (
        {"opendkim_keys": [{"domain": "example.com", "selector": "a", "bits": "many"}]},
        "opendkim_keys[0].bits: 'many' is not an int",
    ),
    "entry-key": (
        {"opendkim_keys": [{"domain": "example.com", "selector": "a", "sel": 1}]},
        "opendkim_keys.sel: unknown key",
    ),
    "size": ({"postfix_message_size_limit": 52428800}, "postfix_message_size_limit: message_size_limit = 52428800"),
    "fqdn": ({"postfix_myhostname": "mailhost"}, "postfix_myhostname: 'mailhost' must be a fully qualified"),
    "banner": ({"postfix_smtpd_banner": "$myhostname ESMTP Postfix 3.7.11"}, "postfix_smtpd_banner"),
    "selector": (
        {"opendkim_keys": [{"domain": "example.com", "selector": "my selector"}]},
        "opendkim_keys[0].selector",
    ),
    "newline-option": (
        {"postfix_submission_options": {"syslog_name": "postfix/submission\n2526 inet n - y - - smtpd"}},
        "postfix_submission_options.syslog_name",
    ),
    "secret": (
        {"dovecot_sasl_users": [{"name": "alice", "password_hash": "TopSecretPlain"}]},
        "dovecot_sasl_users[0].password_hash: (hidden)",
    ),
    "allowed-typo": ({"postfix_mynetwork": [], "mailhost_allow_unknown_variables": True}, None),
}


def play_tasks(work) -> list[dict]:
    """Run work/play.yml on work/inventory.yml; each task's results by host (the json callback)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(work / "inventory.yml"), str(work / "play.yml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "{" in proc.stdout, proc.stdout + proc.stderr
    return json.loads(proc.stdout[proc.stdout.index("{") :])["plays"][0]["tasks"]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    work = tmp_path_factory.mktemp("preflight")
    hosts = {}
    for name, (extra, _expected) in CASES.items():
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        hosts[name].update(GOOD, **extra)
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (work / "play.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "all",
                    "gather_facts": False,
                    "vars": {"ansible_facts": FACTS},
                    "roles": [],
                    "tasks": [
                        {
                            "name": "Pre-flight",
                            "mailops.mailhost.mailhost_preflight": {
                                "roles": ["firewall", "opendkim", "dovecot_sasl", "postfix", "fail2ban"],
                                "allow_unknown": "{{ mailhost_allow_unknown_variables | default(false) }}",
                            },
                        }
                    ],
                }
            ]
        )
    )
    env = dict(
        os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.json"
    )
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(work / "inventory.yml"), str(work / "play.yml"), "--forks", "8"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "{" in proc.stdout, proc.stdout + proc.stderr
    data = json.loads(proc.stdout[proc.stdout.index("{") :])
    return data["plays"][0]["tasks"][0]["hosts"], proc.stdout + proc.stderr


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_is_judged_before_any_host_is_touched(outcome, case):
    results, output = outcome
    _extra, expected = CASES[case]
    result = results[case]
    if expected is None:
        assert not result.get("failed"), result.get("msg")
        return
    assert result.get("failed"), f"{case} was accepted"
    assert any(expected in line for line in result["problems"]), result["problems"]
    assert result["msg"].startswith(f"the pre-flight refused the configuration of {case} before any host was touched")


def test_secrets_never_reach_the_output(outcome):
    _results, output = outcome
    assert "TopSecretPlain" not in output


def test_a_host_never_provisioned_is_refused_when_provisioning_is_required(tmp_path):
    """drift.yml corrects provisioned hosts only: the facts call found no main.cf, the host is named."""
    hosts = {
        name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **GOOD}
        for name in ("fresh", "provisioned", "not-required")
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    facts = {
        "fresh": {"texts": {"/etc/postfix/main.cf": None}},
        "provisioned": {"texts": {"/etc/postfix/main.cf": "myhostname = mx1.example.com\n"}},
        "not-required": {"texts": {"/etc/postfix/main.cf": None}},
    }
    task = {
        "name": "Pre-flight",
        "mailops.mailhost.mailhost_preflight": {
            "roles": ["postfix"],
            "allow_unknown": True,
            "require_provisioned": "{{ inventory_hostname != 'not-required' }}",
            "host": "{{ host_facts[inventory_hostname] }}",
        },
    }
    (tmp_path / "play.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "all",
                    "gather_facts": False,
                    "vars": {"ansible_facts": FACTS, "host_facts": facts},
                    "tasks": [task],
                }
            ]
        )
    )
    results = play_tasks(tmp_path)[0]["hosts"]
    assert results["fresh"]["failed"]
    assert results["fresh"]["msg"] == (
        "fresh has no /etc/postfix/main.cf: provision it with playbooks/provision.yml first"
    )
    # a provisioned host, and any host where it is not required, go on to the checks
    for name in ("provisioned", "not-required"):
        assert "has no /etc/postfix/main.cf" not in str(results[name].get("msg")), results[name]
        assert "roles" in results[name], results[name]


def test_learn_makes_the_facts_call_in_the_same_task(tmp_path):
    """With learn, the task asks the host itself (here the controller, connection local): one task per
    host returns what it learned, sets the host's facts, and says what each role would change; an
    unreachable host stays unreachable, and learn with host is refused."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    local.update(GOOD, postfix_sasl_enabled=False)
    hosts = {
        "local": local,
        "both": local,
        "gone": {**GOOD, "ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh"},
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    task = {
        "name": "Pre-flight",
        "mailops.mailhost.mailhost_preflight": {
            "roles": ["postfix"],
            "allow_unknown": True,
            "learn": {"contents": ["/etc/hostname"]},
            "host": "{{ {'texts': {}} if inventory_hostname == 'both' else omit }}",
        },
        "register": "plan",
    }
    after = {"name": "The facts it learned", "ansible.builtin.debug": {"var": "ansible_facts.os_family"}}
    (tmp_path / "play.yml").write_text(
        yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": [task, after]}])
    )
    tasks = play_tasks(tmp_path)
    results = tasks[0]["hosts"]
    learned = results["local"]
    assert not learned.get("failed"), learned.get("msg")
    with open("/etc/hostname", encoding="utf-8") as handle:
        assert learned["host"]["texts"]["/etc/hostname"] == handle.read()
    assert "postfix" in learned["host"]["packages"]
    assert set(learned["host"]["install"]) >= {"packages", "prereq_packages", "repos"}
    assert isinstance(learned["changes"]["postfix"], list)
    # the run's list of changes: the role's reasons, then what the package transaction installs
    install = learned["host"]["install"]
    assert learned["todo"] == learned["changes"]["postfix"] + install["prereq_packages"] + install["repos"] + install[
        "packages"
    ] + (
        ["remove the hold on service starts (/usr/sbin/policy-rc.d) that a killed run left"]
        if install["leftover_hold"]
        else []
    )
    assert tasks[1]["hosts"]["local"]["ansible_facts.os_family"] == learned["host"]["ansible_facts"]["os_family"]
    assert results["gone"].get("unreachable"), results["gone"]
    assert results["both"]["failed"]
    assert "learn and host are mutually exclusive" in results["both"]["msg"]
