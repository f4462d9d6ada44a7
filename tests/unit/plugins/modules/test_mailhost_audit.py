"""The mailhost_audit module shell: verdicts assembled, failure when any check fails."""

from __future__ import annotations

import pytest
from conftest import journal_entry

from ansible_collections.mailops.mailhost.plugins.modules import mailhost_audit


@pytest.fixture
def no_certificate(monkeypatch):
    def refuse(module, address, port):
        raise OSError("connection refused")

    monkeypatch.setattr(mailhost_audit, "served_certificate", refuse)


def test_unreadable_certificate_and_journal_errors_fail(postfix_env, run_module, no_certificate):
    postfix_env.responses["journalctl"] = (0, journal_entry("fatal: x") + "\n", "")
    postfix_env.responses["fail2ban-client status"] = (
        255,
        "",
        "ERROR   Failed to access socket path: /run/fail2ban/fail2ban.sock",
    )
    out = run_module(mailhost_audit, {})
    assert out.failed
    statuses = {r["check"]: r["status"] for r in out.result["results"]}
    assert statuses == {"queue": "pass", "journal": "fail", "certificate": "fail", "bans": "warn"}
    assert "cannot read the certificate" in out.result["msg"] and "fatal: x" in out.result["msg"]
