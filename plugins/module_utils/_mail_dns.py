# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mail DNS checks (MX, A/AAAA, PTR, SPF, DKIM, DMARC, MTA-STS, TLS-RPT) and the queries they start with.

A check returns its status (pass, warn, fail), what was expected and found, a plain-language
message and the zone-file lines that would make it pass. The subjects live in their own files:
the answer model in _dns_answer, SPF in _spf, DKIM records in _dkim, DMARC and the reporting
policies in _dmarc.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import (
    dkim_name,
    dkim_record,
    parse_tags,
    rsa_key_bits,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._dmarc import (
    DMARC_STAGES,
    check_dmarc,
    check_dmarc_stage,
    check_mta_sts,
    check_tls_rpt,
    dmarc_name,
    mta_sts_name,
    tls_rpt_name,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import (
    Answer,
    Lookup,
    Result,
    bare,
    fail_from_answer,
    fqdn,
    parse_mx,
    reverse_name,
    zone_line,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._message_auth import MESSAGE_CHECKS, evaluate_message
from ansible_collections.mailops.mailhost.plugins.module_utils._spf import check_spf

DEFAULT_CHECKS = ("mx", "a", "ptr", "spf", "dkim", "dmarc")
ALL_CHECKS = (
    "mx",
    "a",
    "aaaa",
    "ptr",
    "spf",
    "dkim",
    "dmarc",
    "mta_sts",
    "tls_rpt",
    "spf_message",
    "dkim_message",
    "dmarc_message",
    "dmarc_stage",
)
__all__ = ["ALL_CHECKS", "DEFAULT_CHECKS", "DMARC_STAGES", "Answer", "first_queries", "run_checks"]


# --- MX, A/AAAA, PTR ----------------------------------------------------------------------


def check_mx(lookup: Lookup, domain: str, hostname: str) -> Result:
    publish = [zone_line(domain, "MX", f"10 {fqdn(hostname)}")]
    answer = lookup(domain, "MX")
    if not answer.ok:
        return fail_from_answer("mx", answer, domain, "MX", [bare(hostname)], publish)
    targets = sorted(parse_mx(r) for r in answer.records)
    names = [t for _p, t in targets]
    problems = []
    if names == [""]:
        return Result(
            "mx", "fail", [bare(hostname)], names, f"{domain} publishes a null MX: it accepts no mail", publish
        )
    for name in names:
        try:
            ipaddress.ip_address(name)
            problems.append(f"MX target {name} is an IP address, not a host name")
            continue
        except ValueError:
            pass
        cname = lookup(name, "CNAME")
        if cname.ok:
            problems.append(f"MX target {name} is a CNAME (to {bare(cname.records[0])}); MX must name an A/AAAA host")
    if bare(hostname) not in names:
        problems.append(f"{bare(hostname)} is not among the MX targets ({', '.join(names)})")
    if problems:
        return Result("mx", "fail", [bare(hostname)], names, "; ".join(problems), publish)
    return Result("mx", "pass", [bare(hostname)], names, f"{bare(hostname)} is an MX target of {domain}")


def check_address(lookup: Lookup, hostname: str, addresses: list[str], rdtype: str) -> Result:
    check = "a" if rdtype == "A" else "aaaa"
    version = 4 if rdtype == "A" else 6
    wanted = sorted(str(ipaddress.ip_address(a)) for a in addresses if ipaddress.ip_address(a).version == version)
    publish = [zone_line(hostname, rdtype, a) for a in wanted]
    answer = lookup(hostname, rdtype)
    if answer.is_error or (answer.status == "nxdomain"):
        return fail_from_answer(check, answer, hostname, rdtype, wanted, publish)
    found = sorted(str(ipaddress.ip_address(r.strip())) for r in answer.records)
    if found == wanted:
        if not wanted:
            return Result(check, "pass", wanted, found, f"{bare(hostname)} has no {rdtype} record, as expected")
        return Result(check, "pass", wanted, found, f"{bare(hostname)} resolves to {', '.join(wanted)}")
    missing = sorted(set(wanted) - set(found))
    extra = sorted(set(found) - set(wanted))
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected {', '.join(extra)}")
    message = f"{bare(hostname)} {rdtype} records differ from the host's addresses: {'; '.join(parts)}"
    if extra:
        message += " (replace the existing records with the lines below)"
    return Result(check, "fail", wanted, found, message, publish)


def check_ptr(lookup: Lookup, hostname: str, addresses: list[str]) -> Result:
    problems, found, publish = [], {}, []
    for address in addresses:
        rname = reverse_name(address)
        answer = lookup(rname, "PTR")
        names = [bare(r) for r in answer.records] if answer.ok else []
        found[address] = names if answer.ok else answer.status
        line = zone_line(rname, "PTR", fqdn(hostname))
        if not answer.ok:
            problems.append(f"{address}: {answer.describe(bare(rname), 'PTR')}")
            if not answer.is_error:  # a timeout or SERVFAIL says nothing about the zone
                publish.append(line)
            continue
        if bare(hostname) not in names:
            problems.append(f"{address}: PTR names {', '.join(names)}, not {bare(hostname)}")
            publish.append(line)
            continue
        rdtype = "A" if ipaddress.ip_address(address).version == 4 else "AAAA"
        forward = lookup(hostname, rdtype)
        forward_ips = {str(ipaddress.ip_address(r)) for r in forward.records} if forward.ok else set()
        if forward.is_error:
            problems.append(f"{address}: {forward.describe(bare(hostname), rdtype)}")
        elif str(ipaddress.ip_address(address)) not in forward_ips:
            problems.append(f"{address}: PTR is {bare(hostname)}, but {bare(hostname)} does not resolve back to it")
            publish.append(zone_line(hostname, rdtype, address))
        elif len(names) > 1:
            problems.append(f"{address}: several PTR records ({', '.join(names)}); publish only one")
            publish.append(line)
    if not problems:
        return Result(
            "ptr", "pass", bare(hostname), found, "every address has a forward-confirmed PTR to the host name"
        )
    return Result("ptr", "fail", bare(hostname), found, "; ".join(problems), publish)


def check_dkim(lookup: Lookup, domain: str, selector: str, expected_key: str | None, min_bits: int = 2048) -> Result:
    name = dkim_name(selector, domain)
    publish = (
        [dkim_record(selector, domain, expected_key)]
        if expected_key
        else [
            f"; generate a {min_bits}-bit key for selector {selector} (opendkim-genkey -b {min_bits})"
            " and publish its record"
        ]
    )
    answer = lookup(name, "TXT")
    if not answer.ok:
        return fail_from_answer("dkim", answer, name, "TXT", f"v=DKIM1; k=rsa; p=<{min_bits}-bit key>", publish)
    if len(answer.records) > 1:
        return Result(
            "dkim", "fail", "one DKIM record", answer.records, f"{name} has {len(answer.records)} TXT records", publish
        )
    text = answer.records[0]
    tags = parse_tags(text)
    problems = []
    if "v" in tags and (not text.strip().lower().startswith("v=") or tags["v"] != "DKIM1"):
        problems.append("v= must be the first tag and equal DKIM1")
    if tags.get("k", "rsa").lower() != "rsa":
        problems.append(f"key type k={tags['k']} is not rsa")
    key = tags.get("p")
    bits = None
    if not key:
        problems.append("p= is missing or empty (the key is revoked)" if key == "" else "no p= tag")
    else:
        try:
            bits = rsa_key_bits(base64.b64decode(key, validate=True))
        except (binascii.Error, ValueError) as exc:
            problems.append(f"p= is not a valid RSA public key ({exc})")
        if bits is not None and bits < min_bits:
            problems.append(f"the key has {bits} bits, fewer than {min_bits}")
        if expected_key and key != "".join(expected_key.split()):
            problems.append("p= does not match the local key")
    found = {"record": text, "bits": bits}
    if problems:
        return Result("dkim", "fail", {"selector": selector, "min_bits": min_bits}, found, "; ".join(problems), publish)
    matched = " and matches the local key" if expected_key else ""
    return Result("dkim", "pass", {"selector": selector}, found, f"{name} holds a {bits}-bit RSA key{matched}")


# --- all together -------------------------------------------------------------------------


def check_dkim_keys(lookup: Lookup, domain: str, keys: list[dict]) -> list[Result]:
    """The DNS record of every key the host holds (opendkim's KeyTable), compared with that key."""
    if not keys:
        return [
            Result(
                "dkim",
                "fail",
                "a DKIM key on the host",
                [],
                "the host holds no DKIM key (no opendkim KeyTable): its mail is not signed",
            )
        ]
    results = []
    for key in keys:
        result = check_dkim(lookup, key["domain"], key["selector"], key["public_key"])
        result.subject = dkim_name(key["selector"], key["domain"])
        results.append(result)
    return results


def run_checks(
    lookup: Lookup,
    domain: str,
    hostname: str,
    addresses: list[str],
    checks: Iterable[str] = DEFAULT_CHECKS,
    dkim_selector: str | None = None,
    dkim_public_key: str | None = None,
    dmarc_policy: str = "none",
    spf_max_lookups: int = 10,
    mta_sts_id: str | None = None,
    strict: bool = False,
    dkim_keys: list[dict] | None = None,
    message: bytes | None = None,
    message_sender: str | None = None,
    dmarc_reports: dict | None = None,
    dmarc_required_share: float = 98.0,
    timeout: float = 3.0,
) -> dict:
    """Run the checks; returns results, records_to_publish and whether the whole set failed."""
    checks = list(checks)
    by_message: dict[str, list[Result]] = {}
    if message is not None and set(MESSAGE_CHECKS + ("dmarc_stage",)) & set(checks):
        sender = message_sender or f"mailhost-probe@{bare(domain)}"
        for result in evaluate_message(message, sender, hostname, addresses, domain, lookup, timeout):
            by_message.setdefault(result.check, []).append(result)
    results: list[Result] = []
    for check in checks:
        if check == "mx":
            results.append(check_mx(lookup, domain, hostname))
        elif check == "a":
            results.append(check_address(lookup, hostname, addresses, "A"))
        elif check == "aaaa":
            results.append(check_address(lookup, hostname, addresses, "AAAA"))
        elif check == "ptr":
            results.append(check_ptr(lookup, hostname, addresses))
        elif check == "spf":
            results.append(check_spf(lookup, domain, addresses, spf_max_lookups))
        elif check == "dkim" and dkim_keys is not None:
            results += check_dkim_keys(lookup, domain, dkim_keys)
        elif check == "dkim":
            results.append(check_dkim(lookup, domain, dkim_selector or "default", dkim_public_key))
        elif check == "dmarc":
            results.append(check_dmarc(lookup, domain, None if "dmarc_stage" in checks else dmarc_policy))
        elif check == "dmarc_stage":
            proof = by_message.get("dmarc_message") if message is not None else None
            results.append(check_dmarc_stage(lookup, domain, dmarc_policy, proof, dmarc_reports, dmarc_required_share))
        elif check in MESSAGE_CHECKS:
            results += by_message.get(check, [])
        elif check == "mta_sts":
            results.append(check_mta_sts(lookup, domain, mta_sts_id or "1"))
        elif check == "tls_rpt":
            results.append(check_tls_rpt(lookup, domain))
        else:
            raise ValueError(f"unknown check {check!r}; choose from {', '.join(ALL_CHECKS)}")
    failing = [r for r in results if r.status == "fail" or (strict and r.status == "warn")]
    publish: list[str] = []
    for line in (line for r in failing for line in r.publish):
        if line not in publish:
            publish.append(line)
    return {
        "results": [r.as_dict() for r in results],
        "records_to_publish": publish,
        "failed_checks": sorted({r.check for r in failing}, key=[r.check for r in failing].index),
        "failed": bool(failing),
    }


def first_queries(
    domain: str, hostname: str, addresses, checks, selector: str | None, dkim_keys: list[dict] | None = None
) -> list[tuple[str, str]]:
    """The query every check starts with, to resolve them all at once (named by the same helpers the checks use)."""
    queries = []
    checks = set(checks)
    if checks & {"spf_message", "dmarc_message", "dmarc_stage"}:
        checks |= {"spf", "dmarc"}
    if "dkim" in checks and dkim_keys is not None:
        checks.discard("dkim")
        queries += [(dkim_name(k["selector"], k["domain"]), "TXT") for k in dkim_keys]
    if "mx" in checks:
        queries.append((domain, "MX"))
    if {"a", "aaaa", "ptr"} & set(checks):
        queries += [(hostname, "A"), (hostname, "AAAA")]
    if "ptr" in checks:
        queries += [(reverse_name(a), "PTR") for a in addresses]
    if "spf" in checks:
        queries.append((domain, "TXT"))
    if "dkim" in checks:
        queries.append((dkim_name(selector or "default", domain), "TXT"))
    if "dmarc" in checks:
        queries.append((dmarc_name(domain), "TXT"))
    if "mta_sts" in checks:
        queries.append((mta_sts_name(domain), "TXT"))
    if "tls_rpt" in checks:
        queries.append((tls_rpt_name(domain), "TXT"))
    return queries
