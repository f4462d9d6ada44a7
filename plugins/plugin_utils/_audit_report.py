# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit report: every check of every host, as JSON, JUnit XML and Markdown.

Pure functions over plain data, used by the mailhost_audit_checks filter (one host's checks from
the results of mailhost_audit and mail_dns) and the mailhost_audit_report action (the files),
and unit tested directly. A check is a dict: host, check, subject, status (pass, warn, fail,
skipped), message, evidence and records (zone-file lines to publish, one per line).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from xml.etree import ElementTree

SCHEMA = "mailops.mailhost/audit/v1"
STATUS_ORDER = ("fail", "warn", "skipped", "pass")
HOST_CHECKS = ("queue", "journal", "journal_warnings", "certificate", "certificate_trust", "bans")
DNS_CHECKS = ("mx", "ptr", "spf", "dkim", "dmarc")
MESSAGE_CHECKS = ("spf_message", "dkim_message", "dmarc_message")
STAGE_CHECK = "dmarc_stage"


def check(name: str, status: str, message: str, subject: str = "", evidence=None, records=None) -> dict:
    return {
        "check": name,
        "subject": subject,
        "status": status,
        "message": message,
        "evidence": evidence if evidence is not None else {},
        "records": list(records or []),
    }


def _from_dns(entry: dict) -> dict:
    return check(
        entry.get("check", "dns"),
        entry.get("status", "fail"),
        entry.get("message", ""),
        entry.get("subject", ""),
        {"expected": entry.get("expected"), "found": entry.get("found")},
        entry.get("records_to_publish", []),
    )


def _from_host(entry: dict) -> dict:
    return check(
        entry.get("check", "host"),
        entry.get("status", "fail"),
        entry.get("message", ""),
        entry.get("subject", ""),
        entry.get("evidence", {}),
        entry.get("records", []),
    )


def host_checks(host_result, dns_result=None, dns_skipped: str = "") -> list[dict]:
    """One host's checks from the registered results of mailhost_audit and mail_dns.

    ``dns_skipped`` names what to set when the DNS part did not run for want of variables.
    A host that could not be reached or a module that failed without results is a failed check,
    never a missing one.
    """
    host_result = host_result if isinstance(host_result, dict) else {}
    if host_result.get("unreachable"):
        reason = host_result.get("msg", "the host could not be reached")
        return [check("host", "fail", f"unreachable: {reason}")] + [
            check(name, "skipped", "the host could not be reached") for name in (*DNS_CHECKS, *MESSAGE_CHECKS)
        ]
    if not isinstance(host_result.get("results"), list):
        reason = host_result.get("msg") or ("not run" if not host_result else "no results returned")
        checks = [check("audit", "fail", f"the host checks did not run: {reason}")]
    else:
        checks = [_from_host(entry) for entry in host_result["results"] if isinstance(entry, dict)]
    probe = host_result.get("probe") if isinstance(host_result.get("probe"), dict) else {}
    if dns_skipped:
        return checks + [check(name, "skipped", dns_skipped) for name in (*DNS_CHECKS, *MESSAGE_CHECKS, STAGE_CHECK)]
    dns_result = dns_result if isinstance(dns_result, dict) else {}
    if dns_result.get("skipped") or not dns_result:
        reason = dns_result.get("skip_reason") or "the DNS checks did not run"
        return checks + [check(name, "skipped", reason) for name in (*DNS_CHECKS, *MESSAGE_CHECKS, STAGE_CHECK)]
    if not isinstance(dns_result.get("results"), list):
        return checks + [check("dns", "fail", f"the DNS checks did not run: {dns_result.get('msg', 'no results')}")]
    found = [_from_dns(entry) for entry in dns_result["results"] if isinstance(entry, dict)]
    names = {c["check"] for c in found}
    for name in MESSAGE_CHECKS:
        if name in names:
            continue
        if probe.get("problem"):
            found.append(check(name, "fail", f"no message to judge: {probe['problem']}", evidence={"probe": probe}))
        elif probe.get("skipped"):
            found.append(check(name, "skipped", probe["skipped"]))
        else:
            found.append(check(name, "skipped", "no probe message was sent"))
    return checks + found


def build(per_host: dict[str, list[dict]], started: datetime, finished: datetime) -> dict:
    """The whole report: every check of every host, with the counts."""
    checks = []
    for host in sorted(per_host):
        for entry in per_host[host]:
            checks.append(dict(entry, host=host))
    counts = {status: sum(1 for c in checks if c["status"] == status) for status in STATUS_ORDER}
    return {
        "schema": SCHEMA,
        "started": started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished": finished.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hosts": sorted(per_host),
        "counts": counts,
        "failed": counts["fail"] > 0,
        "checks": checks,
    }


def as_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False, default=str) + "\n"


def testcase_name(entry: dict) -> str:
    return f"{entry['check']} ({entry['subject']})" if entry.get("subject") else entry["check"]


def _details(entry: dict) -> str:
    parts = [entry["message"]]
    if entry.get("evidence"):
        parts.append("evidence: " + json.dumps(entry["evidence"], sort_keys=True, default=str))
    if entry.get("records"):
        parts.append("records to publish:\n" + "\n".join(entry["records"]))
    return "\n".join(parts)


def as_junit(report: dict) -> str:
    """JUnit XML: a testsuite per host, a testcase per check; fail is a failure, skipped is skipped, warn is
    reported in the testcase's system-out (and counted in the suite's 'warnings' property)."""
    root = ElementTree.Element(
        "testsuites",
        {
            "name": "mailhost-audit",
            "tests": str(len(report["checks"])),
            "failures": str(report["counts"]["fail"]),
            "errors": "0",
            "skipped": str(report["counts"]["skipped"]),
            "time": "0",
            "timestamp": report["finished"],
        },
    )
    for host in report["hosts"]:
        entries = [c for c in report["checks"] if c["host"] == host]
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            {
                "name": host,
                "tests": str(len(entries)),
                "failures": str(sum(1 for c in entries if c["status"] == "fail")),
                "errors": "0",
                "skipped": str(sum(1 for c in entries if c["status"] == "skipped")),
                "time": "0",
                "timestamp": report["finished"],
                "hostname": host,
            },
        )
        properties = ElementTree.SubElement(suite, "properties")
        warnings = sum(1 for c in entries if c["status"] == "warn")
        ElementTree.SubElement(properties, "property", {"name": "warnings", "value": str(warnings)})
        for entry in entries:
            case = ElementTree.SubElement(
                suite, "testcase", {"name": testcase_name(entry), "classname": f"mailhost-audit.{host}", "time": "0"}
            )
            if entry["status"] == "fail":
                failure = ElementTree.SubElement(case, "failure", {"message": entry["message"], "type": "fail"})
                failure.text = _details(entry)
            elif entry["status"] == "skipped":
                ElementTree.SubElement(case, "skipped", {"message": entry["message"]})
            out = ElementTree.SubElement(case, "system-out")
            out.text = ("WARNING: " if entry["status"] == "warn" else f"{entry['status'].upper()}: ") + _details(entry)
        ElementTree.SubElement(suite, "system-out").text = ""
        ElementTree.SubElement(suite, "system-err").text = ""
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def as_markdown(report: dict) -> str:
    counts = report["counts"]
    lines = [
        "# Mail host audit",
        "",
        f"{report['finished']}: {len(report['hosts'])} host(s), {counts['fail']} failed, {counts['warn']} warning(s),"
        f" {counts['skipped']} skipped, {counts['pass']} passed.",
        "",
    ]
    for host in report["hosts"]:
        entries = [c for c in report["checks"] if c["host"] == host]
        entries.sort(key=lambda c: STATUS_ORDER.index(c["status"]) if c["status"] in STATUS_ORDER else 0)
        failed = sum(1 for c in entries if c["status"] == "fail")
        warned = sum(1 for c in entries if c["status"] == "warn")
        lines += [
            f"## {host}: {failed} failed, {warned} warning(s)",
            "",
            "| Status | Check | Message |",
            "|---|---|---|",
        ]
        for entry in entries:
            lines.append(f"| {entry['status'].upper()} | {_cell(testcase_name(entry))} | {_cell(entry['message'])} |")
        records = []
        for entry in entries:
            for record in entry.get("records", []):
                if record not in records:
                    records.append(record)
        if records:
            lines += ["", "Records to publish (zone-file lines):", "", "```", *records, "```"]
        lines.append("")
    return "\n".join(lines)
