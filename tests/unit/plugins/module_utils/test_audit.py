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
    assert verdict["status"] == status and verdict["evidence"]["days"] == days


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


def test_journal_lines_are_told_apart_errors_fail_warnings_and_rejects_warn():
    entries = [
        ("postfix/smtpd", 6, "connect from unknown[192.0.2.1]"),
        ("postfix/smtpd", 6, "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Relay access denied"),
        ("postfix/smtpd", 4, "warning: hostname does not resolve"),
        ("postfix/postmap", 2, "fatal: open database /etc/postfix/x.db: No such file or directory"),
        ("postfix/cleanup", 6, "error: something"),
    ]
    errors, warnings = au.classify_journal(entries)
    assert errors == [
        "postfix/postmap: fatal: open database /etc/postfix/x.db: No such file or directory",
        "postfix/cleanup: error: something",
    ]
    assert len(warnings) == 2 and "Relay access denied" in warnings[0]
    assert au.journal_warnings_verdict(warnings, 0, 24)["status"] == "warn"
    assert au.journal_warnings_verdict(warnings, 2, 24)["status"] == "pass"
    assert au.journal_verdict(errors, 0, 24)["evidence"]["sample"] == errors


@pytest.mark.parametrize(
    "problem,words",
    [
        ("self-signed certificate", "self-signed"),
        ("Hostname mismatch, certificate is not valid for 'mx1.example.test'.", "is not valid for mx1.example.test"),
        ("unable to get local issuer certificate", "does not verify for mx1.example.test"),
    ],
)
def test_an_untrusted_chain_warns_with_the_reason(problem, words):
    verdict = au.trust_verdict(problem, "mx1.example.test", "CN = other", "CN = other")
    assert verdict["status"] == "warn" and words in verdict["message"]
    assert verdict["evidence"]["problem"] == problem


def test_a_verified_chain_passes():
    verdict = au.trust_verdict(None, "mx1.example.test", "CN = mx1.example.test", "CN = Test CA")
    assert verdict["status"] == "pass" and "Test CA" in verdict["message"]


def test_opendkim_tables_are_read():
    conf = "Syslog yes\nKeyTable  /etc/opendkim/KeyTable\nSigningTable refile:/etc/opendkim/SigningTable # x\n"
    assert au.opendkim_table_paths(conf) == {
        "KeyTable": "/etc/opendkim/KeyTable",
        "SigningTable": "/etc/opendkim/SigningTable",
    }
    keys = au.parse_key_table(
        "# managed\ns1._domainkey.example.com example.com:s1:/etc/opendkim/keys/example.com/s1.private\nbroken line\n"
    )
    assert keys == [
        {
            "name": "s1._domainkey.example.com",
            "domain": "example.com",
            "selector": "s1",
            "path": "/etc/opendkim/keys/example.com/s1.private",
        }
    ]
    assert au.signing_key_names("*@example.com s1._domainkey.example.com\n") == {"s1._domainkey.example.com"}


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError):
        au.item("queue", "ok", "x")


S_CLIENT = """CONNECTED(00000003)
---
Certificate chain
 0 s:CN = mx1.example.test
   i:CN = Test CA
-----BEGIN CERTIFICATE-----
MIIBleaf
-----END CERTIFICATE-----
 1 s:CN = Test CA
   i:CN = Test CA
-----BEGIN CERTIFICATE-----
MIIBca
-----END CERTIFICATE-----
---
SSL handshake has read 2345 bytes
    Verify return code: 18 (self-signed certificate)
---
250 CHUNKING
"""


def test_s_client_output_gives_the_chain_and_the_verify_result():
    chain, code, words = au.parse_s_client(S_CLIENT)
    assert [c.splitlines()[1] for c in chain] == ["MIIBleaf", "MIIBca"]
    assert (code, words) == (18, "self-signed certificate")
    assert au.parse_s_client("connect:errno=111") == ([], None, "")


def test_openssl_words_inside_a_warning_do_not_make_it_an_error():
    errors, warnings = au.classify_journal(
        [
            ("postfix/smtpd", 4, "warning: TLS library problem: error:0A000418:SSL routines::tlsv1 alert unknown ca"),
            ("postfix/postmap", 2, "fatal: open database /etc/postfix/x.db: No such file or directory"),
            ("postfix/smtpd", 6, "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Relay access denied"),
            ("postfix/smtpd", 6, "connect from localhost[127.0.0.1]"),
        ]
    )
    assert errors == ["postfix/postmap: fatal: open database /etc/postfix/x.db: No such file or directory"]
    assert len(warnings) == 2 and warnings[0].startswith("postfix/smtpd: warning: TLS library problem")
