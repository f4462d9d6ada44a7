"""Unit tests for the daily checklist verdicts (plugins/module_utils/_audit.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _audit as au

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def test_queue_near_empty_passes_and_full_queue_fails():
    assert au.queue_verdict(3, 50)["status"] == "pass"
    assert au.queue_verdict(51, 50)["status"] == "fail"


def test_journal_errors_over_limit_fail_with_a_sample():
    verdict = au.journal_verdict(["postfix/smtpd: fatal: x", "postfix/smtpd: error: y"], 0, 24)
    assert verdict["status"] == "fail" and "fatal: x" in verdict["message"]
    assert au.journal_verdict([], 0, 24)["status"] == "pass"


@pytest.mark.parametrize("days,status", [(400, "pass"), (30, "pass"), (29, "fail"), (-3, "fail")])
def test_certificate_days(days, status):
    not_after = datetime.fromtimestamp(NOW.timestamp() + days * 86400 + 60, timezone.utc)
    verdict = au.certificate_verdict(not_after, NOW, 30, "CN=mx1")
    assert verdict["status"] == status and verdict["value"] == days


def test_parse_enddate_from_openssl():
    assert au.parse_enddate("notAfter=Nov  5 09:10:11 2036 GMT") == datetime(
        2036, 11, 5, 9, 10, 11, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError):
        au.parse_enddate("subject=CN = x")


def test_fail2ban_counts_and_verdicts():
    status = "Status\n|- Number of jail:\t2\n`- Jail list:\tpostfix, postfix-sasl\n"
    assert au.jail_names(status) == ["postfix", "postfix-sasl"]
    per_jail = {
        "postfix": "Status for the jail: postfix\n`- Actions\n   |- Currently banned:\t2\n",
        "postfix-sasl": "Status for the jail: postfix-sasl\n`- Actions\n   |- Currently banned:\t150\n",
    }
    counts = au.parse_fail2ban_status(status, per_jail)
    assert counts == {"postfix": 2, "postfix-sasl": 150}
    assert au.bans_verdict(counts, 100)["status"] == "fail"
    assert au.bans_verdict({"postfix": 1}, 100)["status"] == "pass"
    assert au.bans_verdict(None, 100)["status"] == "warn"
