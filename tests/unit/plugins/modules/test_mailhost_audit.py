"""The mailhost_audit module shell: verdicts assembled, failure when any check fails."""

from __future__ import annotations

import pytest
from conftest import journal_entry

from ansible_collections.mailops.mailhost.plugins.modules import mailhost_audit


@pytest.fixture
def no_certificate(monkeypatch):
    def refuse(argv, data, timeout):
        assert argv[1:3] == ["s_client", "-starttls"], argv
        return 1, "", "connect:errno=111\n"

    monkeypatch.setattr(mailhost_audit, "run_with_timeout", refuse)


def journal(monkeypatch, lines: list[str], rc: int = 0, err: str = ""):
    seen = []

    def stream(argv, consume):
        seen.append(argv)
        for line in lines:
            consume(line + "\n")
        return rc, err

    monkeypatch.setattr(mailhost_audit, "stream_lines", stream)
    return seen


def test_unreadable_certificate_and_journal_errors_fail(postfix_env, run_module, no_certificate, monkeypatch, tmp_path):
    seen = journal(monkeypatch, [journal_entry("fatal: x"), journal_entry("warning: y", priority=4)])
    postfix_env.responses["fail2ban-client status"] = (
        255,
        "",
        "ERROR   Failed to access socket path: /run/fail2ban/fail2ban.sock",
    )
    out = run_module(mailhost_audit, {"opendkim_config": str(tmp_path / "none.conf"), "max_journal_warnings": 5})
    assert out.failed
    statuses = {r["check"]: r["status"] for r in out.result["results"]}
    assert statuses == {
        "queue": "pass",
        "journal": "fail",
        "journal_warnings": "pass",
        "certificate": "fail",
        "certificate_trust": "skipped",
        "bans": "warn",
    }
    assert "cannot read the certificate" in out.result["msg"] and "fatal: x" in out.result["msg"]
    assert "SYSLOG_FACILITY=2" in seen[0]
    assert out.result["dkim_keys"] == []


def test_unreadable_journal_fails_with_journalctl_words(postfix_env, run_module, no_certificate, monkeypatch, tmp_path):
    journal(monkeypatch, [], rc=1, err="Failed to open journal: Permission denied")
    postfix_env.responses["fail2ban-client status"] = (0, "Status\n|- Number of jail:\t0\n`- Jail list:\t\n", "")
    out = run_module(mailhost_audit, {"opendkim_config": str(tmp_path / "none.conf")})
    journal_item = next(r for r in out.result["results"] if r["check"] == "journal")
    assert journal_item["status"] == "fail" and "Permission denied" in journal_item["message"]


@pytest.mark.parametrize(
    "args,message",
    [
        ({"max_queue": -1}, "max_queue: -1 must be 0 or more"),
        ({"smtp_port": 0}, "smtp_port: 0 must be a port number"),
        ({"probe_timeout": 0}, "probe_timeout: 0.0 must be more than 0 seconds"),
        ({"probe_domain": "a@example.com"}, "probe_domain: 'a@example.com' must be a domain name"),
    ],
)
def test_bad_arguments_named(run_module, args, message):
    out = run_module(mailhost_audit, args)
    assert out.failed and message in out.result["msg"]
