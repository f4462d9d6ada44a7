# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security policy a Postfix configuration must meet before it may be written.

``violations()`` takes the complete set of main.cf parameters that is about to be applied
(and the -o overrides of master.cf services) and returns one plain-language message per
problem, each naming the variable the value came from. An empty list means the
configuration may go ahead. Pure functions only: used by the role (through a filter,
on the controller, before the host is touched) and by the postconf module.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ansible_collections.mailops.mailhost.plugins.module_utils._names import single_line_problem
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import unbracket

# Restrictions that end relay evaluation for mail to foreign domains.
RELAY_STOPPERS = frozenset({"reject_unauth_destination", "defer_unauth_destination", "reject", "defer"})
# Restrictions that accept mail whatever its destination: they must not come first.
BROAD_PERMITS = frozenset({"permit", "permit_mx_backup"})
TLS_SERVER_LEVELS = frozenset({"may", "encrypt"})
TLS_CLIENT_LEVELS = frozenset({"may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"})
ALL_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
ALLOWED_PROTOCOLS = frozenset({"TLSv1.2", "TLSv1.3"})
_TABLE_RE = re.compile(r"^[a-z0-9_]+:\S+$")

DEFAULT_OPTIONS = {
    "mynetworks_prefix_limit_ipv4": 16,
    "mynetworks_prefix_limit_ipv6": 48,
    "mynetworks_allow_wide": False,
    "submission_services": ("submission", "submissions", "smtps", "465", "587"),
}


def _items(value: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", value.strip()) if item]


def _network(item: str):
    """The ip_network of a mynetworks item, or None when the item is not an address."""
    return ipaddress.ip_network(unbracket(item.lstrip("!")), strict=False)


def check_mynetworks(value: str, name: str, options: Mapping) -> list[str]:
    errors: list[str] = []
    for item in _items(value):
        if item.startswith("$") or item.startswith("/") or _TABLE_RE.match(item):
            continue  # parameter expansion, file or lookup table
        try:
            net = _network(item)
        except ValueError:
            errors.append(
                f"{name}: '{item}' is not a valid IPv4/IPv6 address or network "
                f"(expected e.g. 192.0.2.0/24 or [2001:db8::]/64)"
            )
            continue
        if item.startswith("!"):
            continue
        if net.prefixlen == 0:
            errors.append(
                f"{name}: '{item}' trusts every address on the Internet and would make this "
                f"server an open relay; list only your own networks"
            )
            continue
        limit = options[f"mynetworks_prefix_limit_ipv{net.version}"]
        # Loopback never leaves the host, whatever its prefix.
        if not net.is_loopback and net.prefixlen < limit and not options["mynetworks_allow_wide"]:
            errors.append(
                f"{name}: '{item}' is wider than /{limit}: every host in it may relay mail. "
                f"Narrow it, or set postfix_mynetworks_allow_wide: true if this is intended"
            )
    return errors


def check_restrictions(value: str, name: str) -> list[str]:
    """A restriction list must stop foreign destinations before any broad permit."""
    for item in _items(value):
        if item in BROAD_PERMITS:
            return [
                f"{name}: '{item}' comes before reject_unauth_destination and would accept "
                f"mail for any destination (an open relay); put reject_unauth_destination first"
            ]
        if item in RELAY_STOPPERS:
            return []
    return [
        f"{name}: has no reject_unauth_destination (or defer_unauth_destination); without it "
        f"the server relays for anyone the earlier rules do not stop (an open relay)"
    ]


def enabled_protocols(value: str) -> set[str]:
    """The TLS protocol versions a *_tls_protocols value leaves enabled."""
    items = _items(value)
    if not items:
        return set(ALL_PROTOCOLS)
    enabled: set[str] = set()
    excluded: set[str] = set()
    for item in items:
        if item.startswith(">="):
            floor = item[2:]
            if floor in ALL_PROTOCOLS:
                enabled.update(ALL_PROTOCOLS[ALL_PROTOCOLS.index(floor) :])
        elif item.startswith("<="):
            ceiling = item[2:]
            if ceiling in ALL_PROTOCOLS:
                enabled.update(ALL_PROTOCOLS[: ALL_PROTOCOLS.index(ceiling) + 1])
        elif item.startswith("!"):
            excluded.add(item[1:])
        else:
            enabled.add(item)
    if not enabled:
        enabled = set(ALL_PROTOCOLS)
    return enabled - excluded


def _expand(value: str, params: Mapping[str, str]) -> str:
    """Expand a '$name' reference to a main.cf parameter (one level, as used in -o)."""
    match = re.fullmatch(r"\$\{?(\w+)\}?", value.strip())
    if match and match.group(1) in params:
        return params[match.group(1)]
    return value


def violations(
    params: Mapping[str, str],
    services: Mapping[str, Mapping[str, str]] | None = None,
    options: Mapping | None = None,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """Every way ``params`` (and master.cf -o ``services`` overrides) breaks the policy.

    ``names`` maps a parameter (or 'service/parameter') to the variable a user set it
    through, for the messages; unnamed ones are reported as the parameter itself.
    """
    opts = {**DEFAULT_OPTIONS, **(options or {})}
    names = names or {}
    services = services or {}
    errors: list[str] = []

    def label(key: str) -> str:
        return names.get(key, key)

    # Every value stays on its line: a line break would add a parameter or a master.cf service.
    for name, value in sorted(params.items()):
        problem = single_line_problem(str(value))
        if problem:
            errors.append(f"{label(name)}: the value {problem}: it would add lines to main.cf")
    for service, overrides in sorted(services.items()):
        for name, value in sorted(overrides.items()):
            problem = single_line_problem(str(value))
            if problem:
                where = names.get(f"{service}/{name}") or (
                    f"{names[service + '/*']}.{name}" if f"{service}/*" in names else f"{service} -o {name}"
                )
                errors.append(f"{where}: the value {problem}: it would add lines (a listener) to master.cf")

    # Relay: who may relay, and what stops everyone else.
    if "mynetworks" in params:
        errors += check_mynetworks(params["mynetworks"], label("mynetworks"), opts)
    elif params.get("mynetworks_style", "host") in ("subnet", "class"):
        errors.append(
            f"{label('mynetworks_style')}: '{params['mynetworks_style']}' trusts whole networks "
            f"without saying which; set mynetworks explicitly"
        )
    relay = params.get("smtpd_relay_restrictions")
    recipient = params.get("smtpd_recipient_restrictions", "")
    if relay is not None and _items(relay):
        errors += check_restrictions(relay, label("smtpd_relay_restrictions"))
        if _items(recipient):
            errors += [
                e for e in check_restrictions(recipient, label("smtpd_recipient_restrictions")) if "' comes before" in e
            ]
    elif relay is not None or _items(recipient):
        errors += check_restrictions(recipient, label("smtpd_recipient_restrictions"))

    # TLS is never off, and never below TLS 1.2.
    level = params.get("smtpd_tls_security_level")
    if level is not None and level not in TLS_SERVER_LEVELS:
        errors.append(
            f"{label('smtpd_tls_security_level')}: '{level}' is not allowed; use 'may' "
            f"(opportunistic TLS, right for port 25) or 'encrypt'"
        )
    client_level = params.get("smtp_tls_security_level")
    if client_level is not None and client_level not in TLS_CLIENT_LEVELS:
        errors.append(
            f"{label('smtp_tls_security_level')}: '{client_level}' is not allowed; use one of "
            f"{', '.join(sorted(TLS_CLIENT_LEVELS))}"
        )
    for proto in (
        "smtpd_tls_protocols",
        "smtpd_tls_mandatory_protocols",
        "smtp_tls_protocols",
        "smtp_tls_mandatory_protocols",
    ):
        if proto in params:
            weak = sorted(enabled_protocols(params[proto]) - ALLOWED_PROTOCOLS)
            if weak:
                errors.append(
                    f"{label(proto)}: '{params[proto]}' leaves {', '.join(weak)} enabled; only "
                    f"TLSv1.2 and TLSv1.3 are allowed (use '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1')"
                )

    # Per-service overrides in master.cf.
    for service, overrides in sorted(services.items()):
        for param in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions"):
            if param in overrides and _items(_expand(overrides[param], params)):
                found = check_restrictions(_expand(overrides[param], params), label(f"{service}/{param}"))
                if param == "smtpd_recipient_restrictions" and "smtpd_relay_restrictions" in overrides:
                    found = [e for e in found if "' comes before" in e]
                errors += found
        if service.split("/")[0] in opts["submission_services"]:
            wrapper = overrides.get("smtpd_tls_wrappermode", "no") == "yes"
            svc_level = overrides.get("smtpd_tls_security_level", params.get("smtpd_tls_security_level", "none"))
            if not wrapper and svc_level != "encrypt":
                errors.append(
                    f"{label(f'{service}/smtpd_tls_security_level')}: submission service '{service}' "
                    f"must require TLS (smtpd_tls_security_level=encrypt, or wrapper mode on 465); "
                    f"'{svc_level}' lets passwords cross the network in clear text"
                )
            if overrides.get("smtpd_sasl_auth_enable") == "yes" and overrides.get("smtpd_tls_auth_only", "yes") == "no":
                errors.append(f"{label(f'{service}/smtpd_tls_auth_only')}: AUTH before STARTTLS is not allowed")
    return errors
