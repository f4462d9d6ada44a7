# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DMARC policy records (staged rollout none -> quarantine -> reject) and the reporting policies MTA-STS and TLS-RPT."""

from __future__ import annotations

import re

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import parse_tags
from ansible_collections.mailops.mailhost.plugins.module_utils._dns_answer import (
    Lookup,
    Result,
    bare,
    fail_from_answer,
    fqdn,
    txt_rdata,
    zone_line,
)

DMARC_STAGES = ("none", "quarantine", "reject")


def dmarc_name(domain: str) -> str:
    return f"_dmarc.{domain}"


def mta_sts_name(domain: str) -> str:
    return f"_mta-sts.{domain}"


def tls_rpt_name(domain: str) -> str:
    return f"_smtp._tls.{domain}"


# --- DMARC, MTA-STS, TLS-RPT -------------------------------------------------------------

_DMARC_TAGS = {"v", "p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "np", "psd", "t"}


def _uri_list_ok(value: str, schemes: tuple[str, ...]) -> bool:
    uris = [u.strip() for u in value.split(",") if u.strip()]
    return bool(uris) and all(any(u.lower().startswith(s) for s in schemes) and len(u) > len(schemes[0]) for u in uris)


def check_dmarc(lookup: Lookup, domain: str, stage: str) -> Result:
    name = dmarc_name(domain)
    publish = [zone_line(name, "TXT", txt_rdata(f"v=DMARC1; p={stage}; rua=mailto:postmaster@{bare(domain)}"))]
    answer = lookup(name, "TXT")
    if not answer.ok:
        return fail_from_answer("dmarc", answer, name, "TXT", f"v=DMARC1; p={stage}", publish)
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
        return fail_from_answer(check, answer, name, "TXT", f"v={version}", publish), {}
    records = [t for t in answer.records if t.strip().lower().startswith(f"v={version.lower()}")]
    if len(records) != 1:
        message = (
            f"{name} has no v={version} record" if not records else f"{name} has {len(records)} v={version} records"
        )
        return Result(check, "fail", f"one v={version} record", answer.records, message, publish), {}
    return None, {"record": records[0], **parse_tags(records[0])}


def check_mta_sts(lookup: Lookup, domain: str, policy_id: str) -> Result:
    name = mta_sts_name(domain)
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
    name = tls_rpt_name(domain)
    publish = [zone_line(name, "TXT", txt_rdata(f"v=TLSRPTv1; rua=mailto:tlsrpt@{bare(domain)}"))]
    failed, tags = _single_tagged(lookup, "tls_rpt", name, "TLSRPTv1", publish)
    if failed:
        return failed
    if not _uri_list_ok(tags.get("rua", ""), ("mailto:", "https://")):
        return Result(
            "tls_rpt", "fail", "rua= mailto: or https: URIs", tags["record"], "rua= is missing or invalid", publish
        )
    return Result("tls_rpt", "pass", "v=TLSRPTv1; rua=...", tags["record"], f"TLS reports go to {tags['rua']}")
