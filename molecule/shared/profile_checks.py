"""Behaviour every EL version-profile scenario proves with real traffic (imported by their tests).

mx1 runs the whole stack (postfix with SASL on 587 and 465, opendkim, dovecot_sasl, fail2ban,
firewalld) with an AlmaLinux profile's data; 'outside' is an untrusted client.
"""

from __future__ import annotations

import json
import os
import re
import time

import dkim
import pytest
from conftest_common import (
    JAILS,
    container_ip,
    outside_not_banned_by_accident,
    run_json,
    wait_for,
)

MX = "mx1.example.test"
GOOD = "alice:correct horse"
RECORDS = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "dkim-records")


def talk(client, port, *steps):
    quoted = " ".join(json.dumps(s) for s in steps)
    return run_json(client, f"smtpcheck talk {MX} {port} {quoted}")


def can_connect(client, port: int = 587) -> bool:
    return client.run(f"smtpcheck talk {MX} {port}").rc == 0


# --- mail in, relay refused ---------------------------------------------------------------


def test_mail_for_our_domain_from_outside_is_delivered(outside, mx1):
    sent = run_json(outside, f"smtpcheck send {MX} 25 sender@example.net info@example.test inbound-profile")
    assert sent["ok"], sent
    assert wait_for(lambda: "Subject: inbound-profile" in mx1.run("cat /var/mail/alice").stdout), mx1.run(
        "mailq"
    ).stdout


@pytest.mark.parametrize("port,tls", [(25, False), (25, True), (587, True)])
def test_relay_battery_refused_at_rcpt(outside, port, tls):
    results = run_json(outside, f"smtpcheck relay {MX} {port} example.test" + (" --tls" if tls else ""))
    assert len(results) >= 16
    for r in results:
        assert 500 <= r["rcpt_code"] < 600, f"relay not refused with 5xx at RCPT on port {port}: {r}"


# --- TLS and authentication ----------------------------------------------------------------


@pytest.mark.parametrize("proto", ["-tls1", "-tls1_1"])
def test_old_tls_versions_refused(outside, proto):
    # SECLEVEL=0 lets the client offer the old protocol: a refusal comes from the server.
    cmd = f"openssl s_client -brief -starttls smtp -connect {MX}:25 {proto} -cipher DEFAULT@SECLEVEL=0 </dev/null"
    out = outside.run(cmd)
    assert out.rc != 0, out.stdout


def test_tls12_and_tls13_accepted(outside):
    for proto in ("-tls1_2", "-tls1_3"):
        out = outside.run(f"openssl s_client -brief -starttls smtp -connect {MX}:25 {proto} </dev/null")
        assert out.rc == 0, out.stderr


def test_auth_only_after_starttls_on_587(outside):
    plain = talk(outside, 587, "EHLO", "MAIL FROM:<alice@example.test>")
    assert "auth" not in plain["replies"][0]["features"], "AUTH offered before STARTTLS"
    assert plain["replies"][1]["code"] == 530, plain
    tls = talk(outside, 587, "EHLO", "STARTTLS", "EHLO")
    assert "auth" in tls["replies"][2]["features"], tls


def test_authenticated_submission_on_587_relays(outside):
    sent = run_json(
        outside,
        f"smtpcheck send {MX} 587 alice@example.test ext@relay-target.example.org sub-587 --tls --auth '{GOOD}'",
    )
    assert sent["ok"], sent


def test_authenticated_submission_on_465_relays(outside):
    sent = run_json(
        outside,
        f"smtpcheck send {MX} 465 alice@example.test ext@relay-target.example.org sub-465 --ssl --auth '{GOOD}'",
    )
    assert sent["ok"], sent


def test_wrong_password_refused_by_the_server(outside):
    out = outside.run(f"smtpcheck send {MX} 587 alice@example.test x@example.org bad-auth --tls --auth alice:wrong")
    assert out.rc != 0 and "535" in out.stderr, out.stderr


# --- DKIM -----------------------------------------------------------------------------------


def published_record(domain: str) -> bytes:
    """The TXT data of the signing selector, from the zone snippet the role wrote."""
    with open(os.path.join(RECORDS, f"{domain}.zone"), encoding="utf-8") as handle:
        line = next(x for x in handle if x.strip() and not x.startswith(";"))
    return "".join(re.findall(r'"([^"]*)"', line)).encode()


def test_outgoing_mail_is_dkim_signed_and_verifies(mx1):
    body = "From: <alice@example.test>\\nTo: <alice@example.test>\\nSubject: dkim-profile\\n\\nSigned body.\\n"
    mx1.check_output(f"printf '{body}' | sendmail -f alice@example.test alice@example.test")
    assert wait_for(lambda: "Subject: dkim-profile" in mx1.run("cat /var/mail/alice").stdout)
    mailbox = mx1.run("cat /var/mail/alice").stdout
    message = re.split(r"^From \S+ .*\n", mailbox, flags=re.MULTILINE)[-1].encode()
    assert b"DKIM-Signature:" in message and b"d=example.test" in message, message[:600]
    record = published_record("example.test")
    assert dkim.verify(message, dnsfunc=lambda name, timeout=5: record), "the DKIM signature does not verify"
    assert not dkim.verify(message.replace(b"Signed body.", b"Forged body."), dnsfunc=lambda name, timeout=5: record)


# --- firewall and fail2ban --------------------------------------------------------------------


def firewalld_services(mx1) -> set[str]:
    return set(mx1.check_output("firewall-cmd --list-services").split())


def test_firewalld_runs_and_keeps_the_permanent_and_running_configuration_equal(mx1):
    assert mx1.check_output("firewall-cmd --state") == "running"
    assert mx1.service("firewalld").is_enabled
    permanent = set(mx1.check_output("firewall-cmd --permanent --list-services").split())
    assert permanent == firewalld_services(mx1)


def test_a_port_the_stack_does_not_listen_on_stays_closed(mx1, outside):
    mx1.run("systemd-run --unit=probe-listener python3 -m http.server 8025")
    try:
        assert wait_for(
            lambda: mx1.run("python3 -c \"import socket; socket.create_connection(('127.0.0.1', 8025))\"").rc == 0
        )
        address = container_ip("mx1")
        reach = outside.run(f"python3 -c \"import socket; socket.create_connection(('{address}', 8025), timeout=5)\"")
        assert reach.rc != 0, "port 8025 is reachable from outside although the stack does not open it"
    finally:
        mx1.run("systemctl stop probe-listener")


def test_five_failed_logins_are_banned_through_firewalld(mx1, outside):
    address = container_ip("outside")
    assert can_connect(outside)
    jail = mx1.check_output("cat /etc/fail2ban/jail.d/mailops-mailhost.local")
    assert "banaction = firewallcmd-rich-rules" in jail, jail
    time.sleep(5)  # fail2ban reads what earlier tests logged while the client is still ignored
    for jail in JAILS:
        mx1.check_output(f"fail2ban-client set {jail} delignoreip {address}")
    codes = run_json(outside, f"smtpcheck authfail {MX} 587 alice wrong 5")
    assert codes[:4] == [535] * 4 and codes[4] in (535, 0), codes
    try:
        assert wait_for(lambda: address in mx1.check_output("fail2ban-client status postfix-sasl"), timeout=30)
        assert wait_for(lambda: address in mx1.check_output("firewall-cmd --list-rich-rules"), timeout=15)
        # fail2ban's action adds one rich rule per port, one firewall-cmd call each: the first can be
        # listed while the next is still being added, so each port is given a few seconds.
        assert wait_for(lambda: not can_connect(outside, 587), timeout=20), "the banned client can still connect to 587"
        assert wait_for(lambda: not can_connect(outside, 25), timeout=20), "the banned client can still connect to 25"
    finally:
        mx1.run(f"fail2ban-client set postfix-sasl unbanip {address}")
    assert wait_for(lambda: can_connect(outside), timeout=15), "unban did not restore the connection"


# What a profile's test module collects (globals().update(profile_checks.SHARED)): every test
# above, and the autouse fixture that keeps 'outside' from being banned by accident.
SHARED = {
    **{name: value for name, value in dict(globals()).items() if name.startswith("test_")},
    "outside_not_banned_by_accident": outside_not_banned_by_accident,
}
