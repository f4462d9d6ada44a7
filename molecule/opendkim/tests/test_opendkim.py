"""DKIM signing through Postfix: signatures verify against real DNS, tampering is caught, keys are safe."""

from __future__ import annotations

import time

import dkim
import dns.resolver
import pytest
from conftest import last_message, zone_lines
from conftest_common import wait_for


def send_and_fetch(mx1, sender: str, subject: str) -> bytes:
    body = (
        f"From: <{sender}>\\nTo: <alice@example.test>\\nSubject: {subject}\\n"
        f"Message-ID: <{subject}@mx1.example.test>\\n\\nSigned body {subject}.\\n"
    )
    mx1.check_output(f"printf '{body}' | sendmail -f {sender} alice@example.test")
    assert wait_for(lambda: f"Subject: {subject}" in mx1.run("cat /var/mail/alice").stdout), mx1.run("mailq").stdout
    return last_message(mx1.run("cat /var/mail/alice").stdout)


def verifier(server):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port

    def dnsfunc(name, timeout=5):
        answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        return b"".join(answer[0].strings)

    return lambda message: dkim.verify(message, dnsfunc=dnsfunc)


@pytest.mark.parametrize("sender,domain", [("alice@example.test", "example.test"), ("bob@example.org", "example.org")])
def test_outgoing_mail_is_signed_and_verifies_against_dns(mx1, dns, sender, domain):
    message = send_and_fetch(mx1, sender, f"signed-{domain}")
    assert f"d={domain}".encode() in message and b"s=s2026" in message
    assert verifier(dns)(message), "the DKIM signature does not verify"


def test_body_altered_after_signing_fails_verification(mx1, dns):
    message = send_and_fetch(mx1, "alice@example.test", "tampered")
    assert verifier(dns)(message)
    assert not verifier(dns)(message.replace(b"Signed body tampered.", b"Signed body forged!!"))


def test_records_written_for_every_key_split_into_strings(mx1):
    for domain, selector in (("example.test", "s2026"), ("example.org", "s2026"), ("example.org", "s2027")):
        public = "".join(
            line
            for line in mx1.check_output(
                f"openssl pkey -in /etc/opendkim/keys/{domain}/{selector}.private -pubout"
            ).splitlines()
            if not line.startswith("-----")
        )
        (line,) = [line for line in zone_lines(domain) if line.startswith(f"{selector}._domainkey.{domain}. ")]
        strings = line.split("( ", 1)[1].rsplit(" )", 1)[0].split('" "')
        assert all(len(s.strip('"')) <= 255 for s in strings)
        assert "".join(s.strip('"') for s in strings) == f"v=DKIM1; k=rsa; p={public}"


def test_key_files_are_private(mx1):
    for path in ("/etc/opendkim/keys/example.test/s2026.private", "/etc/opendkim/keys/example.org/s2027.private"):
        key = mx1.file(path)
        assert key.mode == 0o600 and key.user == "opendkim"
        assert "2048 bit" in mx1.check_output(f"openssl pkey -in {path} -noout -text | head -1")


def test_postfix_uses_the_milter(mx1):
    assert mx1.check_output("postconf -h smtpd_milters") == "inet:localhost:8891"
    assert mx1.check_output("postconf -h non_smtpd_milters") == "inet:localhost:8891"
    assert mx1.check_output("postconf -h milter_default_action") == "accept"


def test_1024_bit_key_refused_before_touching_host(mx1, converge):
    before = mx1.check_output("sha256sum /etc/opendkim/KeyTable /etc/opendkim.conf")
    extra = {"opendkim_keys": [{"domain": "example.test", "selector": "weak", "bits": 1024}]}
    run = converge(extra)
    assert run.returncode != 0
    assert "DKIM keys must have at least 2048 bits" in run.messages and "opendkim_keys[].bits" in run.messages
    assert mx1.run("test -e /etc/opendkim/keys/example.test/weak.private").rc == 1
    assert mx1.check_output("sha256sum /etc/opendkim/KeyTable /etc/opendkim.conf") == before


def test_supplied_private_key_is_installed_and_never_shown(mx1, converge):
    pem = mx1.check_output("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null")
    body = [line for line in pem.splitlines() if not line.startswith("-----")]
    keys = [
        {"domain": "example.test", "selector": "s2026"},
        {"domain": "example.org", "selector": "s2026"},
        {"domain": "example.org", "selector": "s2027"},
        {"domain": "example.test", "selector": "vault1", "private_key": pem},
    ]
    run = converge({"opendkim_keys": keys})
    assert run.returncode == 0, run.messages
    for chunk in body[1:-1]:
        assert chunk not in run.output, "private key material appeared in the Ansible output"
    installed = mx1.file("/etc/opendkim/keys/example.test/vault1.private")
    assert installed.mode == 0o600 and installed.user == "opendkim"
    assert installed.content_string.strip() == pem.strip()
    # back to the scenario's keys (the extra key stays on disk but leaves the tables)
    assert converge().returncode == 0
    assert "vault1" not in mx1.check_output("cat /etc/opendkim/KeyTable")


def test_rotation_switches_only_when_the_new_record_is_published(mx1, dns, converge):
    rotate = {
        "opendkim_signing": {"example.org": "s2027"},
        "opendkim_check_published": True,
        "opendkim_check_nameservers": ["127.0.0.1"],
        "opendkim_check_port": dns.port,
    }
    refused = converge(rotate)
    assert refused.returncode != 0 and "s2027._domainkey.example.org" in refused.messages
    assert "s2026._domainkey.example.org" in mx1.check_output("cat /etc/opendkim/SigningTable")
    dns.publish([line for line in zone_lines("example.org") if line.startswith("s2027.")])
    switched = converge(rotate)
    assert switched.returncode == 0, switched.messages
    assert "s2027._domainkey.example.org" in mx1.check_output("cat /etc/opendkim/SigningTable")
    time.sleep(1)
    message = send_and_fetch(mx1, "bob@example.org", "rotated")
    assert b"s=s2027" in message and verifier(dns)(message)
    assert converge().returncode == 0  # back to the first selector


def test_a_setting_opendkim_re_reads_is_applied_by_a_reload_that_keeps_its_process(mx1, dns, converge):
    """opendkim(8): SIGUSR1 re-reads opendkim.conf except Socket, UserID, UMask...; Canonicalization is re-read.
    A reload keeps the milter socket open (a restart closes it for the seconds opendkim takes to stop)."""
    pid = mx1.check_output("systemctl show -p MainPID --value opendkim")
    changed = converge({"opendkim_canonicalization": "simple/simple"})
    assert changed.returncode == 0, changed.messages
    assert "Canonicalization        simple/simple" in mx1.check_output("cat /etc/opendkim.conf")
    assert mx1.check_output("systemctl show -p MainPID --value opendkim") == pid  # reloaded, not restarted
    message = send_and_fetch(mx1, "alice@example.test", "canonicalization")
    assert b"c=simple/simple" in message and verifier(dns)(message)
    assert converge().returncode == 0
    assert mx1.check_output("systemctl show -p MainPID --value opendkim") == pid
    assert b"c=relaxed/simple" in send_and_fetch(mx1, "alice@example.test", "canonicalization-back")
