"""The daily checklist (playbooks/audit.yml) against mx1: DNS from a real Knot server, a real probe
message through mx1's Postfix and opendkim, a certificate from a test CA in mx1's trust store, and
the three reports (JSON, JUnit XML, Markdown) read back and compared."""

from __future__ import annotations

import json
import os
from xml.etree import ElementTree

import pytest
from conftest_common import container_ip, run_playbook, wait_for
from knot import BlackHole, Knot, soa

AUDIT = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "audit.yml")
MX = "mx1.example.test"
CA_DIR = "/root/mailhost-audit-ca"


@pytest.fixture(scope="module")
def mx1_ip():
    return container_ip("mx1")


def txt(value: str) -> str:
    return " ".join(f'"{value[i : i + 200]}"' for i in range(0, len(value), 200))


def host_public_key(mx1, selector: str = "stack1") -> str:
    """The base64 public key of the selector's private key on mx1, read from opendkim's KeyTable."""
    table = mx1.check_output("awk '{print $2}' $(awk '$1==\"KeyTable\"{print $2}' /etc/opendkim.conf | sed 's/^.*://')")
    entry = next(line for line in table.splitlines() if f":{selector}:" in line)
    path = entry.split(":", 2)[2]
    return mx1.check_output(f"openssl pkey -in {path} -pubout -outform DER | base64 -w0")


def zones(mx1_ip: str, dkim_key: str, ptr: str = MX, spf: str | None = None) -> dict[str, str]:
    a, b, c, d = mx1_ip.split(".")
    reverse = f"{c}.{b}.{a}.in-addr.arpa"
    return {
        "example.test": soa("example.test")
        + f"example.test. 60 IN MX 10 {MX}.\n"
        + f"{MX}. 60 IN A {mx1_ip}\n"
        + f'example.test. 60 IN TXT "{spf or f"v=spf1 ip4:{mx1_ip} -all"}"\n'
        + f"stack1._domainkey.example.test. 60 IN TXT {txt(f'v=DKIM1; k=rsa; p={dkim_key}')}\n"
        + '_dmarc.example.test. 60 IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"\n',
        reverse: soa(reverse) + f"{d}.{reverse}. 60 IN PTR {ptr}.\n",
    }


@pytest.fixture(scope="module")
def dns(mx1, mx1_ip):
    server = Knot(zones(mx1_ip, host_public_key(mx1)))
    yield server
    server.stop()


def serve_certificate(mx1, name: str) -> None:
    mx1.check_output(f"postconf -e 'smtpd_tls_chain_files = {CA_DIR}/{name}.key, {CA_DIR}/{name}.pem'")
    mx1.check_output("postfix reload")

    def served():
        return name in mx1.run("openssl s_client -starttls smtp -connect 127.0.0.1:25 </dev/null 2>&1").stdout

    assert wait_for(served, timeout=20), f"Postfix does not serve the {name} certificate"


@pytest.fixture(scope="module")
def test_ca(mx1):
    """A CA in mx1's trust store and two certificates for mx1 it signed: one for a year, one for 10 days.

    main.cf is restored byte for byte afterwards and the CA leaves the trust store."""
    mx1.check_output(f"mkdir -p {CA_DIR} && cp -p /etc/postfix/main.cf {CA_DIR}/main.cf.orig")
    mx1.check_output(
        f"cd {CA_DIR} && openssl req -x509 -newkey rsa:2048 -nodes -days 400 -subj '/CN=Mailhost Audit Test CA'"
        " -keyout ca.key -out ca.pem 2>/dev/null"
        " && cp ca.pem /usr/local/share/ca-certificates/mailhost-audit-test.crt && update-ca-certificates >/dev/null"
    )
    for name, days in (("year", 365), ("shortlived", 10)):
        mx1.check_output(
            f"cd {CA_DIR} && openssl req -newkey rsa:2048 -nodes -subj '/O={name}/CN={MX}' -keyout {name}.key"
            f" -out {name}.csr 2>/dev/null && printf 'subjectAltName=DNS:{MX}\\n' > {name}.ext"
            f" && openssl x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days {days}"
            f" -extfile {name}.ext -out {name}.pem 2>/dev/null"
        )
    serve_certificate(mx1, "year")
    yield
    mx1.check_output(f"cp -p {CA_DIR}/main.cf.orig /etc/postfix/main.cf && postfix reload")
    mx1.check_output(
        f"rm -f /usr/local/share/ca-certificates/mailhost-audit-test.crt && update-ca-certificates --fresh >/dev/null"
        f" && rm -rf {CA_DIR}"
    )


@pytest.fixture
def quiet_host(mx1):
    """An empty queue and a journal with nothing from before (the earlier tests' rejects are warnings)."""
    mx1.run("postsuper -d ALL")
    mx1.check_output("journalctl --rotate -q && journalctl --vacuum-time=1s -q")
    mx1.run("fail2ban-client unban --all")


def audit(dns_port: int, mx1_ip: str, report_dir, **extra):
    variables = {
        "mailhost_domain": "example.test",
        "mailhost_public_addresses": [mx1_ip],
        "mailhost_dmarc_policy": "quarantine",
        "mailhost_audit_nameservers": ["127.0.0.1"],
        "mailhost_audit_dns_port": dns_port,
        "mailhost_audit_dir": str(report_dir),
        **extra,
    }
    return run_playbook(AUDIT, variables, limit="mx1")


def reports(report_dir) -> tuple[dict, dict, dict, str]:
    """The JSON checks, the JUnit testcases and outcome by name, and the Markdown text, of mx1."""
    data = json.loads((report_dir / "mailhost-audit.json").read_text())
    checks = {(f"{c['check']} ({c['subject']})" if c["subject"] else c["check"]): c for c in data["checks"]}
    root = ElementTree.parse(report_dir / "mailhost-audit.xml").getroot()
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "mx1"
    cases = {}
    for case in suite.findall("testcase"):
        if case.find("failure") is not None:
            outcome = "fail"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "warn" if case.find("system-out").text.startswith("WARNING") else "pass"
        cases[case.get("name")] = (outcome, case)
    markdown = (report_dir / "mailhost-audit.md").read_text()
    # the three files say the same thing, check by check
    assert {name: c["status"] for name, c in checks.items()} == {name: v[0] for name, v in cases.items()}
    for name, c in checks.items():
        assert f"| {c['status'].upper()} | {name} |" in markdown, name
    return data, checks, cases, markdown


def test_healthy_host_passes_every_check(mx1, dns, mx1_ip, test_ca, quiet_host, tmp_path):
    run = audit(dns.port, mx1_ip, tmp_path)
    data, checks, _cases, markdown = reports(tmp_path)
    assert run.returncode == 0, json.dumps([c for c in data["checks"] if c["status"] != "pass"], indent=1)
    assert run.changed("mx1") == 0
    not_passing = {name: c["message"] for name, c in checks.items() if c["status"] != "pass"}
    assert not_passing == {}
    expected = {
        "queue",
        "journal",
        "journal_warnings",
        "certificate",
        "certificate_trust",
        "bans",
        "mx",
        "ptr",
        "spf",
        "dkim (stack1._domainkey.example.test)",
        "dmarc",
        "dkim_message (example.test)",
        f"spf_message ({mx1_ip})",
        f"dmarc_message ({mx1_ip})",
        "dmarc_stage",
    }
    assert expected <= set(checks), sorted(set(checks))
    assert "DKIM" in checks[f"dmarc_message ({mx1_ip})"]["message"]  # aligned by the signature, not SPF alone
    assert checks["dkim_message (example.test)"]["evidence"]["found"]["signatures"][0]["s"] == "stack1"
    assert data["failed"] is False and "0 failed" in markdown
    # the probe was removed: nothing of it stays in the queue
    assert mx1.run("postqueue -j").stdout.strip() == ""


def test_broken_host_and_dns_each_fail_by_name_with_the_records_to_publish(
    mx1, outside, dns, mx1_ip, test_ca, quiet_host, tmp_path
):
    wrong_key = mx1.check_output(
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null"
        " | openssl pkey -pubout -outform DER | base64 -w0"
    )
    dns.write_zone("example.test", zones(mx1_ip, wrong_key, spf="v=spf1 ip4:192.0.2.1 -all")["example.test"])
    reverse = next(z for z in dns.zones if z.endswith("in-addr.arpa"))
    dns.write_zone(reverse, zones(mx1_ip, wrong_key, ptr="other.example.net")[reverse])
    for zone in dns.zones:
        assert dns.knotc("zone-reload", zone).returncode == 0
    # two messages held in the queue (the scenario's HOLD rule for this sender), over a limit of one
    for n in (1, 2):
        sent = json.loads(
            outside.check_output(f"smtpcheck send {MX} 25 hold-me@example.net alice@example.test held{n}")
        )
        assert sent["ok"], sent
    assert wait_for(lambda: mx1.run("postqueue -j").stdout.count('"queue_name": "hold"') >= 2), "not held"
    # a real Postfix fatal error in the journal: a lookup table that does not exist
    assert mx1.run("postmap -q x hash:/etc/postfix/mailhost-missing").rc != 0
    assert wait_for(lambda: "mailhost-missing" in mx1.run("journalctl -q SYSLOG_FACILITY=2 -g mailhost-missing").stdout)
    serve_certificate(mx1, "shortlived")
    try:
        run = audit(dns.port, mx1_ip, tmp_path, mailhost_audit_max_queue=1)
    finally:
        serve_certificate(mx1, "year")
        mx1.run("postsuper -d ALL")
        dns.write_zone("example.test", zones(mx1_ip, host_public_key(mx1))["example.test"])
        dns.write_zone(reverse, zones(mx1_ip, "")[reverse])
        for zone in dns.zones:
            dns.knotc("zone-reload", zone)
    data, checks, cases, markdown = reports(tmp_path)
    assert run.returncode != 0
    failed = {name for name, c in checks.items() if c["status"] == "fail"}
    assert {
        "queue",
        "journal",
        "certificate",
        "ptr",
        "spf",
        "dkim (stack1._domainkey.example.test)",
        "dkim_message (example.test)",
        f"spf_message ({mx1_ip})",
        f"dmarc_message ({mx1_ip})",
        "dmarc_stage",
    } <= failed, sorted(failed)
    assert {"mx", "dmarc", "certificate_trust", "bans"}.isdisjoint(failed)
    assert "2 messages" in checks["queue"]["message"]
    assert "mailhost-missing" in checks["journal"]["message"]
    assert "expires in" in checks["certificate"]["message"] and checks["certificate"]["evidence"]["days"] < 11
    # receivers quarantine this host's mail: the stage goes back to none
    assert "go back to p=none" in checks["dmarc_stage"]["message"]
    host_key = host_public_key(mx1)
    records = [r for c in data["checks"] for r in c["records"]]
    a, b, c, d = mx1_ip.split(".")
    assert f"{d}.{c}.{b}.{a}.in-addr.arpa. 3600 IN PTR {MX}." in records
    dkim_line = next(r for r in records if r.startswith("stack1._domainkey.example.test."))
    assert host_key[:60] in dkim_line.replace('" "', "")
    assert any(r.startswith('example.test. 3600 IN TXT "v=spf1') and f"ip4:{mx1_ip}" in r for r in records)
    assert any(r.startswith('_dmarc.example.test. 3600 IN TXT "v=DMARC1; p=none') for r in records)
    # JUnit carries the reason and the records in the failure; Markdown gathers the records once
    failure = cases["ptr"][1].find("failure")
    assert "other.example.net" in failure.get("message") and f"IN PTR {MX}." in failure.text
    assert markdown.count(f"IN PTR {MX}.") == 1  # in the records block, once
    assert "the audit failed: mx1: queue: 2 messages in the queue" in run.messages, run.messages


def test_self_signed_certificate_is_a_warning_not_a_failure(mx1, dns, mx1_ip, test_ca, quiet_host, tmp_path):
    mx1.check_output(
        f"cd {CA_DIR} && openssl req -x509 -newkey rsa:2048 -nodes -days 200 -subj '/O=selfsigned/CN={MX}'"
        f" -addext 'subjectAltName=DNS:{MX}' -keyout selfsigned.key -out selfsigned.pem 2>/dev/null"
    )
    serve_certificate(mx1, "selfsigned")
    try:
        run = audit(dns.port, mx1_ip, tmp_path)
    finally:
        serve_certificate(mx1, "year")
    _data, checks, _cases, _markdown = reports(tmp_path)
    assert checks["certificate_trust"]["status"] == "warn"
    assert (
        "self-signed" in checks["certificate_trust"]["message"]
        or "self signed" in checks["certificate_trust"]["message"]
    )
    assert checks["certificate"]["status"] == "pass"
    assert run.returncode == 0, run.messages


def test_dns_that_does_not_answer_fails_and_proposes_no_record(mx1, mx1_ip, test_ca, quiet_host, tmp_path):
    silent = BlackHole()
    try:
        run = audit(silent.port, mx1_ip, tmp_path, mailhost_audit_dns_timeout=1)
    finally:
        silent.stop()
    data, checks, _cases, markdown = reports(tmp_path)
    assert run.returncode != 0
    for name in ("mx", "ptr", "spf", "dmarc", f"spf_message ({mx1_ip})"):
        assert checks[name]["status"] == "fail" and "timeout" in checks[name]["message"], (name, checks[name])
    assert [r for c in data["checks"] for r in c["records"]] == []
    assert "Records to publish" not in markdown
    # the host's own checks are still judged
    assert checks["queue"]["status"] == "pass" and checks["certificate"]["status"] == "pass"
