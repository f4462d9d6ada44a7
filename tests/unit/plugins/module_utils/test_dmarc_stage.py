"""Unit tests of the guarded DMARC rollout (_dmarc.check_dmarc_stage) and the aggregate reports it reads."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _dmarc, _dmarc_reports
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import Answer, Result

DOMAIN = "example.com"
NOW = 1_790_000_000.0


def lookup_with(record: str | None, error: str | None = None):
    def lookup(name, rdtype):
        assert (name.rstrip("."), rdtype) == ("_dmarc.example.com", "TXT")
        if error:
            return Answer(error)
        return Answer("ok", [record]) if record else Answer("nxdomain")

    return lookup


PASS = [Result("dmarc_message", "pass", "pass, aligned", {}, "DMARC pass", subject="192.0.2.10")]
FAIL = [
    Result("dmarc_message", "fail", "pass, aligned", {}, "DMARC fail: no DKIM signature verifies", subject="192.0.2.10")
]


def test_next_stage_recommended_when_the_proof_passes():
    lookup = lookup_with("v=DMARC1; p=none; rua=mailto:dmarc@example.com; pct=50")
    result = _dmarc.check_dmarc_stage(lookup, DOMAIN, "reject", PASS)
    assert result.status == "fail"
    assert "publish the next stage, p=quarantine" in result.message
    # one stage at a time, the rua kept, pct dropped
    assert result.publish == ['_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"']


def test_quarantine_refused_while_alignment_fails():
    result = _dmarc.check_dmarc_stage(lookup_with("v=DMARC1; p=none"), DOMAIN, "quarantine", FAIL)
    assert result.status == "fail"
    assert "refusing to recommend p=quarantine" in result.message and "no DKIM signature verifies" in result.message
    assert result.publish == []


def test_published_enforcement_with_failing_mail_goes_back_to_none():
    result = _dmarc.check_dmarc_stage(
        lookup_with("v=DMARC1; p=reject; rua=mailto:d@example.com"), DOMAIN, "reject", FAIL
    )
    assert result.status == "fail" and "receivers reject it" in result.message
    assert result.publish[-1] == '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com"'


def test_reports_below_the_share_refuse_and_above_allow():
    low = {"messages": 200, "aligned": 150, "share": 75.0, "days": 14, "directory": "/r", "problems": []}
    refused = _dmarc.check_dmarc_stage(lookup_with("v=DMARC1; p=none"), DOMAIN, "quarantine", PASS, low, 98)
    assert refused.status == "fail" and "only 75% of 200 messages" in refused.message and "needs 98%" in refused.message
    high = dict(low, aligned=199, share=99.5)
    allowed = _dmarc.check_dmarc_stage(lookup_with("v=DMARC1; p=none"), DOMAIN, "quarantine", PASS, high, 98)
    assert allowed.status == "fail" and allowed.publish[0].startswith(
        '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine'
    )
    none = dict(low, messages=0, aligned=0, share=None)
    assert (
        "no aggregate report"
        in _dmarc.check_dmarc_stage(lookup_with("v=DMARC1; p=none"), DOMAIN, "quarantine", PASS, none).message
    )


@pytest.mark.parametrize(
    "record,asked,status",
    [
        ("v=DMARC1; p=quarantine", "quarantine", "pass"),
        ("v=DMARC1; p=reject", "quarantine", "warn"),
        (None, "none", "fail"),
    ],
)
def test_published_against_asked(record, asked, status):
    result = _dmarc.check_dmarc_stage(lookup_with(record), DOMAIN, asked, PASS)
    assert result.status == status


def test_unknown_stage_on_dns_error_publishes_nothing():
    result = _dmarc.check_dmarc_stage(lookup_with(None, "timeout"), DOMAIN, "quarantine", PASS)
    assert result.status == "fail" and "unknown" in result.message and result.publish == []


def test_no_probe_is_skipped():
    assert _dmarc.check_dmarc_stage(lookup_with("v=DMARC1; p=none"), DOMAIN, "quarantine", None).status == "skipped"


def report_xml(
    report_id: str, end: float, rows: list[tuple[str, int, str, str, str]], org: str = "receiver.example"
) -> bytes:
    records = "".join(
        f"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>"
        f"<disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>"
        f"<identifiers><header_from>{header_from}</header_from></identifiers></record>"
        for ip, count, dkim, spf, header_from in rows
    )
    return (
        '<?xml version="1.0"?><feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">'
        f"<report_metadata><org_name>{org}</org_name>"
        f"<report_id>{report_id}</report_id><date_range><begin>{int(end) - 86400}</begin><end>{int(end)}</end>"
        f"</date_range></report_metadata><policy_published><domain>{DOMAIN}</domain><p>none</p></policy_published>"
        f"{records}</feedback>"
    ).encode()


def test_reports_summarized_over_xml_gz_and_zip(tmp_path):
    (tmp_path / "a.xml").write_bytes(report_xml("1", NOW - 3600, [("192.0.2.10", 90, "pass", "fail", DOMAIN)]))
    (tmp_path / "b.xml.gz").write_bytes(
        gzip.compress(
            report_xml(
                "2",
                NOW - 7200,
                [("203.0.113.5", 10, "fail", "fail", DOMAIN), ("192.0.2.10", 5, "pass", "pass", "other.example")],
            )
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("c.xml", report_xml("3", NOW - 60, [("192.0.2.10", 100, "fail", "pass", DOMAIN)]))
    (tmp_path / "c.zip").write_bytes(buffer.getvalue())
    # the same report twice (a re-sent file) counts once; an old one does not count
    (tmp_path / "d.xml").write_bytes(report_xml("1", NOW - 3600, [("192.0.2.10", 90, "pass", "fail", DOMAIN)]))
    (tmp_path / "old.xml").write_bytes(
        report_xml("9", NOW - 30 * 86400, [("198.51.100.1", 1000, "fail", "fail", DOMAIN)])
    )
    (tmp_path / "junk.xml").write_bytes(b"<html>not a report</html>")
    summary = _dmarc_reports.summarize(str(tmp_path), DOMAIN, 14, NOW)
    assert (summary["reports"], summary["messages"], summary["aligned"]) == (3, 200, 190)
    assert summary["share"] == 95.0
    assert summary["failing_sources"] == {"203.0.113.5": 10}
    assert len(summary["problems"]) == 1 and "junk.xml" in summary["problems"][0]


def test_reports_directory_missing_is_a_problem(tmp_path):
    summary = _dmarc_reports.summarize(str(tmp_path / "none"), DOMAIN, 14, NOW)
    assert summary["messages"] == 0 and "cannot read" in summary["problems"][0]
