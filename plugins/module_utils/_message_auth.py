# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A message judged as a receiving MTA would: DKIM, SPF and DMARC, with maintained libraries.

dkimpy verifies each DKIM-Signature against the key published in DNS, pyspf evaluates SPF
(check_host() of RFC 7208) for a connecting address and the envelope sender. DMARC policy
discovery (RFC 7489 6.6.3) and alignment (3.1: relaxed - the same organizational domain, strict -
the same domain) are written here over the public suffix list of publicsuffix2, with the list's
default rule "*" applied: authheaders (and publicsuffix2's get_sld) give 'example' as the
organizational domain of my-corp.example and 'test' for every name under .test, so any two such
domains would align; authheaders' DMARC evaluation also drops hyphens from domains.

DNS goes to the servers of the given lookup: dkimpy through a dnsfunc, DMARC discovery through
the lookup itself, pyspf through dnspython's default resolver, which ``use_resolver`` points at
the same servers. Runs on the controller (mail_dns is delegated there).
"""

from __future__ import annotations

import logging
import re

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import parse_tags
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import Lookup, Result, bare

try:
    import dkim
    import dns.resolver
    import spf
    from publicsuffix2 import get_tld

    HAS_AUTH_LIBS = True
except ImportError:  # reported by the module with a plain message
    HAS_AUTH_LIBS = False

MESSAGE_CHECKS = ("spf_message", "dkim_message", "dmarc_message")


class _Collect(logging.Handler):
    """Keeps what dkimpy logs about a verification: its reason for a failure."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.lines.append(record.getMessage())


def use_resolver(resolver) -> None:
    """Send pyspf's queries (dnspython's default resolver) to the audit's servers."""
    dns.resolver.default_resolver = resolver


def _dnsfunc(lookup: Lookup):
    def get_txt(name, timeout=5):  # dkimpy's interface: the TXT record as bytes, or None
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)
        answer = lookup(text, "TXT")
        if answer.is_error:
            raise dkim.DnsTimeoutError(answer.describe(bare(text), "TXT"))
        return answer.records[0].encode("utf-8") if answer.ok else None

    return get_txt


def signatures(message: bytes, lookup: Lookup) -> list[dict]:
    """Every DKIM-Signature of the message verified against DNS: d, s, result (pass/fail/temperror), reason."""
    headers, _body = dkim.rfc822_parse(message)
    count = sum(1 for name, _value in headers if name.lower() == b"dkim-signature")
    found = []
    for index in range(count):
        collect = _Collect()
        logger = logging.getLogger(f"mailhost.dkim.{index}")
        logger.addHandler(collect)
        logger.propagate = False
        verifier = dkim.DKIM(message, logger=logger)
        try:
            ok = verifier.verify(idx=index, dnsfunc=_dnsfunc(lookup))
            reason = "; ".join(collect.lines)
        except dkim.DKIMException as exc:
            ok, reason = False, str(exc)
        finally:
            logger.removeHandler(collect)
        fields = getattr(verifier, "signature_fields", {}) or {}
        domain = fields.get(b"d", b"").decode("ascii", "replace").lower()
        selector = fields.get(b"s", b"").decode("ascii", "replace")
        result = "pass" if ok else ("temperror" if "DnsTimeoutError" in reason else "fail")
        if not ok and not reason:
            reason = f"the signature does not verify against the key published at {selector}._domainkey.{domain}"
        found.append({"d": domain, "s": selector, "result": result, "reason": reason})
    return found


def org_domain(domain: str) -> str:
    """RFC 7489 3.2: the public suffix (PSL, unlisted TLDs by the default rule) and one label more."""
    name = bare(domain).lower()
    labels = name.split(".")
    suffix = get_tld(name, wildcard=True) or labels[-1]
    size = len(suffix.split("."))
    return ".".join(labels[-(size + 1) :]) if len(labels) > size else name


def aligned(from_domain: str, other: str, mode: str) -> bool:
    """RFC 7489 3.1: strict - the same domain; relaxed - the same organizational domain."""
    a, b = bare(from_domain).lower(), bare(other or "").lower()
    if not b:
        return False
    if mode == "s":
        return a == b
    return org_domain(a) == org_domain(b)


def check_dkim_message(message: bytes, domain: str, lookup: Lookup) -> tuple[Result, list[dict]]:
    found = signatures(message, lookup)
    evidence = {"signatures": found}
    passing = [s for s in found if s["result"] == "pass"]
    if not found:
        return Result(
            "dkim_message",
            "fail",
            f"a DKIM signature of {domain}",
            evidence,
            "the probe message carries no DKIM signature: is opendkim signing the host's mail?",
        ), found
    if any(aligned(domain, s["d"], "r") for s in passing):
        good = next(s for s in passing if aligned(domain, s["d"], "r"))
        return Result(
            "dkim_message",
            "pass",
            f"a DKIM signature of {domain}",
            evidence,
            f"the signature d={good['d']} s={good['s']} verifies against the key published in DNS",
        ), found
    if passing:
        names = ", ".join(f"d={s['d']}" for s in passing)
        message_text = f"signatures verify ({names}) but none is of {domain} or its organizational domain"
    else:
        message_text = "; ".join(f"d={s['d']} s={s['s']}: {s['result']}: {s['reason']}" for s in found)
    return Result("dkim_message", "fail", f"a DKIM signature of {domain}", evidence, message_text), found


def check_spf_message(address: str, sender: str, helo: str, lookup: Lookup, timeout: float) -> Result:
    domain = sender.rpartition("@")[2]
    expected = "pass"
    base = lookup(domain, "TXT")
    if base.is_error:  # pyspf would wait for the same silent server; the answer is already known
        evidence = {"address": address, "mail_from": sender, "helo": helo, "result": "temperror"}
        return Result(
            "spf_message",
            "fail",
            expected,
            evidence,
            f"SPF temperror for {address}: {base.describe(domain, 'TXT')}",
            subject=address,
        )
    result, explanation = spf.check2(i=address, s=sender, h=helo, timeout=timeout, querytime=max(timeout * 3, 20))
    evidence = {"address": address, "mail_from": sender, "helo": helo, "result": result, "explanation": explanation}
    if result == "pass":
        return Result(
            "spf_message",
            "pass",
            expected,
            evidence,
            f"SPF pass: {domain} authorises {address} to send its mail",
            subject=address,
        )
    return Result(
        "spf_message",
        "fail",
        expected,
        evidence,
        f"SPF {result} for mail from {sender} sent by {address}: {explanation}",
        subject=address,
    )


def _dmarc_record(name: str, lookup: Lookup) -> tuple[dict | None, str]:
    answer = lookup(f"_dmarc.{name}", "TXT")
    if answer.is_error:
        return None, answer.describe(f"_dmarc.{name}", "TXT")
    records = [t for t in answer.records if re.match(r"^v\s*=\s*DMARC1\s*(;|$)", t.strip())] if answer.ok else []
    return (parse_tags(records[0]) if len(records) == 1 else None), ""  # several records count as none


def dmarc_policy_record(domain: str, lookup: Lookup) -> tuple[dict, str | None, str]:
    """(tags, the domain whose record applies, problem) - policy discovery as a receiver does it (RFC 7489 6.6.3)."""
    name = bare(domain).lower()
    for candidate in dict.fromkeys((name, org_domain(name))):
        tags, problem = _dmarc_record(candidate, lookup)
        if problem:
            return {}, None, problem
        if tags is not None:
            if tags.get("p", "").lower() not in ("none", "quarantine", "reject"):
                return {}, None, f"the DMARC record at _dmarc.{candidate} has no valid p= tag"
            return {k: v.lower() if k in ("p", "sp", "adkim", "aspf") else v for k, v in tags.items()}, candidate, ""
    return {}, None, f"no DMARC record at _dmarc.{name} or its organizational domain"


def check_dmarc_message(
    domain: str, address: str, spf_result: Result, dkim_found: list[dict], lookup: Lookup, sender: str
) -> Result:
    tags, policy_domain, problem = dmarc_policy_record(domain, lookup)
    expected = "pass, aligned"
    if problem:
        evidence = {
            "address": address,
            "result": "temperror" if "timeout" in problem or "SERVFAIL" in problem or "REFUSED" in problem else "none",
        }
        return Result("dmarc_message", "fail", expected, evidence, f"DMARC: {problem}", subject=address)
    policy = tags.get("p", "")
    if policy_domain != bare(domain):
        policy = tags.get("sp", policy)
    adkim, aspf = tags.get("adkim", "r"), tags.get("aspf", "r")
    envelope = sender.rpartition("@")[2]
    spf_aligned = spf_result.status == "pass" and aligned(domain, envelope, aspf)
    dkim_aligned = [s for s in dkim_found if s["result"] == "pass" and aligned(domain, s["d"], adkim)]
    evidence = {
        "address": address,
        "policy": policy,
        "record_of": policy_domain,
        "adkim": adkim,
        "aspf": aspf,
        "spf_aligned": spf_aligned,
        "dkim_aligned": bool(dkim_aligned),
        "result": "pass" if spf_aligned or dkim_aligned else "fail",
    }
    if spf_aligned or dkim_aligned:
        how = " and ".join(part for part, ok in (("DKIM", dkim_aligned), ("SPF", spf_aligned)) if ok)
        return Result(
            "dmarc_message",
            "pass",
            expected,
            evidence,
            f"DMARC pass for mail from {address}: {how} aligned with {domain} (p={policy})",
            subject=address,
        )
    reasons = []
    reasons.append(
        "SPF "
        + ("passes but is not aligned" if spf_result.status == "pass" else f"does not pass ({spf_result.message})")
    )
    reasons.append(
        "no DKIM signature of the domain verifies"
        if not any(s["result"] == "pass" for s in dkim_found)
        else "the verifying DKIM signatures are not aligned"
    )
    return Result(
        "dmarc_message",
        "fail",
        expected,
        evidence,
        f"DMARC fail for mail from {address}: receivers apply p={policy} to it; " + "; ".join(reasons),
        subject=address,
    )


def evaluate_message(
    message: bytes, sender: str, helo: str, addresses: list[str], domain: str, lookup: Lookup, timeout: float = 3.0
) -> list[Result]:
    """dkim_message once, spf_message and dmarc_message for each public address."""
    dkim_result, found = check_dkim_message(message, domain, lookup)
    dkim_result.subject = bare(domain)
    results = [dkim_result]
    for address in addresses:
        spf_result = check_spf_message(address, sender, helo, lookup, timeout)
        results.append(spf_result)
        results.append(check_dmarc_message(domain, address, spf_result, found, lookup, sender))
    return results
