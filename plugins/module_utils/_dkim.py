# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM: key records (parsing and writing) and opendkim's KeyTable / SigningTable / TrustedHosts files."""

from __future__ import annotations

import re

from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import txt_rdata, txt_strings, zone_line
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import unbracket

MIN_BITS = 2048
# Larger keys take minutes to generate and do not fit a DNS TXT record comfortably.
MAX_BITS = 8192
HEADER = "# Managed by Ansible (mailops.mailhost.opendkim); do not edit.\n"


def key_path(key_dir: str, domain: str, selector: str) -> str:
    return f"{key_dir.rstrip('/')}/{domain}/{selector}.private"


def pem_body(pem: str) -> str:
    """The base64 body of a PEM block, on one line."""
    return "".join(line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----"))


def bits_from_openssl_text(text: str) -> int:
    """Key size from 'openssl pkey -noout -text' ('Private-Key: (2048 bit, 2 primes)')."""
    match = re.search(r"Private-Key:\s*\((\d+)\s*bit", text)
    if not match:
        raise ValueError("not an RSA private key")
    return int(match.group(1))


def key_kind(text: str) -> tuple[str, int]:
    """(kind, bits) from 'openssl pkey -noout -text': rsa, rsa-pss, ec, ed25519, ed448 or unknown."""
    first = text.lstrip().split("\n", 1)[0]
    if "ED25519" in first or "ED448" in first:
        return first.split()[0].lower(), 0
    try:
        bits = bits_from_openssl_text(text)
    except ValueError:
        return "unknown", 0
    if "ASN1 OID" in text or "priv:" in text and "modulus:" not in text:
        return "ec", bits
    if "PSS" in text:
        return "rsa-pss", bits
    return ("rsa", bits) if "modulus:" in text else ("unknown", bits)


def record(domain: str, selector: str, public_key: str, bits: int, signing: bool) -> dict:
    value = f"v=DKIM1; k=rsa; p={public_key}"
    return {
        "domain": domain,
        "selector": selector,
        "name": dkim_name(selector, domain),
        "value": value,
        "strings": txt_strings(value),
        "zone_line": dkim_record(selector, domain, public_key),
        "public_key": public_key,
        "bits": bits,
        "signing": signing,
    }


def key_table(keys: list[dict], key_dir: str) -> str:
    lines = [
        f"{dkim_name(k['selector'], k['domain'])} {k['domain']}:{k['selector']}:"
        f"{key_path(key_dir, k['domain'], k['selector'])}"
        for k in sorted(keys, key=lambda k: (k["domain"], k["selector"]))
    ]
    return HEADER + "\n".join(lines) + "\n"


def signing_table(signing: dict[str, str]) -> str:
    """refile: patterns; the more specific subdomain pattern is listed too."""
    lines = []
    for domain, selector in sorted(signing.items()):
        lines.append(f"*@{domain} {dkim_name(selector, domain)}")
    return HEADER + "\n".join(lines) + "\n"


def trusted_hosts(hosts: list[str]) -> str:
    """opendkim wants plain addresses and CIDRs: Postfix's [v6]/len brackets are removed."""
    cleaned = []
    for host in hosts:
        value = unbracket(host)
        if value and value not in cleaned:
            cleaned.append(value)
    return HEADER + "\n".join(cleaned) + "\n"


def signing_selectors(keys: list[dict], signing: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Which selector signs for each domain (given, or the first key listed), and the problems."""
    chosen: dict[str, str] = {}
    problems = []
    by_domain: dict[str, list[str]] = {}
    for key in keys:
        by_domain.setdefault(key["domain"], []).append(key["selector"])
    for domain, selector in signing.items():
        if selector not in by_domain.get(domain, []):
            problems.append(
                f"opendkim_signing: {domain} is to sign with selector '{selector}', but opendkim_keys has no such key"
            )
    for domain, selectors in by_domain.items():
        chosen[domain] = signing.get(domain, selectors[0])
    return chosen, problems


# --- DKIM records --------------------------------------------------------------------------------


def parse_tags(text: str) -> dict[str, str]:
    tags = {}
    for part in text.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip():
            tags[key.strip().lower()] = "".join(value.split())
    return tags


def _der_length(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def _der_item(data: bytes, pos: int) -> tuple[int, bytes, int]:
    tag = data[pos]
    length, start = _der_length(data, pos + 1)
    return tag, data[start : start + length], start + length


def rsa_key_bits(der: bytes) -> int:
    """Modulus size of an RSA public key in SubjectPublicKeyInfo or PKCS#1 form."""
    try:
        tag, body, _end = _der_item(der, 0)
        if tag != 0x30:
            raise ValueError("not a DER SEQUENCE")
        tag, first, after = _der_item(body, 0)
        if tag == 0x30:  # SubjectPublicKeyInfo: AlgorithmIdentifier, BIT STRING
            tag, bits, _end = _der_item(body, after)
            if tag != 0x03:
                raise ValueError("no BIT STRING")
            tag, rsa, _end = _der_item(bits[1:], 0)
            tag, modulus, _end = _der_item(rsa, 0)
        elif tag == 0x02:  # PKCS#1 RSAPublicKey: INTEGER n, INTEGER e
            modulus = first
        else:
            raise ValueError("unexpected structure")
        return int.from_bytes(modulus, "big").bit_length()
    except (IndexError, ValueError) as exc:
        raise ValueError(f"not an RSA public key: {exc}") from exc


def dkim_key_from_text(text: str) -> str:
    """The base64 public key from a DKIM TXT record, an opendkim-genkey .txt file or a PEM public key."""
    if "BEGIN PUBLIC KEY" in text or "BEGIN RSA PUBLIC KEY" in text:
        body = re.sub(r"-----[^-]+-----", "", text)
        return "".join(body.split())
    quoted = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    joined = "".join(quoted) if quoted else text
    key = parse_tags(joined).get("p")
    if key is None:
        raise ValueError("no p= tag found")
    return key


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dkim_record(selector: str, domain: str, public_key: str) -> str:
    return zone_line(dkim_name(selector, domain), "TXT", txt_rdata(f"v=DKIM1; k=rsa; p={public_key}"))


# opendkim.conf settings that opendkim does not re-read on SIGUSR1 (opendkim(8), "Upon receiving
# SIGUSR1"), and ChangeRootDirectory, which a running process cannot change: a change to any of
# them needs a restart; every other setting (Mode, Canonicalization, the tables...) a reload,
# which keeps the milter socket open (a restart closes it, and opendkim takes up to 5 s to stop).
RESTART_SETTINGS = frozenset(
    name.lower()
    for name in (
        "AutoRestart",
        "AutoRestartCount",
        "AutoRestartRate",
        "Background",
        "ChangeRootDirectory",
        "MilterDebug",
        "PidFile",
        "POPDBFile",
        "Quarantine",
        "QueryCache",
        "Socket",
        "StrictTestMode",
        "TestPublicKeys",
        "UMask",
        "UserID",
    )
)


def conf_settings(text: str) -> dict[str, str]:
    """The settings of an opendkim.conf: lower-cased name to value (a hash starts a comment, the last one wins)."""
    settings = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(None, 1)
        if words:
            settings[words[0].lower()] = words[1].strip() if len(words) > 1 else ""
    return settings


def restart_settings_changed(before: str | None, after: str) -> list[str]:
    """The settings only a restart applies whose value differs (every one, for a file that was not there)."""
    if before is None:
        return sorted(RESTART_SETTINGS)
    old, new = conf_settings(before), conf_settings(after)
    return sorted(name for name in RESTART_SETTINGS if old.get(name) != new.get(name))
