# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure verdicts for the daily mail host checklist, and the opendkim tables it reads the keys from.

Every check is a dict of the report's shape: check, subject (what of the host it is about, or ''),
status (pass, warn, fail, skipped), message (plain language), evidence (what was measured) and
records (zone-file lines to publish; only the DNS checks have any).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

STATUSES = ("pass", "warn", "fail", "skipped")
# syslog priorities: 0 emerg .. 3 err, 4 warning; Postfix logs rejects at info.
# Postfix starts its own error lines with the severity ("fatal: ..."); words further in, such as
# OpenSSL's "error:0A000418" inside a "warning: TLS library problem", are not the line's severity.
_ERROR_RE = re.compile(r"^(error|fatal|panic):")
_WARNING_RE = re.compile(r"^warning:|\breject:")
_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.S)
_VERIFY_RE = re.compile(r"^\s*Verify return code: (\d+) \((.*)\)\s*$", re.M)


def item(check: str, status: str, message: str, evidence: dict | None = None, subject: str = "") -> dict:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return {
        "check": check,
        "subject": subject,
        "status": status,
        "message": message,
        "evidence": evidence or {},
        "records": [],
    }


def queue_verdict(size: int, max_queue: int) -> dict:
    evidence = {"messages": size, "limit": max_queue}
    if size <= max_queue:
        return item("queue", "pass", f"{size} message(s) in the queue", evidence)
    return item(
        "queue", "fail", f"{size} messages in the queue, more than {max_queue}: look at mailq (postqueue -p)", evidence
    )


def classify_journal(entries) -> tuple[list[str], list[str]]:
    """(errors, warnings) among (identifier, priority, message) Postfix entries; rejects count as warnings."""
    errors, warnings = [], []
    for ident, priority, message in entries:
        line = f"{ident}: {message}"
        if priority <= 3 or _ERROR_RE.search(message):
            errors.append(line)
        elif priority == 4 or _WARNING_RE.search(message):
            warnings.append(line)
    return errors, warnings


def parse_s_client(out: str) -> tuple[list[str], int | None, str]:
    """(served chain as PEM blocks, leaf first; OpenSSL's verify code; its words) from s_client -showcerts."""
    found = _VERIFY_RE.findall(out)
    code, words = (int(found[-1][0]), found[-1][1]) if found else (None, "")
    return _PEM_RE.findall(out), code, words


def journal_verdict(errors: list[str], max_errors: int, hours: int) -> dict:
    evidence = {"errors": len(errors), "limit": max_errors, "hours": hours, "sample": errors[:5]}
    if len(errors) <= max_errors:
        return item("journal", "pass", f"{len(errors)} Postfix error(s) in the last {hours} h", evidence)
    sample = "; ".join(errors[:3])
    return item("journal", "fail", f"{len(errors)} Postfix errors in the last {hours} h: {sample}", evidence)


def journal_warnings_verdict(warnings: list[str], max_warnings: int, hours: int) -> dict:
    evidence = {"warnings": len(warnings), "limit": max_warnings, "hours": hours, "sample": warnings[:5]}
    if len(warnings) <= max_warnings:
        return item(
            "journal_warnings",
            "pass",
            f"{len(warnings)} Postfix warning or reject line(s) in the last {hours} h",
            evidence,
        )
    sample = "; ".join(warnings[:3])
    return item(
        "journal_warnings",
        "warn",
        f"{len(warnings)} Postfix warning or reject lines in the last {hours} h (more than {max_warnings}): {sample}",
        evidence,
    )


def parse_enddate(text: str) -> datetime:
    """'notAfter=Nov 27 23:59:59 2036 GMT' (openssl x509 -enddate) -> aware datetime."""
    match = re.search(r"notAfter=(.+?)\s*$", text.strip(), re.MULTILINE)
    if not match:
        raise ValueError(f"no notAfter in {text!r}")
    value = re.sub(r"\s+", " ", match.group(1))
    return datetime.strptime(value, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)


def certificate_verdict(not_after: datetime, now: datetime, min_days: int, subject: str = "") -> dict:
    days = (not_after - now).days
    who = f" ({subject})" if subject else ""
    evidence = {"days": days, "limit": min_days, "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if days >= min_days:
        return item("certificate", "pass", f"the served certificate{who} is valid for {days} more days", evidence)
    if days < 0:
        return item("certificate", "fail", f"the served certificate{who} expired {-days} days ago", evidence)
    return item(
        "certificate",
        "fail",
        f"the served certificate{who} expires in {days} days (fewer than {min_days}): renew it (certbot renew)",
        evidence,
    )


def trust_verdict(problem: str | None, hostname: str, subject: str, issuer: str) -> dict:
    """Whether the served chain verifies against the host's trust store for ``hostname``.

    ``problem`` is OpenSSL's verification message (None when it verified). A self-signed
    certificate or one for another name is a warning: mail still flows (opportunistic TLS does
    not verify), but receivers that do (DANE, MTA-STS) and every audit after this one will not trust it.
    """
    evidence = {"hostname": hostname, "subject": subject, "issuer": issuer, "problem": problem or ""}
    if problem is None:
        return item(
            "certificate_trust",
            "pass",
            f"the served chain verifies against the host's trust store for {hostname} (issuer {issuer})",
            evidence,
        )
    lowered = problem.lower()
    if "self-signed" in lowered or "self signed" in lowered:
        reason = (
            f"the served certificate is self-signed ({subject}): nothing vouches for it; get one from an ACME CA "
            "(the certbot role)"
        )
    elif "hostname mismatch" in lowered or "not valid for" in lowered:
        reason = f"the served certificate ({subject}) is not valid for {hostname}: it must name the host's myhostname"
    elif "expired" in lowered:
        reason = f"the served certificate ({subject}) has expired"
    else:
        reason = f"the served chain does not verify for {hostname}: {problem} (issuer {issuer})"
    return item("certificate_trust", "warn", reason, evidence)


def parse_fail2ban_status(jails_output: str, per_jail: dict[str, str]) -> dict[str, int]:
    """Currently banned count per jail from 'fail2ban-client status [jail]' outputs."""
    counts = {}
    for jail, text in per_jail.items():
        match = re.search(r"Currently banned:\s*(\d+)", text)
        counts[jail] = int(match.group(1)) if match else 0
    return counts


def jail_names(status_output: str) -> list[str]:
    match = re.search(r"Jail list:\s*(.*)$", status_output, re.MULTILINE)
    return [j.strip() for j in match.group(1).split(",") if j.strip()] if match else []


def bans_verdict(counts: dict[str, int] | None, max_bans: int) -> dict:
    if counts is None:
        return item(
            "bans",
            "warn",
            "fail2ban is not installed or not running: brute force is not banned",
            {"banned": None, "limit": max_bans},
        )
    total = sum(counts.values())
    detail = ", ".join(f"{jail}: {n}" for jail, n in sorted(counts.items())) or "no jails"
    evidence = {"banned": total, "limit": max_bans, "jails": counts}
    if total <= max_bans:
        return item("bans", "pass", f"{total} address(es) banned ({detail})", evidence)
    return item("bans", "fail", f"{total} addresses banned, more than {max_bans} ({detail}): an attack?", evidence)


# --- opendkim's tables -----------------------------------------------------------------------


def opendkim_table_paths(conf_text: str) -> dict[str, str]:
    """The KeyTable and SigningTable file paths named in opendkim.conf (their 'file:'/'refile:' prefix removed)."""
    paths = {}
    for raw in conf_text.splitlines():
        line = raw.split("#", 1)[0].strip()
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] in ("KeyTable", "SigningTable"):
            value = parts[1].strip()
            for prefix in ("refile:", "file:", "csl:"):
                if value.startswith(prefix):
                    value = value[len(prefix) :]
            paths[parts[0]] = value
    return paths


def parse_key_table(text: str) -> list[dict]:
    """KeyTable lines 'name domain:selector:keypath' -> [{name, domain, selector, path}]."""
    keys = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _sep, value = line.partition(" ")
        fields = value.strip().split(":", 2)
        if len(fields) == 3 and all(fields):
            keys.append({"name": name, "domain": fields[0].lower(), "selector": fields[1], "path": fields[2]})
    return keys


def signing_key_names(text: str) -> set[str]:
    """The key names the SigningTable signs with (its second column)."""
    names = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        parts = line.split()
        if len(parts) >= 2:
            names.add(parts[1])
    return names
