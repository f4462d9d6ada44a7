# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure verdicts for the daily mail host checklist."""

from __future__ import annotations

import re
from datetime import datetime, timezone


def item(name: str, status: str, value, limit, message: str) -> dict:
    return {"check": name, "status": status, "value": value, "limit": limit, "message": message}


def queue_verdict(size: int, max_queue: int) -> dict:
    if size <= max_queue:
        return item("queue", "pass", size, max_queue, f"{size} message(s) in the queue")
    return item("queue", "fail", size, max_queue, f"{size} messages in the queue, more than {max_queue}: look at mailq")


def journal_verdict(errors: list[str], max_errors: int, hours: int) -> dict:
    if len(errors) <= max_errors:
        return item("journal", "pass", len(errors), max_errors, f"{len(errors)} Postfix error(s) in the last {hours} h")
    sample = "; ".join(errors[:3])
    return item(
        "journal", "fail", len(errors), max_errors, f"{len(errors)} Postfix errors in the last {hours} h: {sample}"
    )


def parse_enddate(text: str) -> datetime:
    """'notAfter=Nov 27 23:59:59 2036 GMT' (openssl x509 -enddate) -> aware datetime."""
    match = re.search(r"notAfter=(.+?)\s*$", text.strip())
    if not match:
        raise ValueError(f"no notAfter in {text!r}")
    value = re.sub(r"\s+", " ", match.group(1))
    return datetime.strptime(value, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)


def certificate_verdict(not_after: datetime, now: datetime, min_days: int, subject: str = "") -> dict:
    days = (not_after - now).days
    who = f" ({subject})" if subject else ""
    if days >= min_days:
        return item("certificate", "pass", days, min_days, f"the served certificate{who} is valid for {days} more days")
    if days < 0:
        return item("certificate", "fail", days, min_days, f"the served certificate{who} expired {-days} days ago")
    return item(
        "certificate", "fail", days, min_days, f"the served certificate{who} expires in {days} days (< {min_days})"
    )


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
            "bans", "warn", None, max_bans, "fail2ban is not installed or not running: brute force is not banned"
        )
    total = sum(counts.values())
    detail = ", ".join(f"{jail}: {n}" for jail, n in sorted(counts.items())) or "no jails"
    if total <= max_bans:
        return item("bans", "pass", total, max_bans, f"{total} address(es) banned ({detail})")
    return item(
        "bans", "fail", total, max_bans, f"{total} addresses banned, more than {max_bans} ({detail}): an attack?"
    )
