"""The mail_dns module shell: input checks and the pass/fail contract, with the resolver faked."""

from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import Answer
from ansible_collections.mailops.mailhost.plugins.modules import mail_dns


class FakeLookup:
    def __init__(self, *args, **kwargs):
        self.zone = {
            ("example.com", "MX"): ["10 mx1.example.com."],
            ("mx1.example.com", "A"): ["192.0.2.10"],
            ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=none"],
        }

    def __call__(self, name, rdtype):
        records = self.zone.get((name.rstrip(".").lower(), rdtype))
        return Answer("ok", records) if records else Answer("nxdomain")

    def prefetch(self, queries, workers=16):
        for query in queries:
            self(*query)


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    monkeypatch.setattr(mail_dns, "DnsLookup", FakeLookup)


BASE = {"domain": "example.com", "hostname": "mx1.example.com", "addresses": ["192.0.2.10"]}


def test_passing_checks_exit_ok_with_warnings_kept(run_module):
    out = run_module(mail_dns, {**BASE, "checks": ["mx", "a", "dmarc"]})
    assert not out.failed, out.result
    assert [r["status"] for r in out.result["results"]] == ["pass", "pass", "warn"]


def test_strict_fails_on_the_warning_and_returns_every_result(run_module):
    out = run_module(mail_dns, {**BASE, "checks": ["mx", "a", "dmarc"], "strict": True})
    assert out.failed and out.result["failed_checks"] == ["dmarc"] and len(out.result["results"]) == 3
    assert out.result["records_to_publish"][0].startswith("_dmarc.example.com. 3600 IN TXT")


@pytest.mark.parametrize(
    "args,message",
    [
        ({"domain": "example.com", "checks": ["mx"]}, "hostname is required"),
        ({"domain": "example.com", "hostname": "mx1.example.com", "checks": ["ptr"]}, "addresses is required"),
        ({**BASE, "checks": ["dkim"]}, "dkim_selector (or dkim_keys) is required"),
        ({**BASE, "addresses": ["mx1"], "checks": ["a"]}, "addresses: 'mx1' is not an IPv4 or IPv6 address"),
        (
            {**BASE, "checks": ["dkim"], "dkim_selector": "s", "dkim_public_key_file": "/nonexistent"},
            "dkim_public_key_file",
        ),
    ],
)
def test_bad_input_named(run_module, args, message):
    out = run_module(mail_dns, args)
    assert out.failed and message in out.result["msg"]
