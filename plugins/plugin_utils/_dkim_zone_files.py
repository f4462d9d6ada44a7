# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zone snippets of the DKIM records to publish, one per domain, as the opendkim role writes
them on the controller (pure functions over the dkim_keys module's ``records``)."""

from __future__ import annotations

RECORD_KEYS = ("domain", "selector", "bits", "signing", "zone_line")


def record_problems(records) -> list[str]:
    """Every way ``records`` is not the dkim_keys module's list of records."""
    if not isinstance(records, list):
        return ["records: must be a list (the records the dkim_keys module returns)"]
    problems = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(f"records[{index}]: must be a dict")
            continue
        missing = [key for key in RECORD_KEYS if key not in record]
        if missing:
            problems.append(f"records[{index}]: {', '.join(missing)} missing")
        elif not str(record["domain"]) or "/" in str(record["domain"]) or str(record["domain"]).startswith("."):
            problems.append(f"records[{index}].domain: {record['domain']!r} is not a domain name")
    return problems


def zone_snippets(host: str, records: list[dict]) -> dict[str, str]:
    """The text of each domain's snippet, domains in the order the records name them first."""
    snippets: dict[str, str] = {}
    for domain in dict.fromkeys(str(r["domain"]) for r in records):
        lines = [
            f"; DKIM records for {domain} from {host} (mailops.mailhost.opendkim).",
            f'; Add these lines to the zone of {domain}; the selector marked "signing" is in use.',
        ]
        for record in (r for r in records if str(r["domain"]) == domain):
            state = ", signing" if record["signing"] else ", not signing yet"
            lines.append(f"; {record['selector']}: {record['bits']}-bit RSA{state}")
            lines.append(str(record["zone_line"]))
        snippets[domain] = "\n".join(lines) + "\n"
    return snippets
