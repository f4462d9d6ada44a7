"""Behaviour of the postfix role, proven by real SMTP conversations and real runs."""

from __future__ import annotations

import json

import pytest
from conftest_common import run_json, wait_for

MX = "mx1.example.test"


def talk(client, port, *steps):
    quoted = " ".join(json.dumps(s) for s in steps)
    return run_json(client, f"smtpcheck talk {MX} {port} {quoted}")


# --- receiving and relaying -------------------------------------------------------------


def test_outside_mail_for_local_domain_lands_in_mailbox(outside, mx1):
    sent = run_json(outside, f"smtpcheck send {MX} 25 sender@example.net info@example.test inbound-1")
    assert sent["ok"], sent
    assert wait_for(lambda: "Subject: inbound-1" in mx1.run("cat /var/mail/alice").stdout), mx1.run("mailq").stdout


@pytest.mark.parametrize("port,tls", [(25, False), (25, True), (587, True)])
def test_relay_battery_refused_at_rcpt_from_outside(outside, port, tls):
    results = run_json(outside, f"smtpcheck relay {MX} {port} example.test" + (" --tls" if tls else ""))
    assert len(results) >= 16
    for r in results:
        assert r["mail_code"] == 250, r
        assert 500 <= r["rcpt_code"] < 600, f"relay not refused with 5xx at RCPT on port {port}: {r}"


def test_relay_allowed_from_mynetworks(trusted, mx1):
    sent = run_json(trusted, f"smtpcheck send {MX} 25 app@example.test someone@relay-target.example.org relayed-1")
    assert sent["ok"], sent
    # Accepted for relaying, and handed to the smtp client for onward delivery (which fails here:
    # there is no DNS in the test network), not refused at RCPT.
    assert wait_for(
        lambda: "to=<someone@relay-target.example.org>" in mx1.run("journalctl -q -t postfix/smtp --no-pager").stdout
    )


def test_authenticated_submission_may_relay(outside):
    sent = run_json(
        outside,
        f"smtpcheck send {MX} 587 alice@example.test ext@relay-target.example.org auth-1"
        " --tls --auth 'alice:correct horse'",
    )
    assert sent["ok"], sent


def test_wrong_password_is_refused(outside):
    out = outside.run(f"smtpcheck send {MX} 587 alice@example.test x@example.org auth-2 --tls --auth alice:wrong")
    assert out.rc != 0 and "535" in out.stderr, out.stderr


# --- TLS ----------------------------------------------------------------------------------


def test_starttls_offered_on_port_25(outside):
    out = talk(outside, 25, "EHLO")
    assert "starttls" in out["replies"][0]["features"]


def test_submission_requires_starttls_before_auth(outside):
    plain = talk(outside, 587, "EHLO", "MAIL FROM:<alice@example.test>")
    assert "auth" not in plain["replies"][0]["features"], "AUTH offered before STARTTLS"
    assert plain["replies"][1]["code"] == 530, plain
    tls = talk(outside, 587, "EHLO", "STARTTLS", "EHLO")
    assert "auth" in tls["replies"][2]["features"], tls


@pytest.mark.parametrize("proto", ["-tls1", "-tls1_1"])
def test_old_tls_versions_refused(outside, proto):
    # SECLEVEL=0 lets the client offer the old protocol: a refusal comes from the server.
    cmd = f"openssl s_client -brief -starttls smtp -connect {MX}:25 {proto} -cipher DEFAULT@SECLEVEL=0 </dev/null"
    assert outside.run(cmd).rc != 0


def test_tls12_and_tls13_accepted(outside):
    for proto in ("-tls1_2", "-tls1_3"):
        out = outside.run(f"openssl s_client -brief -starttls smtp -connect {MX}:25 {proto} </dev/null")
        assert out.rc == 0, out.stderr


def test_tls_parameters_exclude_old_protocols(mx1):
    for name in ("smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols"):
        value = mx1.check_output(f"postconf -h {name}")
        for proto in ("!SSLv2", "!SSLv3", "!TLSv1", "!TLSv1.1"):
            assert proto in value, f"{name} = {value}"


# --- hardening ----------------------------------------------------------------------------


def test_banner_has_no_software_or_version(outside):
    banner = talk(outside, 25)["banner"]
    assert banner == [220, f"{MX} ESMTP"], banner


def test_vrfy_refused(outside):
    out = talk(outside, 25, "EHLO", "VRFY alice")
    assert out["replies"][1]["code"] == 502, out


def test_helo_required(outside):
    out = talk(outside, 25, "MAIL FROM:<a@example.net>")
    assert out["replies"][0]["code"] == 503, out


def test_unknown_local_user_refused(outside):
    out = talk(outside, 25, "EHLO", "MAIL FROM:<a@example.net>", "RCPT TO:<nobody-here@example.test>")
    assert out["replies"][2]["code"] == 550, out


# --- changes that must not go live ----------------------------------------------------------


def _snapshot(mx1):
    return mx1.check_output("cat /etc/postfix/main.cf /etc/postfix/master.cf | sha256sum")


@pytest.mark.parametrize(
    "case,extra,expect",
    [
        ("unknown-parameter", {"postfix_main_cf": {"bogus_parameter": "1"}}, "unused parameter: bogus_parameter"),
        (
            "missing-map",
            {"postfix_main_cf": {"relay_recipient_maps": "hash:/etc/postfix/no-such-map"}},
            "/etc/postfix/no-such-map does not exist",
        ),
        (
            "missing-certificate",
            {"postfix_tls_chain_files": ["/etc/postfix/none.key", "/etc/postfix/none.crt"]},
            "/etc/postfix/none.key, which does not exist",
        ),
        (
            "fails-once-live",
            {"postfix_main_cf": {"smtpd_helo_required": "maybe"}},
            "previous configuration was restored and is live",
        ),
    ],
)
def test_broken_change_keeps_previous_config_and_mail(mx1, outside, converge, queued_message, case, extra, expect):
    before = _snapshot(mx1)
    delivered = queued_message(f"held-{case}")
    run = converge(extra)
    assert run.returncode != 0, f"{case}: the broken change was applied:\n{run.output[-2000:]}"
    assert expect in run.messages, run.messages
    assert _snapshot(mx1) == before, "the live configuration changed"
    assert mx1.run("postfix status").rc == 0, "Postfix is not running"
    assert talk(outside, 25)["banner"][0] == 220
    assert delivered(), mx1.run("mailq").stdout


# --- drift, check mode, idempotence ---------------------------------------------------------


def test_check_mode_reports_drift_without_fixing_it_then_a_run_fixes_it(mx1, converge):
    mx1.check_output(
        "postconf -e disable_vrfy_command=no smtpd_banner='$myhostname ESMTP Postfix (Debian)' default_process_limit=7"
    )
    drifted = _snapshot(mx1)
    check = converge(check=True)
    assert check.returncode == 0, check.messages
    assert check.changed("mx1") >= 1
    assert "-disable_vrfy_command = no" in check.diff_text and "+disable_vrfy_command = yes" in check.diff_text
    assert "-default_process_limit = 7" in check.diff_text  # added by hand: not part of the policy
    assert _snapshot(mx1) == drifted, "check mode changed the host"
    fix = converge()
    assert fix.returncode == 0, fix.messages
    assert mx1.check_output("postconf -h disable_vrfy_command") == "yes"
    assert "default_process_limit" not in mx1.check_output("postconf -n")
    again = converge()
    assert again.changed("mx1") == 0, again.diff_text
    clean_check = converge(check=True)
    assert clean_check.changed("mx1") == 0, clean_check.diff_text


def test_map_compiled_when_changed(mx1, converge):
    run = converge({"postfix_virtual_aliases": {"info@example.test": "alice", "sales@example.test": "alice"}})
    assert run.returncode == 0, run.messages
    assert mx1.check_output("postmap -q sales@example.test hash:/etc/postfix/virtual") == "alice"
    restore = converge()
    assert restore.returncode == 0
    assert mx1.run("postmap -q sales@example.test hash:/etc/postfix/virtual").rc == 1
