# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SPF (RFC 7208): parse a record, count its DNS lookups, evaluate it for an address, and repair it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import (
    Lookup,
    Result,
    fail_from_answer,
    fqdn,
    parse_mx,
    txt_rdata,
    zone_line,
)

# --- SPF ---------------------------------------------------------------------------------

SPF_DNS_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")
_SPF_MECH_RE = re.compile(
    r"^([+\-~?]?)(all|include|a|mx|ptr|ip4|ip6|exists)(?::([^/]*))?(/\d+)?(//\d+)?$", re.IGNORECASE
)
_SPF_MOD_RE = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.IGNORECASE)


class SpfError(ValueError):
    pass


@dataclass
class SpfTerm:
    qualifier: str
    name: str
    value: str = ""
    cidr4: int | None = None
    cidr6: int | None = None


@dataclass
class SpfRecord:
    terms: list[SpfTerm]
    redirect: str | None = None

    @property
    def all_term(self) -> SpfTerm | None:
        return next((t for t in self.terms if t.name == "all"), None)


def spf_records(texts: Iterable[str]) -> list[str]:
    return [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


def parse_spf(text: str) -> SpfRecord:
    parts = text.split()
    if not parts or parts[0].lower() != "v=spf1":
        raise SpfError("does not start with v=spf1")
    terms, redirect = [], None
    for part in parts[1:]:
        mech = _SPF_MECH_RE.match(part)
        if mech:
            qualifier, name, value, c4, c6 = mech.groups()
            name = name.lower()
            if name in ("include", "exists") and not value:
                raise SpfError(f"'{part}' needs a domain")
            if name in ("ip4", "ip6"):
                try:
                    ipaddress.ip_network(value + (c4 or ""), strict=False)
                except ValueError as exc:
                    raise SpfError(f"'{part}' is not a valid network") from exc
                if (name == "ip4") != (":" not in value):
                    raise SpfError(f"'{part}' has an address of the wrong family")
            terms.append(
                SpfTerm(
                    qualifier or "+",
                    name,
                    value or "",
                    int(c4[1:]) if c4 else None,
                    int(c6[2:]) if c6 else None,
                )
            )
            continue
        mod = _SPF_MOD_RE.match(part)
        if mod:
            key = mod.group(1).lower()
            if key == "redirect":
                if redirect is not None:
                    raise SpfError("more than one redirect= modifier")
                redirect = mod.group(2)
            continue
        raise SpfError(f"unknown term '{part}'")
    return SpfRecord(terms, redirect)


@dataclass
class SpfWalk:
    lookups: int = 0
    void_lookups: int = 0
    errors: list[str] = field(default_factory=list)


def _txt_spf(lookup: Lookup, domain: str, walk: SpfWalk) -> SpfRecord | None:
    answer = lookup(domain, "TXT")
    if answer.status in ("nxdomain", "nodata") or (answer.status == "ok" and not spf_records(answer.records)):
        walk.void_lookups += answer.status != "ok"
        walk.errors.append(f"{domain} has no SPF record")
        return None
    if answer.is_error:
        walk.errors.append(answer.describe(domain, "TXT"))
        return None
    records = spf_records(answer.records)
    if len(records) > 1:
        walk.errors.append(f"{domain} has {len(records)} SPF records")
        return None
    try:
        return parse_spf(records[0])
    except SpfError as exc:
        walk.errors.append(f"SPF record of {domain}: {exc}")
        return None


def count_spf_lookups(lookup: Lookup, domain: str, walk: SpfWalk | None = None, depth: int = 0) -> SpfWalk:
    """Count DNS-querying terms through every include and redirect (RFC 7208 4.6.4), and void lookups."""
    walk = walk or SpfWalk()
    if depth > 20:
        walk.errors.append("include/redirect loop")
        return walk
    record = _txt_spf(lookup, domain, walk) if depth else None
    return _count_record(lookup, record, walk, depth, domain)


def _count_record(lookup: Lookup, record: SpfRecord | None, walk: SpfWalk, depth: int, domain: str) -> SpfWalk:
    if record is None:
        return walk
    for term in record.terms:
        if term.name in SPF_DNS_TERMS:
            walk.lookups += 1
        if term.name == "include":
            count_spf_lookups(lookup, term.value, walk, depth + 1)
        elif term.name in ("a", "mx", "exists", "ptr"):
            target = term.value or domain
            rdtype = {"a": "A", "mx": "MX", "exists": "A", "ptr": "PTR"}[term.name]
            if term.name == "ptr":
                continue
            answer = lookup(target, rdtype)
            if answer.status in ("nxdomain", "nodata"):
                walk.void_lookups += 1
    if record.redirect and record.all_term is None:
        walk.lookups += 1
        count_spf_lookups(lookup, record.redirect, walk, depth + 1)
    return walk


def _addresses_of(lookup: Lookup, name: str) -> list[ipaddress._BaseAddress]:
    found = []
    for rdtype in ("A", "AAAA"):
        answer = lookup(name, rdtype)
        if answer.ok:
            found.extend(ipaddress.ip_address(r.strip()) for r in answer.records)
    return found


def _in(address, value: str, cidr4: int | None, cidr6: int | None) -> bool:
    prefix = cidr4 if address.version == 4 else cidr6
    if prefix is None:
        return address == ipaddress.ip_address(value)
    return address in ipaddress.ip_network(f"{value}/{prefix}", strict=False)


def evaluate_spf(lookup: Lookup, domain: str, address: str, depth: int = 0) -> str:
    """check_host() for one address: pass, fail, softfail, neutral, none, permerror or temperror."""
    if depth > 10:
        return "permerror"
    answer = lookup(domain, "TXT")
    if answer.is_error:
        return "temperror"
    records = spf_records(answer.records) if answer.ok else []
    if not records:
        return "none"
    if len(records) > 1:
        return "permerror"
    try:
        record = parse_spf(records[0])
    except SpfError:
        return "permerror"
    ip = ipaddress.ip_address(address)
    results = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
    for term in record.terms:
        match = False
        if term.name == "all":
            match = True
        elif term.name in ("ip4", "ip6"):
            net = ipaddress.ip_network(term.value + (f"/{term.cidr4}" if term.cidr4 is not None else ""), strict=False)
            match = ip.version == net.version and ip in net
        elif term.name == "a":
            match = any(
                a.version == ip.version and _in(ip, str(a), term.cidr4, term.cidr6)
                for a in _addresses_of(lookup, term.value or domain)
            )
        elif term.name == "mx":
            mx = lookup(term.value or domain, "MX")
            hosts = [parse_mx(r)[1] for r in mx.records] if mx.ok else []
            match = any(
                a.version == ip.version and _in(ip, str(a), term.cidr4, term.cidr6)
                for host in hosts[:10]
                for a in _addresses_of(lookup, host)
            )
        elif term.name == "exists":
            match = lookup(term.value, "A").ok
        elif term.name == "include":
            sub = evaluate_spf(lookup, term.value, address, depth + 1)
            if sub in ("temperror", "permerror"):
                return sub
            if sub == "none":
                return "permerror"
            match = sub == "pass"
        elif term.name == "ptr":
            continue  # deprecated (RFC 7208 5.5); never relied upon here
        if match:
            return results[term.qualifier]
    if record.redirect:
        sub = evaluate_spf(lookup, record.redirect, address, depth + 1)
        return "permerror" if sub == "none" else sub
    return "neutral"


def check_spf(lookup: Lookup, domain: str, addresses: list[str], max_lookups: int = 10) -> Result:
    answer = lookup(domain, "TXT")
    if answer.is_error:
        host_terms = " ".join(_ip_term(a) for a in addresses)
        return fail_from_answer(
            "spf", answer, domain, "TXT", "one v=spf1 record", [_spf_line(domain, host_terms, "-all")]
        )
    texts = answer.records if answer.ok else []
    records = spf_records(texts)
    if not records:
        terms = " ".join(["mx"] + [_ip_term(a) for a in addresses])
        return Result(
            "spf", "fail", "one v=spf1 record", [], f"{domain} has no SPF record", [_spf_line(domain, terms, "-all")]
        )
    if len(records) > 1:
        merged = _spf_zone(domain, _repair_spf(records[0], addresses))
        return Result(
            "spf",
            "fail",
            "one v=spf1 record",
            records,
            f"{domain} has {len(records)} SPF records; receivers treat that as a permanent error (RFC 7208 3.2)",
            [f"; delete every v=spf1 TXT record of {fqdn(domain)} and publish only this one", merged],
        )
    record_text = records[0]
    try:
        record = parse_spf(record_text)
    except SpfError as exc:
        terms = " ".join(["mx"] + [_ip_term(a) for a in addresses])
        return Result(
            "spf",
            "fail",
            "valid SPF syntax",
            record_text,
            f"SPF record is invalid: {exc}",
            [_spf_line(domain, terms, "-all")],
        )

    problems, warnings = [], []
    walk = _count_record(lookup, record, SpfWalk(), 0, domain)
    if walk.lookups > max_lookups:
        problems.append(
            f"{walk.lookups} DNS-querying terms (include, a, mx, ptr, exists, redirect), more than {max_lookups}"
        )
    if walk.void_lookups > 2:
        problems.append(f"{walk.void_lookups} void lookups (names that do not exist), more than 2")
    problems += [e for e in walk.errors if "loop" in e or "SPF records" in e]
    all_term = record.all_term
    if all_term is not None and all_term.qualifier == "+":
        problems.append("'+all' authorises every host on the Internet")
    elif all_term is not None and all_term.qualifier == "?":
        warnings.append("'?all' is neutral: receivers learn nothing from the record; end with -all or ~all")
    elif all_term is None and not record.redirect:
        warnings.append("no 'all' term: mail from unlisted hosts is neutral; end with -all or ~all")
    results = {a: evaluate_spf(lookup, domain, a) for a in addresses}
    refused = {a: r for a, r in results.items() if r != "pass"}
    if refused:
        problems.append("not authorised: " + ", ".join(f"{a} ({r})" for a, r in sorted(refused.items())))
    found = {"record": record_text, "lookups": walk.lookups, "void_lookups": walk.void_lookups, "results": results}
    if problems and any(r == "temperror" for r in results.values()):
        # DNS failed somewhere along the record's terms: the record may be right; propose nothing.
        return Result("spf", "fail", f"one valid record authorising {', '.join(addresses)}", found, "; ".join(problems))
    if problems:
        publish = [_spf_zone(domain, _repair_spf(record_text, addresses, flatten=walk.lookups > max_lookups))]
        if walk.lookups > max_lookups:
            publish.insert(
                0,
                "; replaces the current record: includes flattened to this host's addresses; "
                "add the other senders as ip4:/ip6: terms to stay within the lookup limit",
            )
        return Result(
            "spf", "fail", f"one valid record authorising {', '.join(addresses)}", found, "; ".join(problems), publish
        )
    if warnings:
        return Result(
            "spf",
            "warn",
            "a record ending in -all or ~all",
            found,
            "; ".join(warnings),
            [_spf_zone(domain, _repair_spf(record_text, addresses))],
        )
    return Result("spf", "pass", f"authorises {', '.join(addresses)}", found, f"SPF authorises {', '.join(addresses)}")


def _ip_term(address: str) -> str:
    return ("ip4:" if ipaddress.ip_address(address).version == 4 else "ip6:") + str(ipaddress.ip_address(address))


def _spf_line(domain: str, terms: str, ending: str) -> str:
    return _spf_zone(domain, " ".join(p for p in ("v=spf1", terms, ending) if p))


def _spf_zone(domain: str, record: str) -> str:
    return zone_line(domain, "TXT", txt_rdata(record))


def _repair_spf(record_text: str, addresses: list[str], flatten: bool = False) -> str:
    """The record with the host's addresses added, +all/?all/missing all fixed; optionally flattened."""
    parts = record_text.split()[1:]
    ending = "-all"
    kept = []
    for part in parts:
        low = part.lower()
        if low in ("all", "+all", "-all", "~all", "?all"):
            ending = "~all" if low == "~all" else "-all"
            continue
        if low.startswith("redirect="):
            continue
        if flatten and re.match(r"^[+\-~?]?(include|a|mx|ptr|exists)([:/]|$)", low):
            continue
        kept.append(part)
    for address in addresses:
        term = _ip_term(address)
        if term not in kept:
            kept.append(term)
    return "v=spf1 " + " ".join(kept) + " " + ending
