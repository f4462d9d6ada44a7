# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking a DKIM signature (RFC 6376) on the host, for the probe that follows a change.

The probe message is signed by the host's own opendkim, and checked here against the public key
of the host's own key file, before any DNS is involved. This module does the canonicalization
(simple and relaxed, RFC 6376 3.4) and the body hash in pure Python, and returns the exact bytes
the RSA signature covers; the RSA step itself (``openssl dgst -sha256 -verify``) is run by the
caller, as no RSA implementation ships with Python's standard library. Only rsa-sha256 is
accepted (RFC 8301 forbids rsa-sha1).
"""

from __future__ import annotations

import base64
import hashlib
import re

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import parse_tags

_WSP = re.compile(r"[ \t]+")


class DkimError(ValueError):
    """The message has no usable signature; the text says why."""


def split_message(raw: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """Header fields (name, the whole field with its folding, CRLF line ends) and the body."""
    data = re.sub(rb"\r?\n", b"\r\n", raw)
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, body = data, b""
    fields: list[tuple[str, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, text = fields[-1]
            fields[-1] = (name, text + b"\r\n" + line)
        elif b":" in line:
            fields.append((line.split(b":", 1)[0].decode("ascii", "replace").strip(), line))
    return fields, body


def canon_header(field: bytes, method: str) -> bytes:
    if method == "simple":
        return field + b"\r\n"
    name, _sep, value = field.partition(b":")
    value = _WSP.sub(" ", value.replace(b"\r\n", b"").decode("utf-8", "surrogateescape")).strip()
    return name.strip().lower() + b":" + value.encode("utf-8", "surrogateescape") + b"\r\n"


def canon_body(body: bytes, method: str) -> bytes:
    lines = body.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    if method == "relaxed":
        lines = [
            _WSP.sub(" ", line.decode("utf-8", "surrogateescape")).rstrip(" ").encode("utf-8", "surrogateescape")
            for line in lines
        ]
    while lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return b"" if method == "relaxed" else b"\r\n"
    return b"\r\n".join(lines) + b"\r\n"


def signatures(fields: list[tuple[str, bytes]]) -> list[tuple[int, dict[str, str]]]:
    """(index of the field, its tags) of every DKIM-Signature field."""
    found = []
    for index, (name, field) in enumerate(fields):
        if name.lower() == "dkim-signature":
            found.append((index, parse_tags(field.split(b":", 1)[1].decode("ascii", "replace"))))
    return found


def signed_data(raw: bytes, domain: str) -> tuple[bytes, bytes, dict[str, str]]:
    """For the signature of ``domain``: (the bytes the RSA signature covers, the signature, its tags).

    Raises DkimError when there is no such signature, the body hash does not match, or the
    signature uses an algorithm or form this check does not accept.
    """
    fields, body = split_message(raw)
    found = [(i, tags) for i, tags in signatures(fields) if tags.get("d", "").lower() == domain.lower()]
    if not found:
        present = ", ".join(sorted({tags.get("d", "?") for _i, tags in signatures(fields)})) or "none"
        raise DkimError(f"the message has no DKIM-Signature for d={domain} (signatures present: {present})")
    index, tags = found[-1]
    if tags.get("a") != "rsa-sha256":
        raise DkimError(f"the signature uses a={tags.get('a')}; only rsa-sha256 is accepted (RFC 8301)")
    header_method, _sep, body_method = tags.get("c", "simple/simple").partition("/")
    body_method = body_method or "simple"
    if header_method not in ("simple", "relaxed") or body_method not in ("simple", "relaxed"):
        raise DkimError(f"unknown canonicalization c={tags.get('c')}")
    canonical = canon_body(body, body_method)
    if "l" in tags:
        canonical = canonical[: int(tags["l"])]
    if base64.b64encode(hashlib.sha256(canonical).digest()).decode() != tags.get("bh", ""):
        raise DkimError("the body hash (bh=) does not match the body: the message was changed after signing")
    # Signed header fields, each taken from the bottom up (RFC 6376 5.4.2).
    used: set[int] = {index}
    data = b""
    for name in [n.strip().lower() for n in tags.get("h", "").split(":") if n.strip()]:
        for position in range(len(fields) - 1, -1, -1):
            if position not in used and fields[position][0].lower() == name:
                used.add(position)
                data += canon_header(fields[position][1], header_method)
                break
    unsigned = re.sub(rb"(\bb=)[^;]*", rb"\1", fields[index][1], count=1)
    data += canon_header(unsigned, header_method).removesuffix(b"\r\n")
    try:
        signature = base64.b64decode(tags.get("b", ""), validate=True)
    except ValueError as exc:
        raise DkimError(f"the signature (b=) is not base64: {exc}") from exc
    return data, signature, tags


def public_key_pem(base64_der: str) -> str:
    """A DKIM record's p= value (SubjectPublicKeyInfo, base64) as a PEM public key."""
    body = "".join(base64_der.split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"
