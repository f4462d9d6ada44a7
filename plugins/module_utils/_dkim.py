# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic for opendkim: key records and the KeyTable / SigningTable / TrustedHosts files."""

from __future__ import annotations

import re

from ansible_collections.mailops.mailhost.plugins.module_utils._mail_dns import dkim_record, txt_strings

MIN_BITS = 2048
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


def record(domain: str, selector: str, public_key: str, bits: int, signing: bool) -> dict:
    value = f"v=DKIM1; k=rsa; p={public_key}"
    return {
        "domain": domain,
        "selector": selector,
        "name": f"{selector}._domainkey.{domain}",
        "value": value,
        "strings": txt_strings(value),
        "zone_line": dkim_record(selector, domain, public_key),
        "public_key": public_key,
        "bits": bits,
        "signing": signing,
    }


def key_table(keys: list[dict], key_dir: str) -> str:
    lines = [
        f"{k['selector']}._domainkey.{k['domain']} {k['domain']}:{k['selector']}:"
        f"{key_path(key_dir, k['domain'], k['selector'])}"
        for k in sorted(keys, key=lambda k: (k["domain"], k["selector"]))
    ]
    return HEADER + "\n".join(lines) + "\n"


def signing_table(signing: dict[str, str]) -> str:
    """refile: patterns; the more specific subdomain pattern is listed too."""
    lines = []
    for domain, selector in sorted(signing.items()):
        lines.append(f"*@{domain} {selector}._domainkey.{domain}")
    return HEADER + "\n".join(lines) + "\n"


def trusted_hosts(hosts: list[str]) -> str:
    """opendkim wants plain addresses and CIDRs: Postfix's [v6]/len brackets are removed."""
    cleaned = []
    for host in hosts:
        value = re.sub(r"^\[([^\]]+)\]", r"\1", host.strip())
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
