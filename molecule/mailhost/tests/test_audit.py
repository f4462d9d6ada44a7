"""The daily checklist (playbooks/audit.yml) against mx1, with DNS served by a real Knot server."""

from __future__ import annotations

import os

import pytest
from conftest_common import container_ip, run_playbook
from knot import Knot, soa

AUDIT = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "audit.yml")


@pytest.fixture(scope="module")
def mx1_ip():
    return container_ip("mx1")


@pytest.fixture(scope="module")
def dns(mx1_ip):
    a, b, c, d = mx1_ip.split(".")
    reverse = f"{c}.{b}.{a}.in-addr.arpa"
    zones = {
        "example.test": soa("example.test")
        + "example.test. 60 IN MX 10 mx1.example.test.\n"
        + f"mx1.example.test. 60 IN A {mx1_ip}\n"
        + f'example.test. 60 IN TXT "v=spf1 ip4:{mx1_ip} -all"\n'
        + '_dmarc.example.test. 60 IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"\n',
        reverse: soa(reverse) + f"{d}.{reverse}. 60 IN PTR mx1.example.test.\n",
    }
    server = Knot(zones)
    yield server
    server.stop()


def audit(dns, mx1_ip, **extra):
    variables = {
        "mailhost_domain": "example.test",
        "mailhost_public_addresses": [mx1_ip],
        "mailhost_dmarc_policy": "quarantine",
        "mailhost_audit_nameservers": ["127.0.0.1"],
        "mailhost_audit_dns_port": dns.port,
        **extra,
    }
    return run_playbook(AUDIT, variables, limit="mx1")


def test_checklist_passes_on_a_healthy_host(mx1, dns, mx1_ip):
    mx1.run("postsuper -d ALL")
    run = audit(dns, mx1_ip, mailhost_audit_hours=0)
    assert run.returncode == 0, run.messages or run.output[-3000:]
    assert run.changed("mx1") == 0


def test_checklist_names_what_failed_and_what_to_publish(mx1, dns, mx1_ip):
    run = audit(
        dns, mx1_ip, mailhost_dmarc_policy="reject", mailhost_audit_min_certificate_days=4000, mailhost_audit_hours=0
    )
    assert run.returncode != 0
    assert "FAIL | dmarc | policy p=quarantine is behind the expected stage p=reject" in run.messages
    assert "FAIL | certificate | the served certificate (CN = mx1.example.test) expires in" in run.messages
    assert "PASS | ptr" in run.messages and "PASS | queue" in run.messages
    assert '_dmarc.example.test. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:postmaster@example.test"' in run.messages
