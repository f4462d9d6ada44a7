"""mail_dns against a real authoritative server (Knot DNS): one zone per case.

Each case asserts the exact status of the exact check, then publishes the module's
records_to_publish into the zone as an administrator would, reloads the server and
asserts that the check now passes.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from knot import BlackHole, Knot, soa

from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import txt_rdata
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_resolver import DnsLookup
from ansible_collections.mailops.mailhost.plugins.module_utils._mail_dns import first_queries, run_checks

REVERSE = "2.0.192.in-addr.arpa"
CHECKS = ("mx", "a", "ptr", "spf", "dkim", "dmarc")

# case -> (check, expected status, zone changes); None removes a record.
CASES = {
    "good": (None, "pass", {}),
    "twospf": ("spf", "fail", {("@", "TXT"): ['"v=spf1 mx -all"', '"v=spf1 ip4:192.0.2.0/24 -all"']}),
    "lookups": ("spf", "fail", {("@", "TXT"): ['"v=spf1 include:i1.{zone} -all"']}),
    "plusall": ("spf", "fail", {("@", "TXT"): ['"v=spf1 mx +all"']}),
    "unauth": ("spf", "fail", {("@", "TXT"): ['"v=spf1 ip4:198.51.100.0/24 -all"']}),
    "dkimother": ("dkim", "fail", {("sel._domainkey", "TXT"): ["{other_key_record}"]}),
    "dkimshort": ("dkim", "fail", {("sel._domainkey", "TXT"): ["{short_key_record}"]}),
    "noptr": ("ptr", "fail", {}),
    "ptrother": ("ptr", "fail", {}),
    "mxcname": ("mx", "fail", {("@", "MX"): ["10 mail.{zone}."], ("mail", "CNAME"): ["mx.{zone}."]}),
    "dmarcnone": ("dmarc", "fail", {("_dmarc", "TXT"): ['"v=DMARC1; p=none; rua=mailto:d@{zone}"']}),
    "dmarcnov": ("dmarc", "fail", {("_dmarc", "TXT"): ['"p=quarantine; v=DMARC1"']}),
    "dmarctwo": ("dmarc", "fail", {("_dmarc", "TXT"): ['"v=DMARC1; p=reject"', '"v=DMARC1; p=quarantine"']}),
}


def host_ip(index: int) -> str:
    return f"192.0.2.{10 + index}"


def mail_zone(case: str, index: int, keys: dict) -> str:
    zone = f"{case}.test"
    local = txt_rdata(f"v=DKIM1; k=rsa; p={keys['local']}")  # split over several strings: must pass
    records = {
        ("@", "MX"): ["10 mx.{zone}."],
        ("mx", "A"): [host_ip(index)],
        ("@", "TXT"): ['"v=spf1 mx -all"'],
        ("sel._domainkey", "TXT"): [local],
        ("_dmarc", "TXT"): ['"v=DMARC1; p=quarantine; rua=mailto:dmarc@{zone}"'],
    }
    records.update(CASES[case][2])
    if case == "lookups":
        for n in range(1, 12):
            target = f'"v=spf1 include:i{n + 1}.{{zone}} -all"' if n < 11 else f'"v=spf1 ip4:{host_ip(index)} -all"'
            records[(f"i{n}", "TXT")] = [target]
    subst = {
        "zone": zone,
        "other_key_record": txt_rdata(f"v=DKIM1; k=rsa; p={keys['other']}"),
        "short_key_record": txt_rdata(f"v=DKIM1; k=rsa; p={keys['short']}"),
    }
    lines = [soa(zone)]
    for (owner, rdtype), values in records.items():
        name = f"{zone}." if owner == "@" else f"{owner}.{zone}."
        for value in values or []:
            lines.append(f"{name} 60 IN {rdtype} {value.format(**subst)}")
    return "\n".join(lines) + "\n"


def reverse_zone() -> str:
    lines = [soa(REVERSE)]
    for index, case in enumerate(CASES):
        if case == "noptr":
            continue
        target = f"web.{case}.test." if case == "ptrother" else f"mx.{case}.test."
        lines.append(f"{10 + index}.{REVERSE}. 60 IN PTR {target}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def knot(keys):
    zones = {f"{case}.test": mail_zone(case, i, keys) for i, case in enumerate(CASES)}
    zones[REVERSE] = reverse_zone()
    zones["broken.test"] = "this is not a zone file\n"
    server = Knot(zones)
    yield server
    server.stop()


def check(server_port: int, case: str, keys: dict, checks=CHECKS, **kw) -> dict:
    index = list(CASES).index(case) if case in CASES else 0
    domain = f"{case}.test"
    lookup = DnsLookup(["127.0.0.1"], server_port, timeout=kw.pop("timeout", 2.0), retries=0)
    lookup.prefetch(first_queries(domain, f"mx.{domain}", [host_ip(index)], checks, "sel"))
    return run_checks(
        lookup,
        domain,
        f"mx.{domain}",
        [host_ip(index)],
        checks=checks,
        dkim_public_key=keys["local"],
        dmarc_policy="quarantine",
        **{"dkim_selector": "sel", **kw},
    )


def by_check(outcome: dict) -> dict:
    return {r["check"]: r for r in outcome["results"]}


def test_correct_zone_passes_including_split_dkim_record(knot, keys):
    outcome = check(knot.port, "good", keys)
    assert {c: r["status"] for c, r in by_check(outcome).items()} == dict.fromkeys(CHECKS, "pass"), outcome
    assert outcome["records_to_publish"] == []


@pytest.mark.parametrize("case", [c for c in CASES if c != "good"])
def test_broken_case_fails_exact_check_and_published_records_fix_it(knot, keys, case):
    target, expected, _changes = CASES[case]
    outcome = check(knot.port, case, keys)
    results = by_check(outcome)
    assert results[target]["status"] == expected, results[target]
    others = {c: r["status"] for c, r in results.items() if c != target}
    assert set(others.values()) == {"pass"}, others
    assert outcome["failed"] and outcome["failed_checks"] == [target]
    assert results[target]["records_to_publish"] == outcome["records_to_publish"]
    knot.publish(outcome["records_to_publish"])
    fixed = by_check(check(knot.port, case, keys))
    assert fixed[target]["status"] == "pass", fixed[target]


def test_servfail_is_reported_and_never_passes(knot, keys):
    outcome = check(knot.port, "broken", keys, checks=["mx", "dmarc"])
    for result in outcome["results"]:
        assert result["status"] == "fail" and "SERVFAIL" in result["message"], result


def test_unknown_zone_is_refused_not_nxdomain(knot, keys):
    outcome = check(knot.port, "nowhere", keys, checks=["mx"])
    assert "REFUSED" in outcome["results"][0]["message"]


def test_nxdomain_is_told_apart(knot, keys):
    outcome = check(knot.port, "good", keys, checks=["dkim"], dkim_selector="missing")
    # the selector name does not exist in an existing zone
    assert outcome["results"][0]["status"] == "fail" and "NXDOMAIN" in outcome["results"][0]["message"]


def test_server_that_does_not_answer_times_out(keys):
    hole = BlackHole()
    try:
        outcome = check(hole.port, "good", keys, checks=["mx", "spf"], timeout=0.5)
    finally:
        hole.stop()
    for result in outcome["results"]:
        assert result["status"] == "fail" and "timeout" in result["message"], result


def _module(args: dict) -> tuple[int, dict]:
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    run = subprocess.run(
        ["ansible", "localhost", "-m", "mailops.mailhost.mail_dns", "-a", json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    data = json.loads(run.stdout)
    return run.returncode, data["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_module_end_to_end_pass_and_fail_with_all_results(knot, keys, tmp_path):
    key_file = tmp_path / "sel.txt"
    key_file.write_text(f'sel._domainkey IN TXT ( "v=DKIM1; h=sha256; k=rsa; "\n "p={keys["local"]}" )\n')
    base = {
        "hostname": "mx.good.test",
        "addresses": [host_ip(0)],
        "nameservers": ["127.0.0.1"],
        "port": knot.port,
        "dkim_selector": "sel",
        "dkim_public_key_file": str(key_file),
        "dmarc_policy": "quarantine",
    }
    rc, result = _module({"domain": "good.test", **base})
    assert rc == 0 and not result.get("failed"), result
    assert [r["status"] for r in result["results"]] == ["pass"] * 6
    rc, result = _module({**base, "domain": "good.test", "dmarc_policy": "reject"})
    assert rc != 0 and result["failed"]
    assert result["failed_checks"] == ["dmarc"] and len(result["results"]) == 6
    assert "behind the expected stage p=reject" in result["msg"]
    assert result["records_to_publish"] == [
        '_dmarc.good.test. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"'
    ]


def test_module_refuses_bad_input_plainly():
    args = {"domain": "good.test", "hostname": "mx.good.test", "addresses": ["192.0.2.300"], "checks": ["a"]}
    rc, result = _module(args)
    assert rc != 0 and "addresses: '192.0.2.300' is not an IPv4 or IPv6 address" in result["msg"]
