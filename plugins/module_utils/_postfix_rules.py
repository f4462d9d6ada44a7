# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules between Postfix parameters that Postfix itself reports only when mail flows.

``postconf`` and ``postfix check`` accept each of these configurations; the fault shows later,
in a delivery agent or the queue manager, when a message arrives:

- local(8) and virtual(8) stop with ``fatal: main.cf configuration error: mailbox_size_limit is
  smaller than message_size_limit`` (postfix/src/local/local.c, virtual/virtual.c: pre_init);
  virtual(8) also refuses an unlimited message_size_limit (0) beside a virtual_mailbox_limit;
- smtpd(8) warns that queue_minfree should be at least 1.5 times message_size_limit, and then
  refuses mail whenever the queue file system is nearly full (smtpd/smtpd.c);
- trivial-rewrite(8) warns "do not list domain X in BOTH mydestination and ..." and the domain's
  address class is then implementation-defined (trivial-rewrite/resolve.c);
- qmgr(8) raises qmgr_message_recipient_limit to qmgr_message_active_limit (qmgr/qmgr.c);
- smtp(8) falls back from DANE to opportunistic TLS without DNSSEC lookups
  (smtp_dns_support_level = dnssec), so ``dane`` silently protects nothing.

``runtime_problems(params)`` takes the main.cf parameters the role writes (unset ones have
Postfix's defaults) and returns one (parameter, message) pair per problem: the parameter whose
value to change, and a message naming the parameters, their values and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Postfix's built-in defaults of the parameters these rules read (postconf -d, 3.5 to 3.10).
DEFAULTS = {
    "message_size_limit": "10240000",
    "mailbox_size_limit": "51200000",
    "virtual_mailbox_limit": "51200000",
    "queue_minfree": "0",
    "qmgr_message_recipient_limit": "20000",
    "qmgr_message_active_limit": "20000",
    "bounce_queue_lifetime": "5d",
    "maximal_queue_lifetime": "5d",
    "smtp_dns_support_level": "",
    "relay_domains": "",
    "virtual_alias_domains": "",
    "virtual_mailbox_domains": "",
    "mydestination": "$myhostname, localhost.$mydomain, localhost",
}
_TIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# The address classes of ADDRESS_CLASS_README: a domain belongs in one of them only.
ADDRESS_CLASSES = ("mydestination", "virtual_alias_domains", "virtual_mailbox_domains", "relay_domains")


def _value(params: Mapping[str, str], name: str) -> str:
    return str(params[name]) if name in params else DEFAULTS.get(name, "")


def expand(value: str, params: Mapping[str, str], depth: int = 0) -> str:
    """Expand $name and ${name} from ``params`` (then the defaults), as Postfix does, a few levels deep."""
    if depth > 8 or "$" not in value:
        return value

    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name in params or name in DEFAULTS:
            return expand(_value(params, name), params, depth + 1)
        return match.group(0)

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, value)


def _number(params: Mapping[str, str], name: str) -> int | None:
    text = expand(_value(params, name), params).strip()
    return int(text) if text.isdigit() else None


def _seconds(params: Mapping[str, str], name: str) -> int | None:
    text = expand(_value(params, name), params).strip().lower()
    match = re.fullmatch(r"(\d+)([smhdw]?)", text)
    if not match:
        return None
    return int(match.group(1)) * _TIME_UNITS[match.group(2) or "d"]


def _domains(params: Mapping[str, str], name: str) -> list[str]:
    text = expand(_value(params, name), params)
    return [d.lower().rstrip(".") for d in re.split(r"[\s,]+", text) if d and ":" not in d and "/" not in d]


def _shown(params: Mapping[str, str], name: str) -> str:
    return f"{name} = {_value(params, name)}" + ("" if name in params else " (Postfix's default)")


def size_problems(params: Mapping[str, str]) -> list[tuple[str, str]]:
    problems = []
    message = _number(params, "message_size_limit")
    for limit_name, agent in (("mailbox_size_limit", "local(8)"), ("virtual_mailbox_limit", "virtual(8)")):
        limit = _number(params, limit_name)
        if message is None or not limit:
            continue
        if message > limit:
            problems.append(
                (
                    "message_size_limit",
                    f"message_size_limit = {message} is larger than {_shown(params, limit_name)}: {agent} refuses to "
                    f"deliver any message with this configuration (fatal: {limit_name} is smaller than "
                    f"message_size_limit) and mail stays in the queue; raise {limit_name} or lower message_size_limit",
                )
            )
        elif message == 0 and limit_name == "virtual_mailbox_limit":
            problems.append(
                (
                    "message_size_limit",
                    f"message_size_limit = 0 (unlimited) beside {_shown(params, limit_name)}: virtual(8) refuses to "
                    f"deliver with this configuration; give message_size_limit a size",
                )
            )
    minfree = _number(params, "queue_minfree")
    if minfree and message and minfree * 2 < message * 3:
        problems.append(
            (
                "queue_minfree",
                f"queue_minfree = {minfree} is less than 1.5 x message_size_limit ({message}): smtpd(8) then refuses "
                f"mail whenever the queue file system is nearly full; set queue_minfree to at least {message * 3 // 2}",
            )
        )
    return problems


def class_problems(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """A domain may be in one address class only (mydestination, virtual alias, virtual mailbox, relay)."""
    seen: dict[str, str] = {}
    problems = []
    for name in ADDRESS_CLASSES:
        for domain in _domains(params, name):
            if domain in seen and seen[domain] != name:
                problems.append(
                    (
                        name,
                        f"{domain} is listed in both {seen[domain]} and {name}: Postfix warns 'do not list domain "
                        f"{domain} in BOTH {seen[domain]} and {name}' and the domain's delivery is then undefined; "
                        f"keep it in one of them",
                    )
                )
            seen.setdefault(domain, name)
    return problems


def queue_problems(params: Mapping[str, str]) -> list[tuple[str, str]]:
    problems = []
    recipients = _number(params, "qmgr_message_recipient_limit")
    active = _number(params, "qmgr_message_active_limit")
    if recipients is not None and active is not None and recipients < active:
        problems.append(
            (
                "qmgr_message_recipient_limit",
                f"qmgr_message_recipient_limit = {recipients} is smaller than qmgr_message_active_limit = {active}: "
                f"qmgr(8) ignores it and uses {active}; raise it to at least {active}",
            )
        )
    bounce = _seconds(params, "bounce_queue_lifetime")
    maximal = _seconds(params, "maximal_queue_lifetime")
    if bounce is not None and maximal is not None and bounce > maximal:
        problems.append(
            (
                "bounce_queue_lifetime",
                f"{_shown(params, 'bounce_queue_lifetime')} is longer than {_shown(params, 'maximal_queue_lifetime')}: "
                f"Postfix cuts it to maximal_queue_lifetime; lower bounce_queue_lifetime",
            )
        )
    return problems


def tls_problems(params: Mapping[str, str]) -> list[tuple[str, str]]:
    level = expand(_value(params, "smtp_tls_security_level"), params).strip()
    dns = expand(_value(params, "smtp_dns_support_level"), params).strip()
    if level in ("dane", "dane-only") and dns != "dnssec":
        return [
            (
                "smtp_tls_security_level",
                f"smtp_tls_security_level = {level} needs smtp_dns_support_level = dnssec (it is "
                f"'{dns or 'unset'}'): without DNSSEC lookups smtp(8) finds no TLSA records and falls back to "
                f"opportunistic TLS, so DANE protects nothing",
            )
        ]
    return []


def runtime_problems(params: Mapping[str, object]) -> list[tuple[str, str]]:
    """Every rule above, for the main.cf parameters about to be written (values as main.cf text)."""
    flat = {str(k): str(v) for k, v in params.items()}
    return size_problems(flat) + class_problems(flat) + queue_problems(flat) + tls_problems(flat)
