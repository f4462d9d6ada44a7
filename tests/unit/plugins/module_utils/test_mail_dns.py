"""Unit tests for the mail DNS checks (plugins/module_utils/_mail_dns.py) against a fake resolver."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailops.mailhost.plugins.module_utils import _dkim, _dns_answer, _spf
from ansible_collections.mailops.mailhost.plugins.module_utils import _mail_dns as md

IP = "192.0.2.10"
IP6 = "2001:db8::10"
HOST = "mx1.example.com"
DOMAIN = "example.com"


def public_key_b64(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


KEY2048 = public_key_b64(2048)
KEY1024 = public_key_b64(1024)


class FakeDns:
    def __init__(self, records: dict):
        self.records = {}
        for (name, rdtype), value in records.items():
            self.records[(name.rstrip(".").lower(), rdtype)] = value
        self.queries = []

    def __call__(self, name, rdtype):
        key = (name.rstrip(".").lower(), rdtype)
        self.queries.append(key)
        value = self.records.get(key)
        if isinstance(value, _dns_answer.Answer):
            return value
        if value is None:
            known = any(n == key[0] for n, _t in self.records)
            return _dns_answer.Answer("nodata" if known else "nxdomain")
        return _dns_answer.Answer("ok", list(value))


def good_zone(overrides=None):
    zone = {
        (DOMAIN, "MX"): ["10 mx1.example.com."],
        (HOST, "A"): [IP],
        (HOST, "AAAA"): [IP6],
        ("10.2.0.192.in-addr.arpa", "PTR"): ["mx1.example.com."],
        (_dns_answer.reverse_name(IP6), "PTR"): ["mx1.example.com."],
        (DOMAIN, "TXT"): ["v=spf1 mx -all", "google-site-verification=abc"],
        (f"mail._domainkey.{DOMAIN}", "TXT"): [f"v=DKIM1; k=rsa; p={KEY2048}"],
        (f"_dmarc.{DOMAIN}", "TXT"): ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"],
    }
    zone.update(overrides or {})
    return FakeDns(zone)


def run(dns, **kw):
    args = {
        "domain": DOMAIN,
        "hostname": HOST,
        "addresses": [IP, IP6],
        "checks": ["mx", "a", "aaaa", "ptr", "spf", "dkim", "dmarc"],
        "dkim_selector": "mail",
        "dkim_public_key": KEY2048,
        "dmarc_policy": "quarantine",
    }
    args.update(kw)
    return md.run_checks(dns, **args)


def status(outcome, check):
    return next(r for r in outcome["results"] if r["check"] == check)


def test_correct_zone_passes_every_check():
    outcome = run(good_zone())
    assert [r["status"] for r in outcome["results"]] == ["pass"] * 7, outcome
    assert outcome["records_to_publish"] == [] and not outcome["failed"]


# --- MX / A / PTR -------------------------------------------------------------------


def test_mx_cname_and_ip_targets_fail():
    dns = good_zone(
        {
            (DOMAIN, "MX"): ["10 mail.example.com.", "20 192.0.2.99."],
            ("mail.example.com", "CNAME"): ["mx1.example.com."],
        }
    )
    r = status(run(dns, checks=["mx"]), "mx")
    assert r["status"] == "fail"
    assert "mail.example.com is a CNAME" in r["message"] and "192.0.2.99 is an IP address" in r["message"]
    assert r["records_to_publish"] == ["example.com. 3600 IN MX 10 mx1.example.com."]


def test_mx_missing_host():
    r = status(run(good_zone({(DOMAIN, "MX"): ["10 other.example.net."]}), checks=["mx"]), "mx")
    assert r["status"] == "fail" and "mx1.example.com is not among the MX targets" in r["message"]


def test_a_record_extra_and_missing_addresses():
    r = status(run(good_zone({(HOST, "A"): ["192.0.2.11"]}), checks=["a"]), "a")
    assert r["status"] == "fail" and "missing 192.0.2.10" in r["message"] and "unexpected 192.0.2.11" in r["message"]
    assert r["records_to_publish"] == ["mx1.example.com. 3600 IN A 192.0.2.10"]


def test_ptr_missing_naming_other_host_and_not_forward_confirmed():
    r = status(run(good_zone({("10.2.0.192.in-addr.arpa", "PTR"): None}), checks=["ptr"]), "ptr")
    assert r["status"] == "fail" and "10.2.0.192.in-addr.arpa" in r["message"]
    assert "10.2.0.192.in-addr.arpa. 3600 IN PTR mx1.example.com." in r["records_to_publish"]
    r = status(run(good_zone({("10.2.0.192.in-addr.arpa", "PTR"): ["web.example.com."]}), checks=["ptr"]), "ptr")
    assert r["status"] == "fail" and "names web.example.com, not mx1.example.com" in r["message"]
    r = status(run(good_zone({(HOST, "A"): ["192.0.2.77"]}), checks=["ptr"]), "ptr")
    assert r["status"] == "fail" and "does not resolve back" in r["message"]


# --- SPF -----------------------------------------------------------------------------


def test_spf_two_records_fail_with_one_merged_record_to_publish():
    r = status(
        run(good_zone({(DOMAIN, "TXT"): ["v=spf1 mx -all", "v=spf1 ip4:192.0.2.0/24 -all"]}), checks=["spf"]), "spf"
    )
    assert r["status"] == "fail" and "2 SPF records" in r["message"]
    assert r["records_to_publish"][1] == 'example.com. 3600 IN TXT "v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::10 -all"'


def test_spf_plus_all_fails_question_all_warns_no_all_warns():
    assert status(run(good_zone({(DOMAIN, "TXT"): ["v=spf1 mx +all"]}), checks=["spf"]), "spf")["status"] == "fail"
    r = status(run(good_zone({(DOMAIN, "TXT"): ["v=spf1 ip4:198.51.100.1 ?all"]}), checks=["spf"]), "spf")
    assert r["status"] == "fail" and "(neutral)" in r["message"]  # ?all: the host is only neutral
    r = status(
        run(good_zone({(DOMAIN, "TXT"): ["v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::10 ?all"]}), checks=["spf"]), "spf"
    )
    assert r["status"] == "warn" and "?all" in r["message"]
    r = status(run(good_zone({(DOMAIN, "TXT"): ["v=spf1 ip4:192.0.2.10 ip6:2001:db8::10"]}), checks=["spf"]), "spf")
    assert r["status"] == "warn" and "no 'all' term" in r["message"]


def test_spf_host_not_authorised_is_fixed_by_published_record():
    dns = good_zone({(DOMAIN, "TXT"): ["v=spf1 ip4:198.51.100.0/24 ~all"]})
    r = status(run(dns, checks=["spf"]), "spf")
    assert r["status"] == "fail" and "192.0.2.10 (softfail)" in r["message"]
    line = r["records_to_publish"][0]
    assert line == 'example.com. 3600 IN TXT "v=spf1 ip4:198.51.100.0/24 ip4:192.0.2.10 ip6:2001:db8::10 ~all"'
    fixed = good_zone({(DOMAIN, "TXT"): [line.split('"')[1]]})
    assert status(run(fixed, checks=["spf"]), "spf")["status"] == "pass"


def test_spf_nested_includes_count_lookups_and_redirect_evaluates():
    zone = {(f"i{n}.example.net", "TXT"): [f"v=spf1 include:i{n + 1}.example.net -all"] for n in range(1, 11)}
    zone[("i11.example.net", "TXT")] = ["v=spf1 ip4:192.0.2.10 -all"]
    zone[(DOMAIN, "TXT")] = ["v=spf1 include:i1.example.net -all"]
    r = status(run(good_zone(zone), checks=["spf"], addresses=[IP]), "spf")
    assert r["status"] == "fail" and "11 DNS-querying terms" in r["message"]
    # Past the limit, receivers stop with a permanent error (RFC 7208 4.6.4), so the host is not authorised.
    assert r["found"]["lookups"] == 11 and r["found"]["results"][IP] == "permerror"
    assert r["records_to_publish"][1] == 'example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 -all"'
    redirect = good_zone(
        {
            (DOMAIN, "TXT"): ["v=spf1 redirect=_spf.example.com"],
            ("_spf.example.com", "TXT"): ["v=spf1 mx:example.com -all"],
        }
    )
    r = status(run(redirect, checks=["spf"]), "spf")
    assert r["status"] == "pass" and r["found"]["lookups"] == 2


def test_spf_void_lookups_limited():
    dns = good_zone({(DOMAIN, "TXT"): ["v=spf1 a:gone1.example.com a:gone2.example.com a:gone3.example.com mx -all"]})
    r = status(run(dns, checks=["spf"]), "spf")
    assert r["status"] == "fail" and "3 void lookups" in r["message"]


@pytest.mark.parametrize(
    "record,result",
    [
        ("v=spf1 ip4:192.0.2.0/24 -all", "pass"),
        ("v=spf1 ip4:192.0.3.0/24 -all", "fail"),
        ("v=spf1 a:mx1.example.com/24 -all", "pass"),
        ("v=spf1 exists:yes.example.com -all", "pass"),
        ("v=spf1 include:missing.example.com -all", "permerror"),
        ("v=spf1 ip4:300.0.0.1 -all", "permerror"),
        ("v=spf1 -ip4:192.0.2.10 +all", "fail"),
        ("v=spf1 mx", "pass"),
        ("spf2.0/pra mx -all", "none"),
    ],
)
def test_spf_evaluation(record, result):
    dns = good_zone({(DOMAIN, "TXT"): [record], ("yes.example.com", "A"): ["127.0.0.2"]})
    assert _spf.evaluate_spf(dns, DOMAIN, IP) == result


def test_spf_servfail_is_temperror_not_pass():
    dns = good_zone({(DOMAIN, "TXT"): _dns_answer.Answer("servfail")})
    assert _spf.evaluate_spf(dns, DOMAIN, IP) == "temperror"
    r = status(run(dns, checks=["spf"]), "spf")
    assert r["status"] == "fail" and "SERVFAIL" in r["message"]


# --- DKIM ----------------------------------------------------------------------------


def test_dkim_record_split_over_strings_is_joined_and_passes():
    value = f"v=DKIM1; k=rsa; p={KEY2048}"
    # The fake returns the joined text, as the resolver joins a record's strings; check the splitter too.
    assert "".join(_dns_answer.txt_strings(value)) == value and all(
        len(s) <= 255 for s in _dns_answer.txt_strings(value)
    )
    assert status(run(good_zone(), checks=["dkim"]), "dkim")["status"] == "pass"


def test_dkim_short_key_and_mismatch_fail():
    dns = good_zone({(f"mail._domainkey.{DOMAIN}", "TXT"): [f"v=DKIM1; k=rsa; p={KEY1024}"]})
    r = status(run(dns, checks=["dkim"]), "dkim")
    assert r["status"] == "fail" and "1024 bits" in r["message"] and "does not match" in r["message"]
    line = r["records_to_publish"][0]
    assert line.startswith("mail._domainkey.example.com. 3600 IN TXT ( ") and KEY2048[:40] in line.replace('" "', "")


def test_dkim_bad_version_and_garbage_key():
    dns = good_zone({(f"mail._domainkey.{DOMAIN}", "TXT"): ["k=rsa; v=DKIM1; p=bm90IGEga2V5"]})
    r = status(run(dns, checks=["dkim"], dkim_public_key=None), "dkim")
    assert (
        r["status"] == "fail"
        and "v= must be the first tag" in r["message"]
        and "not a valid RSA public key" in r["message"]
    )


def test_dkim_key_from_opendkim_txt_and_pem():
    txt = (
        'mail._domainkey\tIN\tTXT\t( "v=DKIM1; h=sha256; k=rsa; "\n'
        f'\t  "p={KEY2048[:200]}"\n\t  "{KEY2048[200:]}" )  ; ----- DKIM key mail'
    )
    assert _dkim.dkim_key_from_text(txt) == KEY2048
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        + "\n".join(KEY2048[i : i + 64] for i in range(0, len(KEY2048), 64))
        + "\n-----END PUBLIC KEY-----\n"
    )
    assert _dkim.dkim_key_from_text(pem) == KEY2048
    assert _dkim.rsa_key_bits(base64.b64decode(KEY2048)) == 2048


# --- DMARC, MTA-STS, TLS-RPT -----------------------------------------------------------


@pytest.mark.parametrize(
    "records,expected_stage,result,text",
    [
        (["v=DMARC1; p=none; rua=mailto:d@example.com"], "quarantine", "fail", "behind the expected stage"),
        (["v=DMARC1; p=none"], "none", "warn", "only monitors"),
        (["v=DMARC1; p=reject"], "quarantine", "pass", "p=reject"),
        (["p=quarantine; v=DMARC1"], "quarantine", "fail", "does not start with v=DMARC1"),
        (["v=DMARC1; p=reject", "v=DMARC1; p=none"], "none", "fail", "2 DMARC records"),
        (["v=DMARC1; p=reject; rua=dmarc@example.com"], "none", "fail", "mailto:"),
        (["v=DMARC1; p=reject; adkim=x"], "none", "fail", "adkim=x"),
        (["v=DMARC1; rua=mailto:a@example.com"], "none", "fail", "p= is missing"),
    ],
)
def test_dmarc(records, expected_stage, result, text):
    r = status(
        run(good_zone({(f"_dmarc.{DOMAIN}", "TXT"): records}), checks=["dmarc"], dmarc_policy=expected_stage), "dmarc"
    )
    assert r["status"] == result and text in r["message"], r
    if result == "fail":
        fixed = good_zone({(f"_dmarc.{DOMAIN}", "TXT"): [r["records_to_publish"][-1].split('"')[1]]})
        assert status(run(fixed, checks=["dmarc"], dmarc_policy=expected_stage), "dmarc")["status"] in ("pass", "warn")


def test_mta_sts_and_tls_rpt():
    dns = good_zone(
        {
            (f"_mta-sts.{DOMAIN}", "TXT"): ["v=STSv1; id=20260101"],
            (f"_smtp._tls.{DOMAIN}", "TXT"): ["v=TLSRPTv1; rua=mailto:t@example.com"],
        }
    )
    outcome = run(dns, checks=["mta_sts", "tls_rpt"])
    assert [r["status"] for r in outcome["results"]] == ["pass", "pass"]
    outcome = run(good_zone(), checks=["mta_sts", "tls_rpt"], mta_sts_id="abc123")
    assert outcome["records_to_publish"] == [
        '_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=abc123"',
        '_smtp._tls.example.com. 3600 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"',
    ]


@pytest.mark.parametrize(
    "failure,word", [("servfail", "SERVFAIL"), ("timeout", "timeout"), ("nxdomain", "NXDOMAIN"), ("refused", "REFUSED")]
)
def test_dns_failures_told_apart_and_never_pass(failure, word):
    dns = good_zone(
        {(DOMAIN, "MX"): _dns_answer.Answer(failure), (f"_dmarc.{DOMAIN}", "TXT"): _dns_answer.Answer(failure)}
    )
    outcome = run(dns, checks=["mx", "dmarc"])
    for r in outcome["results"]:
        assert r["status"] == "fail" and word in r["message"], r
    assert outcome["failed"]
    if failure != "nxdomain":  # an unanswered question proves nothing missing: nothing to publish
        assert outcome["records_to_publish"] == []


@pytest.mark.parametrize("failure", ["servfail", "timeout", "refused"])
def test_nothing_to_publish_while_dns_does_not_answer(failure):
    broken = _dns_answer.Answer(failure)
    dns = good_zone(
        {
            (DOMAIN, "TXT"): broken,
            ("10.2.0.192.in-addr.arpa", "PTR"): broken,
            (f"mail._domainkey.{DOMAIN}", "TXT"): broken,
        }
    )
    outcome = run(dns, checks=["spf", "ptr", "dkim"], dkim_selector="mail", dkim_public_key=KEY2048)
    assert outcome["failed"]
    assert outcome["records_to_publish"] == []
    word = {"servfail": "SERVFAIL", "timeout": "timeout", "refused": "REFUSED"}[failure]
    assert all(r["status"] == "fail" and word in r["message"] for r in outcome["results"]), outcome


def test_every_host_key_is_compared_with_its_record():
    other = public_key_b64(2048)
    dns = good_zone({(f"new._domainkey.{DOMAIN}", "TXT"): [f"v=DKIM1; k=rsa; p={other}"]})
    keys = [
        {"domain": DOMAIN, "selector": "mail", "public_key": KEY2048, "signing": True},
        {"domain": DOMAIN, "selector": "new", "public_key": public_key_b64(2048), "signing": False},
    ]
    outcome = run(dns, checks=["dkim"], dkim_keys=keys)
    by_subject = {r["subject"]: r for r in outcome["results"]}
    assert by_subject[f"mail._domainkey.{DOMAIN}"]["status"] == "pass"
    assert by_subject[f"new._domainkey.{DOMAIN}"]["status"] == "fail"
    assert len(outcome["records_to_publish"]) == 1 and outcome["records_to_publish"][0].startswith(
        f"new._domainkey.{DOMAIN}. 3600 IN TXT"
    )
    assert run(dns, checks=["dkim"], dkim_keys=[])["results"][0]["status"] == "fail"


def test_strict_makes_warnings_fail_and_says_what_clears_them():
    dns = good_zone({(f"_dmarc.{DOMAIN}", "TXT"): ["v=DMARC1; p=none; pct=50; foo=bar"]})
    assert not run(dns, checks=["dmarc"], dmarc_policy="none")["failed"]
    strict = run(dns, checks=["dmarc"], dmarc_policy="none", strict=True)
    assert strict["failed"]
    (line,) = strict["records_to_publish"]
    assert line == '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine"'
    fixed = good_zone({(f"_dmarc.{DOMAIN}", "TXT"): [line.split('"')[1]]})
    assert not run(fixed, checks=["dmarc"], dmarc_policy="none", strict=True)["failed"]
