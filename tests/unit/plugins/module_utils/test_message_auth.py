"""Unit tests of the DKIM half of _message_auth: a message signed by dkimpy, verified against a fake DNS.

SPF evaluation (pyspf) queries DNS through dnspython and is tested against
a real Knot server in tests/integration and the mailhost scenario.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.mailops.mailhost.plugins.module_utils import _message_auth as ma
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import Answer

dkim = pytest.importorskip("dkim")

DOMAIN = "my-corp.example"  # with a hyphen: alignment must not lose it


def keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode()


PRIVATE, PUBLIC = keypair()
_OTHER_PRIVATE, OTHER_PUBLIC = keypair()

MESSAGE = (
    b"From: Probe <mailhost-probe@my-corp.example>\r\n"
    b"To: mailhost-probe@mx1.my-corp.example\r\n"
    b"Subject: probe\r\n"
    b"Message-ID: <probe.1@mx1.my-corp.example>\r\n"
    b"\r\n"
    b"A probe message.\r\n"
)


def signed(domain: bytes = b"my-corp.example", selector: bytes = b"mail") -> bytes:
    signature = dkim.sign(MESSAGE, selector, domain, PRIVATE, include_headers=[b"from", b"to", b"subject"])
    return signature + MESSAGE


def dns(records: dict):
    def lookup(name, rdtype):
        value = records.get((name.rstrip(".").lower(), rdtype))
        if isinstance(value, Answer):
            return value
        return Answer("ok", [value]) if value else Answer("nxdomain")

    return lookup


def test_signature_verifies_against_the_published_key():
    result, found = ma.check_dkim_message(
        signed(), DOMAIN, dns({("mail._domainkey.my-corp.example", "TXT"): f"v=DKIM1; k=rsa; p={PUBLIC}"})
    )
    assert result.status == "pass", result.message
    assert found == [{"d": "my-corp.example", "s": "mail", "result": "pass", "reason": found[0]["reason"]}]


def test_key_rotated_on_the_host_but_not_in_dns_fails():
    result, found = ma.check_dkim_message(
        signed(), DOMAIN, dns({("mail._domainkey.my-corp.example", "TXT"): f"v=DKIM1; k=rsa; p={OTHER_PUBLIC}"})
    )
    assert result.status == "fail" and found[0]["result"] == "fail"
    assert "d=my-corp.example s=mail: fail" in result.message


def test_dns_timeout_is_temperror_not_fail():
    result, found = ma.check_dkim_message(
        signed(), DOMAIN, dns({("mail._domainkey.my-corp.example", "TXT"): Answer("timeout")})
    )
    assert result.status == "fail" and found[0]["result"] == "temperror"


def test_unsigned_message_and_unaligned_signature():
    result, _found = ma.check_dkim_message(MESSAGE, DOMAIN, dns({}))
    assert result.status == "fail" and "no DKIM signature" in result.message
    foreign = dns({("mail._domainkey.esp.example", "TXT"): f"v=DKIM1; k=rsa; p={PUBLIC}"})
    result, _found = ma.check_dkim_message(signed(b"esp.example"), DOMAIN, foreign)
    assert result.status == "fail" and "none is of my-corp.example" in result.message


@pytest.mark.parametrize(
    "a,b,mode,expected",
    [
        ("my-corp.example", "mail.my-corp.example", "r", True),
        ("my-corp.example", "mail.my-corp.example", "s", False),
        ("my-corp.example", "my-corp.example", "s", True),
        ("my-corp.example", "my.example", "r", False),
        ("mx1.example.test", "example.test", "r", True),
        ("example.test", "other.test", "r", False),
        ("example.co.uk", "other.co.uk", "r", False),
        ("a.example.co.uk", "b.example.co.uk", "r", True),
        ("example.com", "", "r", False),
    ],
)
def test_alignment(a, b, mode, expected):
    assert ma.aligned(a, b, mode) is expected


@pytest.mark.parametrize(
    "name,org",
    [
        ("mail.my-corp.example", "my-corp.example"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"),
        ("x.test", "x.test"),
    ],
)
def test_organizational_domain(name, org):
    assert ma.org_domain(name) == org


def test_policy_discovery_falls_back_to_the_organizational_domain():
    lookup = dns({("_dmarc.my-corp.example", "TXT"): "v=DMARC1; p=Reject; sp=quarantine; adkim=s"})
    tags, where, problem = ma.dmarc_policy_record("news.my-corp.example", lookup)
    assert (where, problem) == ("my-corp.example", "") and tags["p"] == "reject" and tags["sp"] == "quarantine"
    _tags, where, problem = ma.dmarc_policy_record("other.example", lookup)
    assert where is None and "no DMARC record at _dmarc.other.example" in problem
    broken = dns({("_dmarc.my-corp.example", "TXT"): Answer("timeout")})
    assert "timeout" in ma.dmarc_policy_record("my-corp.example", broken)[2]
