"""Unit tests for plugins/module_utils/_dkim_verify.py, with dkimpy as the independent oracle."""

from __future__ import annotations

import subprocess

import dkim
import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils import _dkim_verify as v

MESSAGE = (
    b"From: Probe <mailhost-probe@example.test>\r\nTo: <x@mx.example.test>\r\n"
    b"Subject:  a   folded\r\n\tsubject \r\nDate: Tue, 1 Dec 2026 20:00:00 +0000\r\n\r\n"
    b"body line  with  spaces \r\n\r\n\r\n"
)


@pytest.fixture(scope="module")
def keypair():
    private = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], capture_output=True, check=True
    ).stdout
    public = subprocess.run(["openssl", "pkey", "-pubout"], input=private, capture_output=True, check=True).stdout
    body = "".join(line for line in public.decode().splitlines() if not line.startswith("-----"))
    return private, body


def openssl_verifies(tmp_path, public: str, signature: bytes, data: bytes) -> bool:
    (tmp_path / "key.pem").write_text(v.public_key_pem(public))
    (tmp_path / "sig").write_bytes(signature)
    (tmp_path / "data").write_bytes(data)
    argv = ["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature", "sig", "data"]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("canon", [(b"relaxed", b"simple"), (b"relaxed", b"relaxed"), (b"simple", b"simple")])
def test_a_signature_dkimpy_accepts_verifies_here_too(tmp_path, keypair, canon):
    private, public = keypair
    signed = dkim.sign(MESSAGE, b"probe", b"example.test", private, canonicalize=canon) + MESSAGE
    assert dkim.verify(signed, dnsfunc=lambda _n, timeout=5: f"v=DKIM1; k=rsa; p={public}".encode())
    data, signature, tags = v.signed_data(signed.replace(b"\r\n", b"\n"), "example.test")
    assert tags["s"] == "probe"
    assert openssl_verifies(tmp_path, public, signature, data)


def test_a_changed_header_fails_the_rsa_step_and_a_changed_body_the_body_hash(tmp_path, keypair):
    private, public = keypair
    signed = dkim.sign(MESSAGE, b"probe", b"example.test", private, canonicalize=(b"relaxed", b"simple")) + MESSAGE
    data, signature, _tags = v.signed_data(signed.replace(b"a   folded", b"b   folded"), "example.test")
    assert not openssl_verifies(tmp_path, public, signature, data)
    with pytest.raises(v.DkimError, match="body hash"):
        v.signed_data(signed.replace(b"body line", b"BODY line"), "example.test")


def test_no_signature_for_the_domain_names_the_ones_present(keypair):
    private, _public = keypair
    signed = dkim.sign(MESSAGE, b"probe", b"example.org", private) + MESSAGE
    with pytest.raises(v.DkimError, match=r"no DKIM-Signature for d=example.test \(signatures present: example.org\)"):
        v.signed_data(signed, "example.test")
    with pytest.raises(v.DkimError, match="signatures present: none"):
        v.signed_data(MESSAGE, "example.test")


def test_rsa_sha1_is_refused(keypair):
    private, _public = keypair
    signed = dkim.sign(MESSAGE, b"probe", b"example.test", private, signature_algorithm=b"rsa-sha1") + MESSAGE
    with pytest.raises(v.DkimError, match="only rsa-sha256"):
        v.signed_data(signed, "example.test")


def test_canonical_forms():
    assert v.canon_body(b"", "simple") == b"\r\n" and v.canon_body(b"", "relaxed") == b""
    assert v.canon_body(b"a  b \r\n\r\n", "relaxed") == b"a b\r\n"
    assert v.canon_header(b"Subject:  a \r\n\tb ", "relaxed") == b"subject:a b\r\n"
