"""Unit tests for plugins/plugin_utils/_audit_report.py: one host's checks, and the three report files."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from xml.etree import ElementTree

from ansible_collections.mailops.mailhost.plugins.plugin_utils import _audit_report as ar

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 12, 1, 6, 1, tzinfo=timezone.utc)

HOST_RESULT = {
    "results": [
        {"check": "queue", "status": "pass", "message": "3 messages", "evidence": {"messages": 3}},
        {"check": "certificate", "status": "fail", "message": "expires in 5 days", "evidence": {"days": 5}},
        {"check": "certificate_trust", "status": "warn", "message": "self-signed | untrusted", "evidence": {}},
    ],
    "probe": {"sender": "mailhost-probe@example.com", "message": "..."},
}
DNS_RESULT = {
    "results": [
        {
            "check": "ptr",
            "subject": "192.0.2.10",
            "status": "fail",
            "message": "PTR is other.example.net",
            "expected": "mx1.example.com",
            "found": ["other.example.net"],
            "records_to_publish": ["10.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com."],
        },
        {"check": "dkim_message", "status": "pass", "message": "verifies", "subject": "example.com"},
    ]
}


def checks():
    return ar.host_checks(HOST_RESULT, DNS_RESULT)


def test_host_checks_keep_every_check_and_add_the_missing_message_checks():
    found = {(c["check"], c["subject"]): c for c in checks()}
    assert found[("ptr", "192.0.2.10")]["records"] == ["10.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com."]
    assert found[("ptr", "192.0.2.10")]["evidence"] == {"expected": "mx1.example.com", "found": ["other.example.net"]}
    # spf_message and dmarc_message did not come back: reported as skipped, not left out
    assert found[("spf_message", "")]["status"] == "skipped"
    assert found[("dmarc_message", "")]["status"] == "skipped"


def test_unreachable_host_and_crashed_module_are_failures_not_gaps():
    unreachable = ar.host_checks({"unreachable": True, "msg": "ssh: connect refused"})
    assert unreachable[0] == ar.check("host", "fail", "unreachable: ssh: connect refused")
    assert {c["status"] for c in unreachable[1:]} == {"skipped"}
    crashed = ar.host_checks({"failed": True, "msg": "MODULE FAILURE"}, DNS_RESULT)
    assert (
        crashed[0]["check"] == "audit" and crashed[0]["status"] == "fail" and "MODULE FAILURE" in crashed[0]["message"]
    )


def test_probe_problem_fails_the_message_checks_and_missing_variables_skip_dns():
    result = dict(HOST_RESULT, probe={"problem": "the probe message was not accepted: 554 5.7.1"})
    found = ar.host_checks(result, {"results": []})
    message_checks = [c for c in found if c["check"] in ar.MESSAGE_CHECKS]
    assert [c["status"] for c in message_checks] == ["fail", "fail", "fail"]
    assert "554 5.7.1" in message_checks[0]["message"]
    skipped = ar.host_checks(HOST_RESULT, None, dns_skipped="set mailhost_domain to check DNS")
    dns = [c for c in skipped if c["check"] in (*ar.DNS_CHECKS, ar.STAGE_CHECK)]
    assert dns and all(c["status"] == "skipped" and "mailhost_domain" in c["message"] for c in dns)


def test_json_counts_and_failed_flag():
    report = ar.build({"mx2": [ar.check("queue", "pass", "ok")], "mx1": checks()}, T0, T1)
    data = json.loads(ar.as_json(report))
    assert data["schema"] == "mailops.mailhost/audit/v1"
    assert data["hosts"] == ["mx1", "mx2"]
    assert data["started"] == "2026-12-01T06:00:00Z" and data["finished"] == "2026-12-01T06:01:00Z"
    assert data["counts"] == {"fail": 2, "warn": 1, "skipped": 2, "pass": 3}
    assert data["failed"] is True
    assert all(c["host"] in ("mx1", "mx2") for c in data["checks"])


def test_junit_agrees_with_json():
    report = ar.build({"mx1": checks(), "mx2": [ar.check("queue", "pass", "ok")]}, T0, T1)
    root = ElementTree.fromstring(ar.as_junit(report))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "2", "2")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["mx1", "mx2"]
    mx1 = suites["mx1"]
    cases = {c.get("name"): c for c in mx1.findall("testcase")}
    assert int(mx1.get("tests")) == len(cases) == 7
    assert int(mx1.get("failures")) == sum(1 for c in cases.values() if c.find("failure") is not None) == 2
    assert int(mx1.get("skipped")) == sum(1 for c in cases.values() if c.find("skipped") is not None) == 2
    failure = cases["ptr (192.0.2.10)"].find("failure")
    assert failure.get("message") == "PTR is other.example.net"
    assert "10.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com." in failure.text
    assert cases["certificate_trust"].find("system-out").text.startswith("WARNING: self-signed | untrusted")
    assert mx1.find("properties/property[@name='warnings']").get("value") == "1"
    # the order JUnit readers expect: properties first, testcases, then the suite's system-out/err
    assert [child.tag for child in mx1][0] == "properties" and [child.tag for child in mx1][-2:] == [
        "system-out",
        "system-err",
    ]


def test_markdown_lists_failures_first_escapes_cells_and_gathers_records():
    text = ar.as_markdown(ar.build({"mx1": checks()}, T0, T1))
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| Status")]
    assert [row.split(" | ")[0] for row in table] == [
        "| FAIL",
        "| FAIL",
        "| WARN",
        "| SKIPPED",
        "| SKIPPED",
        "| PASS",
        "| PASS",
    ]
    assert "self-signed \\| untrusted" in text
    assert "```\n10.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com.\n```" in text
    assert "## mx1: 2 failed, 1 warning(s)" in text
