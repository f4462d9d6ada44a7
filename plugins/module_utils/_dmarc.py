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


def check_dmarc(lookup: Lookup, domain: str, stage: str | None) -> Result:
    """The domain's DMARC record: one, valid, and (unless ``stage`` is None) at the stage expected or beyond.

    With ``stage`` None the record alone is judged; the dmarc_stage check weighs the stage.
    """
    judge_stage = stage is not None
    stage = stage or "none"
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
    if judge_stage and policy in DMARC_STAGES and DMARC_STAGES.index(policy) < DMARC_STAGES.index(stage):
        problems.append(f"policy p={policy} is behind the expected stage p={stage}")
    elif judge_stage and policy == "none":
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
        # What would clear the warnings: the next stage after none (when stages are judged), known tags, no pct.
        target = "quarantine" if policy == "none" and judge_stage else policy
        fixed = _dmarc_fixed(tags, target, domain, drop=unknown + ["pct"])
        return Result(
            "dmarc", "warn", f"p={stage} or stricter", found, "; ".join(warnings), [zone_line(name, "TXT", fixed)]
        )
    if not judge_stage:
        return Result("dmarc", "pass", "one valid DMARC record", found, f"{name} holds a valid record, p={policy}")
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


# --- the guarded rollout none -> quarantine -> reject ------------------------------------------


def stage_record(domain: str, tags: dict[str, str], stage: str) -> str:
    """The zone line of the DMARC record at ``stage``, keeping the published tags that still mean something.

    pct= and t= are dropped: RFC 9989 removed pct and its t=y would turn the policy into a test,
    so the record applies the stage to all mail under both RFC 7489 and RFC 9989.
    """
    kept = {k: v for k, v in tags.items() if k not in ("v", "p", "pct", "t")}
    if not tags:
        kept = {"rua": f"mailto:postmaster@{bare(domain)}"}
    return zone_line(dmarc_name(domain), "TXT", _dmarc_fixed(kept, stage, domain))


def _published(lookup: Lookup, domain: str) -> tuple[str | None, dict, str]:
    """(published policy or None, its tags, why it is unknown) from the domain's own DMARC record."""
    name = dmarc_name(domain)
    answer = lookup(name, "TXT")
    if answer.is_error:
        return None, {}, answer.describe(bare(name), "TXT")
    proper = [t for t in answer.records if re.match(r"^v\s*=\s*DMARC1\s*(;|$)", t.strip())] if answer.ok else []
    if len(proper) != 1:
        return "", {}, ""  # no (single) record: nothing is published
    tags = parse_tags(proper[0])
    policy = tags.get("p", "").lower()
    return (policy if policy in DMARC_STAGES else ""), tags, ""


def check_dmarc_stage(
    lookup: Lookup,
    domain: str,
    asked: str,
    proof: list[Result] | None,
    reports: dict | None = None,
    required_share: float = 98.0,
) -> Result:
    """The stage published against the stage asked, and whether the next stage is safe yet.

    Quarantine and reject are refused (neither recommended nor accepted as published) while the
    probe message does not pass DMARC with alignment from every public address, and, when
    aggregate reports are read, while less than ``required_share`` per cent of the domain's mail
    in them passed aligned.
    """
    name = dmarc_name(domain)
    published, tags, unknown = _published(lookup, domain)
    expected = {"asked": asked}
    if unknown:
        return Result(
            "dmarc_stage", "fail", expected, {"published": None}, f"the published stage is unknown: {unknown}"
        )
    if proof is None:
        return Result(
            "dmarc_stage",
            "skipped",
            expected,
            {"published": published or None},
            "no probe message to judge the stage on (the probe was not sent)",
        )
    failing = [r for r in proof if r.status != "pass"]
    guards = []
    if failing:
        guards.append(
            "the probe message does not pass DMARC with alignment for "
            f"{bare(domain)}: " + "; ".join(r.message for r in failing)
        )
    if reports is not None:
        share, messages = reports.get("share"), reports.get("messages", 0)
        if reports.get("problems") and not messages:
            guards.append("the aggregate reports cannot be read: " + "; ".join(reports["problems"][:3]))
        elif not messages:
            guards.append(
                f"no aggregate report for {bare(domain)} in the last {reports.get('days')} days"
                f" in {reports.get('directory')}"
            )
        elif share is not None and share < required_share:
            guards.append(
                f"only {share:g}% of {messages} messages in the aggregate reports of the last"
                f" {reports.get('days')} days passed aligned (needs {required_share:g}%)"
            )
    shown = published or "no record"
    pub_index = DMARC_STAGES.index(published) if published else -1
    ask_index = DMARC_STAGES.index(asked)
    following = DMARC_STAGES[pub_index + 1] if pub_index + 1 < len(DMARC_STAGES) else None
    evidence = {
        "published": published or None,
        "asked": asked,
        "next": following,
        "next_record": stage_record(domain, tags, following) if following else "",
        "aligned": not failing,
        "reports": reports,
        "required_share": required_share if reports is not None else None,
    }
    if pub_index >= 1 and failing:
        return Result(
            "dmarc_stage",
            "fail",
            expected,
            evidence,
            f"p={published} is published at {name}, but mail from this host fails DMARC: receivers "
            f"{'reject' if published == 'reject' else 'quarantine'} it. Refused until the proof passes; "
            "go back to p=none meanwhile. " + guards[0],
            ["; back to monitoring until mail from this host passes DMARC aligned", stage_record(domain, tags, "none")],
        )
    if ask_index > pub_index:
        if following != "none" and guards:
            return Result(
                "dmarc_stage",
                "fail",
                expected,
                evidence,
                f"p={asked} is asked, p={shown} is published; refusing to recommend p={following}: "
                + "; ".join(guards),
            )
        return Result(
            "dmarc_stage",
            "fail",
            expected,
            evidence,
            f"p={shown} is published, p={asked} is asked: publish the next stage, p={following}",
            [stage_record(domain, tags, following)],
        )
    if ask_index < pub_index:
        return Result(
            "dmarc_stage",
            "warn",
            expected,
            evidence,
            f"p={published} is published, beyond the stage asked (p={asked}): set mailhost_dmarc_policy: {published}",
        )
    if guards and pub_index >= 1:
        return Result("dmarc_stage", "warn", expected, evidence, f"p={published} as asked, but " + "; ".join(guards))
    after = f"; the next stage would be p={following}" if following else "; the last stage"
    ready = "" if not following or following == "none" or not guards else " (not yet: " + "; ".join(guards) + ")"
    return Result("dmarc_stage", "pass", expected, evidence, f"p={published} is published, as asked{after}{ready}")
