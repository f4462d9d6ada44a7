# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS answer model of the mail checks, and zone-file formatting of the records to publish.

Every check takes a ``lookup(name, rdtype) -> Answer`` callable, so the checks are tested with
fakes and used with a real resolver (_dns_resolver.DnsLookup) by the mail_dns module.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

TTL = 3600


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
    subject: str = ""  # what of the domain the check is about (a selector, an address), or ''

    def as_dict(self) -> dict:
        return {
            "check": self.check,
            "subject": self.subject,
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


def fail_from_answer(check: str, answer: Answer, name: str, rdtype: str, expected, publish) -> Result:
    """A failed query as a result: records to publish only when DNS answered that the record is missing.

    A timeout, SERVFAIL or REFUSED says nothing about the zone, so nothing is proposed then.
    """
    message = answer.describe(bare(name), rdtype)
    if answer.is_error:
        return Result(check, "fail", expected, answer.status, message + "; nothing to publish until DNS answers")
    return Result(check, "fail", expected, answer.status, message, publish)


def parse_mx(record: str) -> tuple[int, str]:
    pref, _sep, target = record.strip().partition(" ")
    return int(pref), bare(target)
