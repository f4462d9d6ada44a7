# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an address goes: sendmail's own answer (sendmail -bv) and Postfix's, said the same way.

A destination is one of ``local:USER``, ``prog:COMMAND``, ``file:PATH``, ``smtp:NEXTHOP:ADDRESS``
or ``error``. sendmail's are read from ``sendmail -bv``. Postfix's -bv mails its report instead
of printing it, so Postfix's are worked out here from Postfix's own answers: ``postmap -q`` on
virtual_alias_maps and transport_maps, ``postalias -q`` on alias_maps, in the order Postfix
applies them (virtual aliases, then for local domains the aliases - whose results go through
virtual aliasing again - then the transport table, relayhost or the domain's MX).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible_collections.mailops.mailhost.plugins.module_utils._sendmail import SMTP_MAILERS, split_targets

MAX_DEPTH = 20
_BV_RE = re.compile(r"^(?P<address>.+?)\.\.\. (?P<result>.*)$")


def parse_sendmail_bv(out: str) -> list[dict]:
    """sendmail -bv lines: each final recipient with its mailer, host and user, or the error."""
    found = []
    for line in out.splitlines():
        match = _BV_RE.match(line.strip())
        if not match:
            continue
        result = match.group("result")
        if result.startswith("deliverable:"):
            fields = {}
            for part in result[len("deliverable:") :].split(", "):
                key, _sep, value = part.strip().partition(" ")
                fields[key] = value.strip()
            found.append(
                {
                    "address": match.group("address").strip(),
                    "mailer": fields.get("mailer", ""),
                    "host": fields.get("host", ""),
                    "user": fields.get("user", ""),
                }
            )
        else:
            found.append({"address": match.group("address").strip(), "error": result.strip()})
    return found


def sendmail_destination(entry: dict) -> str:
    if "error" in entry:
        return "error"
    mailer, user = entry.get("mailer", ""), entry.get("user", "")
    if mailer == "prog" or user.startswith('"|') or user.startswith("|"):
        return "prog:" + user.strip('"').lstrip("|").strip()
    if mailer == "*file*" or (mailer == "local" and user.startswith("/")):
        return "file:" + user.strip('"')
    if mailer == "local":
        return "local:" + user.split("@", 1)[0].lower()
    if mailer in SMTP_MAILERS:
        return f"smtp:{entry.get('host', '').rstrip('.').lower()}:{user.lower()}"
    return f"{mailer}:{entry.get('host', '')}:{user}"


@dataclass
class PostfixConfig:
    """The expanded main.cf values the resolution needs (postconf -x)."""

    mydestination: list[str]
    myorigin: str
    virtual_alias_domains: list[str] = field(default_factory=list)
    relayhost: str = ""
    recipient_delimiter: str = "+"


def words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value or "") if w]


Query = Callable[[str, str], "str | None"]  # (which: virtual|alias|transport, key) -> value or None


def postfix_destinations(
    address: str, config: PostfixConfig, query: Query, user_exists: Callable[[str], bool], depth: int = 0
) -> list[str]:
    """Every final destination of ``address`` under Postfix's tables."""
    if depth > MAX_DEPTH:
        return ["error"]
    address = address.strip().strip("<>")
    local, _sep, domain = address.rpartition("@")
    if not _sep:
        local, domain = address, config.myorigin
    local_l, domain = local.lower(), domain.lower().rstrip(".")
    full = f"{local}@{domain}"
    local_domains = {d.lower().rstrip(".") for d in config.mydestination}
    keys = [full] + ([local] if domain in local_domains else []) + [f"@{domain}"]
    for key in keys:
        value = query("virtual", key)
        if value is None:
            continue
        found = []
        for entry in split_targets(value):
            target = f"{local}{entry}" if entry.startswith("@") else entry
            if target.lower() == full.lower():
                found += _final(local_l, domain, config, query, user_exists, depth, local_domains, full)
            else:
                found += postfix_destinations(target, config, query, user_exists, depth + 1)
        return sorted(set(found))
    return _final(local_l, domain, config, query, user_exists, depth, local_domains, full)


def _final(local, domain, config, query, user_exists, depth, local_domains, full) -> list[str]:
    if domain in local_domains:
        base = local.split(config.recipient_delimiter, 1)[0] if config.recipient_delimiter else local
        value = query("alias", local) or (query("alias", base) if base != local else None)
        if value is not None:
            found = []
            for target in split_targets(value):
                plain = target.strip('"')
                if plain.startswith("|"):
                    found.append("prog:" + plain[1:].strip())
                elif plain.startswith("/"):
                    found.append("file:" + plain)
                elif plain.lower().startswith(":include:"):
                    found.append("include:" + plain[9:].strip())
                elif plain.lower() == local:
                    found.append(f"local:{local}" if user_exists(local) else "error")
                else:
                    qualified = plain if "@" in plain else f"{plain}@{config.myorigin}"
                    found += postfix_destinations(qualified, config, query, user_exists, depth + 1)
            return sorted(set(found))
        return [f"local:{base}"] if user_exists(base) else ["error"]
    if domain in {d.lower() for d in config.virtual_alias_domains}:
        return ["error"]  # a virtual alias domain answers only for the addresses listed
    route = query("transport", full)
    parts = domain.split(".")
    for index in range(len(parts)):
        if route is not None:
            break
        key = domain if index == 0 else "." + ".".join(parts[index:])
        route = query("transport", key)
    if route is not None:
        transport, _sep, nexthop = route.partition(":")
        if transport == "error":
            return ["error"]
        if transport == "local":
            return [f"local:{local}"]
        nexthop = nexthop or config.relayhost or domain
        return [f"smtp:{nexthop.lower()}:{full.lower()}"]
    return [f"smtp:{(config.relayhost or domain).lower()}:{full.lower()}"]


def compare(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """Each address whose destinations differ, said plainly."""
    problems = []
    for address in sorted(before):
        old, new = sorted(set(before[address])), sorted(set(after.get(address, [])))
        if old != new:
            problems.append(
                f"{address}: sendmail delivered to {', '.join(old) or 'nothing'};"
                f" Postfix to {', '.join(new) or 'nothing'}"
            )
    return problems
