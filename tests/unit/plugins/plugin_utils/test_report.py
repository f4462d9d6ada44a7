"""Unit tests for plugins/plugin_utils/_report.py and the change_report callback: aggregation, flags, masking."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.mailops.mailhost.plugins.plugin_utils import _report as r

KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----\n"
HASH = "$6$salt$9hXw8a7Kk2mQwV1xT3pZ"


def change(component, kind, item, before=None, after=None, note=""):
    return {"component": component, "kind": kind, "item": item, "before": before, "after": after, "note": note}


def test_masking_removes_keys_and_hashes_everywhere():
    masked = r.mask({"a": [f"x {KEY} y", f"{{SHA512-CRYPT}}{HASH}"], "b": 3})
    assert masked == {"a": ["x (private key hidden)\n y", "(hash hidden)"], "b": 3}


def test_security_flags():
    assert r.security_relevant(change("postfix", "parameter", "mynetworks"))
    assert r.security_relevant(change("postfix", "parameter", "smtpd_tls_protocols"))
    assert not r.security_relevant(change("postfix", "parameter", "message_size_limit"))
    assert r.security_relevant(change("postfix", "service", "submission/inet -o smtpd_tls_security_level"))
    assert not r.security_relevant(change("postfix", "service", "submission/inet -o syslog_name"))
    assert r.security_relevant(change("postfix", "service", "smtps/inet", None, "smtps inet ...", "a new listener"))
    assert r.security_relevant(change("postfix", "table", "/etc/postfix/sender_access: spam@example.net"))
    assert not r.security_relevant(change("postfix", "table", "/etc/postfix/virtual: sales@example.com"))
    assert r.security_relevant(change("opendkim", "key", "example.com/s1 mode"))
    assert r.security_relevant(change("fail2ban", "unit", "fail2ban"))
    assert r.security_relevant(change("dovecot", "reason", "SASL user bob added"))


def test_aggregation_per_host_and_component_with_the_postfix_action_and_failures():
    report = r.Report(check_mode=True)
    report.add_entries("mx1", [change("postfix", "parameter", "message_size_limit", "1", "2")])
    report.add_entries("mx1", [change("postfix", "action", "postfix", None, "restart", "new listener smtps")])
    report.add_entries("mx1", [change("postfix", "parameter", "message_size_limit", "1", "2")])  # once only
    report.add_reasons("mx1", {"mailops.mailhost.dovecot_sasl": ["SASL user bob added"], "fail2ban": []})
    report.add_failure("mx2", f"postconf: refused {HASH}")
    report.add_unreachable("mx3", "ssh: connection refused")
    data = report.as_json()
    assert data["schema"] == r.SCHEMA and data["mode"] == "check"
    mx1 = data["hosts"]["mx1"]
    assert mx1["changes"] == 2 and mx1["postfix_action"] == {"action": "restart", "why": "new listener smtps"}
    assert mx1["reasons"] == {"dovecot": ["SASL user bob added"]}
    assert data["hosts"]["mx2"]["status"] == "failed" and HASH not in json.dumps(data)
    assert data["hosts"]["mx3"]["status"] == "unreachable"
    assert [e["item"] for e in data["security"]] == ["SASL user bob added"]
    markdown = r.render_markdown(report, "Plan for production")
    assert markdown.startswith("## Plan for production (check mode: nothing was changed)")
    assert markdown.index("Security-relevant") < markdown.index("| Host |")
    assert "| mx1 | ok | 2 | restart | new listener smtps |" in markdown
    assert "Unreachable: ssh: connection refused" in markdown and "**Failed**" in markdown


def test_the_callback_writes_both_files_and_never_a_no_log_value(tmp_path):
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "A file",
                    "ansible.builtin.copy": {"dest": str(tmp_path / "a"), "content": "x\n", "mode": "0644"},
                },
                {
                    "name": "A secret file",
                    "ansible.builtin.copy": {"dest": str(tmp_path / "s"), "content": KEY, "mode": "0600"},
                    "no_log": True,
                },
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(
        os.environ,
        ANSIBLE_CALLBACKS_ENABLED="mailops.mailhost.change_report",
        MAILHOST_PLAN_MD=str(tmp_path / "plan.md"),
        MAILHOST_PLAN_JSON=str(tmp_path / "plan.json"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
    )
    argv = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}"]
    proc = subprocess.run([*argv, str(tmp_path / "play.yml")], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "plan.json").read_text())
    entries = data["hosts"]["localhost"]["entries"]
    assert {(e["kind"], e["item"], e["after"]) for e in entries} == {
        ("file", str(tmp_path / "a"), "changed"),
        ("file", str(tmp_path / "s"), "(content hidden)"),
    }
    for name in ("plan.md", "plan.json", "summary.md"):
        assert "MIIEvQIBADAN" not in (tmp_path / name).read_text()
    assert (tmp_path / "summary.md").read_text() == (tmp_path / "plan.md").read_text() + "\n"
