# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""firewalld services for the mail stack: names per firewalld version, and what to change."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# What the stack listens on -> firewalld's service names for it, preferred first. firewalld 2.0
# added "submission" (587) and keeps "smtp-submission" as an alias; firewalld 1.x (AlmaLinux 9)
# knows only "smtp-submission".
SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    "smtp": ("smtp",),
    "submission": ("submission", "smtp-submission"),
    "smtps": ("smtps",),
    "http": ("http",),
}
_PORT = re.compile(r"([1-9][0-9]{0,4})/(tcp|udp)")


def check_port(port: str) -> str | None:
    """An error message for a port that is not 'N/tcp' or 'N/udp' with 1 <= N <= 65535."""
    match = _PORT.fullmatch(port)
    if not match or int(match.group(1)) > 65535:
        return f"{port!r} is not a port: write NUMBER/tcp (1-65535), for example 8080/tcp"
    return None


def resolve(service: str, known: set[str]) -> str:
    """The name this firewalld knows for a stack service (ValueError when it knows none)."""
    if service not in SERVICE_NAMES:
        raise ValueError(f"{service!r} is not a service of the mail stack ({', '.join(SERVICE_NAMES)})")
    for name in SERVICE_NAMES[service]:
        if name in known:
            return name
    raise ValueError(f"this firewalld defines none of {', '.join(SERVICE_NAMES[service])} (for {service})")


def parse_list_all(text: str) -> tuple[set[str], set[str]]:
    """(services, ports) from 'firewall-cmd [--permanent] --zone=Z --list-all'."""
    values: dict[str, set[str]] = {"services": set(), "ports": set()}
    for line in text.splitlines():
        key, sep, rest = line.strip().partition(":")
        if sep and key in values:
            values[key] = set(rest.split())
    return values["services"], values["ports"]


@dataclass
class Change:
    add_services: list[str] = field(default_factory=list)
    remove_services: list[str] = field(default_factory=list)
    add_ports: list[str] = field(default_factory=list)
    remove_ports: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add_services or self.remove_services or self.add_ports or self.remove_ports)


def plan(
    wanted: list[str],
    managed: list[str],
    ports: list[str],
    owned_ports: list[str],
    known: set[str],
    current_services: set[str],
    current_ports: set[str],
) -> Change:
    """What to add and remove so that, of what the stack owns, exactly ``wanted`` and ``ports`` are open.

    ``managed`` are the stack services this run owns: any of their names that is open and not
    wanted is closed. ``owned_ports`` are ports an earlier run opened; those no longer asked
    for are closed. Nothing else in the zone (ssh, cockpit, a user's own ports) is touched.
    """
    names = {resolve(s, known) for s in wanted}
    owned_names = {n for s in set(managed) | set(wanted) for n in SERVICE_NAMES[s]}
    change = Change()
    change.add_services = sorted(names - current_services)
    change.remove_services = sorted((owned_names - names) & current_services)
    change.add_ports = sorted(set(ports) - current_ports)
    change.remove_ports = sorted((set(owned_ports) - set(ports)) & current_ports)
    return change


def describe(services: set[str], ports: set[str]) -> str:
    return f"services: {' '.join(sorted(services))}\nports: {' '.join(sorted(ports))}\n"
