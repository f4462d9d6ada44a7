# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mail DNS checks (MX, A/AAAA, PTR, SPF, DKIM, DMARC, MTA-STS, TLS-RPT) as pure logic.

Every check takes a ``lookup(name, rdtype) -> Answer`` callable, so the logic is tested
with fakes and used with a real resolver by the mail_dns module. A check returns its
status (pass, warn, fail), what was expected and found, a plain-language message and
the zone-file lines that would make it pass.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

TTL = 3600
DEFAULT_CHECKS = ("mx", "a", "ptr", "spf", "dkim", "dmarc")
ALL_CHECKS = ("mx", "a", "aaaa", "ptr", "spf", "dkim", "dmarc", "mta_sts", "tls_rpt")
DMARC_STAGES = ("none", "quarantine", "reject")


@dataclass
class Answer:
    """The outcome of one DNS query."""

    status: str  # ok, nxdomain, nodata, servfail, timeout, refused, error
    records: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.records)

    def describe(self, name: str, rdtype: str) -> str:
        return {
            "nxdomain": f"{name} does not exist (NXDOMAIN)",
            "nodata": f"{name} has no {rdtype} record",
            "servfail": f"the DNS server failed to answer for {name} {rdtype} (SERVFAIL)",
            "timeout": f"no answer for {name} {rdtype}: the DNS server did not respond (timeout)",
            "refused": f"the DNS server refused the query for {name} {rdtype} (REFUSED)",
        }.get(self.status, f"query for {name} {rdtype} failed: {self.detail or self.status}")

    @property
    def is_error(self) -> bool:
        """A failure of the DNS service itself (as opposed to an answer saying 'no such record')."""
        return self.status in ("servfail", "timeout", "refused", "error")


Lookup = Callable[[str, str], Answer]


@dataclass
class Result:
    check: str
    status: str
    expected: object
    found: object
    message: str
    publish: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "check": self.check,
            "status": self.status,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
            "records_to_publish": self.publish,
        }


def fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def bare(name: str) -> str:
    return name.rstrip(".").lower()


def txt_strings(value: str, size: int = 255) -> list[str]:
    """Split a TXT value into strings of at most ``size`` characters."""
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def txt_rdata(value: str) -> str:
    """Zone-file rdata for a TXT value, split into quoted strings where needed."""
    parts = ['"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in txt_strings(value)]
    return parts[0] if len(parts) == 1 else "( " + " ".join(parts) + " )"


def zone_line(owner: str, rdtype: str, rdata: str) -> str:
    return f"{fqdn(owner)} {TTL} IN {rdtype} {rdata}"


def reverse_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."


def _fail_from_answer(check: str, answer: Answer, name: str, rdtype: str, expected, publish) -> Result:
    return Result(check, "fail", expected, answer.status, answer.describe(bare(name), rdtype), publish)


# --- MX, A/AAAA, PTR ----------------------------------------------------------------------


def parse_mx(record: str) -> tuple[int, str]:
    pref, _sep, target = record.strip().partition(" ")
    return int(pref), bare(target)


def check_mx(lookup: Lookup, domain: str, hostname: str) -> Result:
    publish = [zone_line(domain, "MX", f"10 {fqdn(hostname)}")]
    answer = lookup(domain, "MX")
    if not answer.ok:
        return _fail_from_answer("mx", answer, domain, "MX", [bare(hostname)], publish)
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
        return _fail_from_answer(check, answer, hostname, rdtype, wanted, publish)
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
            publish.append(line)
            continue
        if bare(hostname) not in names:
            problems.append(f"{address}: PTR names {', '.join(names)}, not {bare(hostname)}")
            publish.append(line)
            continue
        rdtype = "A" if ipaddress.ip_address(address).version == 4 else "AAAA"
        forward = lookup(hostname, rdtype)
        forward_ips = {str(ipaddress.ip_address(r)) for r in forward.records} if forward.ok else set()
        if str(ipaddress.ip_address(address)) not in forward_ips:
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
        return _fail_from_answer(
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


# --- DKIM --------------------------------------------------------------------------------


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
            tag, bits, _ = _der_item(body, after)
            if tag != 0x03:
                raise ValueError("no BIT STRING")
            tag, rsa, _ = _der_item(bits[1:], 0)
            tag, modulus, _ = _der_item(rsa, 0)
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


def dkim_record(selector: str, domain: str, public_key: str) -> str:
    return zone_line(f"{selector}._domainkey.{domain}", "TXT", txt_rdata(f"v=DKIM1; k=rsa; p={public_key}"))


def check_dkim(lookup: Lookup, domain: str, selector: str, expected_key: str | None, min_bits: int = 2048) -> Result:
    name = f"{selector}._domainkey.{domain}"
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
        return _fail_from_answer("dkim", answer, name, "TXT", f"v=DKIM1; k=rsa; p=<{min_bits}-bit key>", publish)
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


# --- DMARC, MTA-STS, TLS-RPT -------------------------------------------------------------

_DMARC_TAGS = {"v", "p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "np", "psd", "t"}


def _uri_list_ok(value: str, schemes: tuple[str, ...]) -> bool:
    uris = [u.strip() for u in value.split(",") if u.strip()]
    return bool(uris) and all(any(u.lower().startswith(s) for s in schemes) and len(u) > len(schemes[0]) for u in uris)


def check_dmarc(lookup: Lookup, domain: str, stage: str) -> Result:
    name = f"_dmarc.{domain}"
    publish = [zone_line(name, "TXT", txt_rdata(f"v=DMARC1; p={stage}; rua=mailto:postmaster@{bare(domain)}"))]
    answer = lookup(name, "TXT")
    if not answer.ok:
        return _fail_from_answer("dmarc", answer, name, "TXT", f"v=DMARC1; p={stage}", publish)
    candidates = [t for t in answer.records if "dmarc" in t.lower() or re.search(r"(^|;)\s*p\s*=", t)]
    proper = [t for t in candidates if re.match(r"^v\s*=\s*DMARC1\s*(;|$)", t.strip())]
    if len(proper) > 1:
        return Result(
            "dmarc",
            "fail",
            "one DMARC record",
            proper,
            f"{name} has {len(proper)} DMARC records; receivers ignore them all",
            ["; delete every TXT record of " + fqdn(name) + " and publish only this one", *publish],
        )
    if not proper:
        if candidates:
            return Result(
                "dmarc",
                "fail",
                "a record starting with v=DMARC1",
                candidates,
                f"{name} has a record that does not start with v=DMARC1; receivers ignore it",
                publish,
            )
        return Result("dmarc", "fail", f"v=DMARC1; p={stage}", answer.records, f"{name} has no DMARC record", publish)
    text = proper[0]
    tags = parse_tags(text)
    problems, warnings = [], []
    policy = tags.get("p", "").lower()
    if policy not in DMARC_STAGES:
        problems.append("p= is missing" if not policy else f"p={policy} is not none, quarantine or reject")
    unknown = sorted(set(tags) - _DMARC_TAGS)
    if unknown:
        warnings.append(f"unknown tags: {', '.join(unknown)}")
    if "sp" in tags and tags["sp"].lower() not in DMARC_STAGES:
        problems.append(f"sp={tags['sp']} is not none, quarantine or reject")
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag].lower() not in ("r", "s"):
            problems.append(f"{tag}={tags[tag]} must be r or s")
    for tag in ("rua", "ruf"):
        if tag in tags and not _uri_list_ok(tags[tag], ("mailto:",)):
            problems.append(f"{tag}= must be a list of mailto: URIs")
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        problems.append(f"pct={tags['pct']} must be 0 to 100")
    if policy in DMARC_STAGES and DMARC_STAGES.index(policy) < DMARC_STAGES.index(stage):
        problems.append(f"policy p={policy} is behind the expected stage p={stage}")
    elif policy == "none":
        warnings.append("p=none only monitors: next stages are quarantine, then reject")
    if "pct" in tags and tags["pct"].isdigit() and int(tags["pct"]) < 100 and policy != "none":
        warnings.append(f"pct={tags['pct']} applies the policy to part of the mail only")
    found = {"record": text, "policy": policy}
    if problems:
        behind = policy not in DMARC_STAGES or DMARC_STAGES.index(policy) < DMARC_STAGES.index(stage)
        fixed = _dmarc_fixed(tags, stage if behind else policy, domain)
        return Result(
            "dmarc", "fail", f"p={stage} or stricter", found, "; ".join(problems), [zone_line(name, "TXT", fixed)]
        )
    if warnings:
        # What would clear the warnings: the next stage after none, known tags only, pct=100.
        fixed = _dmarc_fixed(tags, "quarantine" if policy == "none" else policy, domain, drop=unknown + ["pct"])
        return Result(
            "dmarc", "warn", f"p={stage} or stricter", found, "; ".join(warnings), [zone_line(name, "TXT", fixed)]
        )
    return Result("dmarc", "pass", f"p={stage} or stricter", found, f"DMARC policy p={policy}")


def _dmarc_fixed(tags: dict[str, str], policy: str, domain: str, drop: list[str] | None = None) -> str:
    """A DMARC record with the given policy, invalid tags repaired or dropped, as TXT rdata."""
    fixed = {k: v for k, v in tags.items() if k not in (drop or [])}
    fixed["p"] = policy
    for tag in ("rua", "ruf"):
        if tag in fixed and not _uri_list_ok(fixed[tag], ("mailto:",)):
            fixed[tag] = f"mailto:postmaster@{bare(domain)}"
    for tag in ("adkim", "aspf"):
        if tag in fixed and fixed[tag].lower() not in ("r", "s"):
            fixed[tag] = "r"
    if "sp" in fixed and fixed["sp"].lower() not in DMARC_STAGES:
        del fixed["sp"]
    if "pct" in fixed and not (fixed["pct"].isdigit() and 0 <= int(fixed["pct"]) <= 100):
        del fixed["pct"]
    value = "; ".join(["v=DMARC1", f"p={fixed['p']}"] + [f"{k}={v}" for k, v in fixed.items() if k not in ("v", "p")])
    return txt_rdata(value)


def _single_tagged(
    lookup: Lookup, check: str, name: str, version: str, publish: list[str]
) -> tuple[Result | None, dict]:
    answer = lookup(name, "TXT")
    if not answer.ok:
        return _fail_from_answer(check, answer, name, "TXT", f"v={version}", publish), {}
    records = [t for t in answer.records if t.strip().lower().startswith(f"v={version.lower()}")]
    if len(records) != 1:
        message = (
            f"{name} has no v={version} record" if not records else f"{name} has {len(records)} v={version} records"
        )
        return Result(check, "fail", f"one v={version} record", answer.records, message, publish), {}
    return None, {"record": records[0], **parse_tags(records[0])}


def check_mta_sts(lookup: Lookup, domain: str, policy_id: str) -> Result:
    name = f"_mta-sts.{domain}"
    publish = [zone_line(name, "TXT", txt_rdata(f"v=STSv1; id={policy_id}"))]
    failed, tags = _single_tagged(lookup, "mta_sts", name, "STSv1", publish)
    if failed:
        return failed
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", tags.get("id", "")):
        return Result(
            "mta_sts", "fail", "id= of 1 to 32 letters and digits", tags["record"], "id= is missing or invalid", publish
        )
    return Result("mta_sts", "pass", "v=STSv1; id=...", tags["record"], f"MTA-STS policy id {tags['id']}")


def check_tls_rpt(lookup: Lookup, domain: str) -> Result:
    name = f"_smtp._tls.{domain}"
    publish = [zone_line(name, "TXT", txt_rdata(f"v=TLSRPTv1; rua=mailto:tlsrpt@{bare(domain)}"))]
    failed, tags = _single_tagged(lookup, "tls_rpt", name, "TLSRPTv1", publish)
    if failed:
        return failed
    if not _uri_list_ok(tags.get("rua", ""), ("mailto:", "https://")):
        return Result(
            "tls_rpt", "fail", "rua= mailto: or https: URIs", tags["record"], "rua= is missing or invalid", publish
        )
    return Result("tls_rpt", "pass", "v=TLSRPTv1; rua=...", tags["record"], f"TLS reports go to {tags['rua']}")


# --- all together -------------------------------------------------------------------------


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
) -> dict:
    """Run the checks; returns results, records_to_publish and whether the whole set failed."""
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
        elif check == "dkim":
            results.append(check_dkim(lookup, domain, dkim_selector or "default", dkim_public_key))
        elif check == "dmarc":
            results.append(check_dmarc(lookup, domain, dmarc_policy))
        elif check == "mta_sts":
            results.append(check_mta_sts(lookup, domain, mta_sts_id or "1"))
        elif check == "tls_rpt":
            results.append(check_tls_rpt(lookup, domain))
        else:
            raise ValueError(f"unknown check {check!r}; choose from {', '.join(ALL_CHECKS)}")
    failing = [r for r in results if r.status == "fail" or (strict and r.status == "warn")]
    publish = [line for r in failing for line in r.publish]
    return {
        "results": [r.as_dict() for r in results],
        "records_to_publish": publish,
        "failed_checks": [r.check for r in failing],
        "failed": bool(failing),
    }
