# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""master.cf: its services, their -o overrides, and what Postfix accepts in them (master(5)).

A service entry is eight fields (service, type, private, unpriv, chroot, wakeup, maxproc,
command) and the command's arguments. An argument with whitespace is written in braces, as
Postfix 3.0 and later read them: ``-o { smtpd_sasl_security_options = noanonymous, noplaintext }``.
Pure functions, unit tested directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.mailops.mailhost.plugins.module_utils._cf_lines import logical_lines

SERVICE_TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
_FLAG = re.compile(r"^[yn-]$")
_WAKEUP = re.compile(r"^(-|\d+\??)$")
_MAXPROC = re.compile(r"^(-|\d+)$")
_PARAM = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Postfix daemons whose only arguments are -o name=value, -v and -D (pipe, spawn and the like take their own).
_DAEMONS = frozenset(
    [
        "smtpd",
        "smtp",
        "lmtp",
        "cleanup",
        "qmgr",
        "pickup",
        "trivial-rewrite",
        "bounce",
        "verify",
        "flush",
        "proxymap",
        "showq",
        "error",
        "discard",
        "local",
        "virtual",
        "anvil",
        "scache",
        "postlogd",
        "tlsmgr",
        "postscreen",
        "dnsblog",
        "tlsproxy",
        "oqmgr",
    ]
)


@dataclass
class MasterService:
    """One service entry of master.cf."""

    name: str
    type: str
    command: str
    fields: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.name}/{self.type}"


def tokens(text: str) -> list[str]:
    """Whitespace-separated words, a ``{ ... }`` group being one word (its braces and outer spaces removed)."""
    words, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == "{":
            end = text.find("}", i)
            if end == -1:
                raise ValueError(f"unbalanced '{{' in {text!r}")
            words.append(text[i + 1 : end].strip())
            i = end + 1
        else:
            end = i
            while end < len(text) and not text[end].isspace():
                end += 1
            words.append(text[i:end])
            i = end
    return words


def _option(word: str) -> tuple[str, str]:
    key, _sep, value = word.partition("=")
    return key.strip(), value.strip()


def parse_master_cf(text: str) -> list[MasterService]:
    """Service entries of master.cf (continuation lines joined, -o options collected)."""
    services: list[MasterService] = []
    for _start, _end, logical in logical_lines(text):
        words = tokens(logical)
        if len(words) < 8:
            raise ValueError(f"master.cf entry has fewer than 8 fields: {logical!r}")
        command = words[7:]
        options: dict[str, str] = {}
        i = 1
        while i < len(command):
            if command[i] == "-o" and i + 1 < len(command):
                key, value = _option(command[i + 1])
                options[key] = value
                i += 2
            elif command[i].startswith("-o") and len(command[i]) > 2:
                key, value = _option(command[i][2:])
                options[key] = value
                i += 1
            else:
                i += 1
        services.append(MasterService(words[0], words[1], command[0], words[:7], options, command[1:]))
    return services


def listeners(services: list[MasterService]) -> set[str]:
    """The network listeners (inet services) a master.cf opens."""
    return {s.name for s in services if s.type == "inet"}


def entry_problems(service: MasterService, known_params: set[str] | None = None) -> list[str]:
    """What Postfix would refuse (or misread) in one service entry."""
    problems = []
    name, kind, private, unpriv, chroot, wakeup, maxproc = service.fields
    where = f"master.cf service {service.key}"
    if kind not in SERVICE_TYPES:
        problems.append(f"{where}: type '{kind}' is not one of {', '.join(SERVICE_TYPES)}")
    for label, value in (("private", private), ("unpriv", unpriv), ("chroot", chroot)):
        if not _FLAG.match(value):
            problems.append(f"{where}: {label} must be y, n or -, not '{value}'")
    if not _WAKEUP.match(wakeup):
        problems.append(f"{where}: wakeup must be -, a number or a number followed by ?, not '{wakeup}'")
    if not _MAXPROC.match(maxproc):
        problems.append(f"{where}: maxproc must be - or a number, not '{maxproc}'")
    if service.command not in _DAEMONS:
        return problems
    args = service.args
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("-v", "-D", "-S"):
            i += 1
            continue
        if word == "-o" and i + 1 < len(args):
            option, i = args[i + 1], i + 2
        elif word.startswith("-o") and len(word) > 2:
            option, i = word[2:], i + 1
        else:
            problems.append(
                f"{where}: '{word}' is not an option of {service.command} (a value with spaces must be written "
                f"-o {{ name = value with spaces }})"
            )
            i += 1
            continue
        key, _value = _option(option)
        if "=" not in option or not _PARAM.match(key):
            problems.append(f"{where}: -o '{option}' must be name=value with a Postfix parameter name")
        elif known_params is not None and key not in known_params:
            problems.append(f"{where}: -o {key}: this Postfix version has no parameter '{key}'")
    return problems


def master_problems(text: str, known_params: set[str] | None = None) -> list[str]:
    """Every problem of a master.cf text: unparsable entries, bad fields, unknown or malformed -o options."""
    if "\x00" in text:
        return ["master.cf: must not contain a NUL byte"]
    try:
        services = parse_master_cf(text)
    except ValueError as exc:
        return [f"master.cf: {exc}"]
    problems = []
    seen = set()
    for service in services:
        if service.key in seen:
            problems.append(f"master.cf service {service.key} is defined twice")
        seen.add(service.key)
        problems += entry_problems(service, known_params)
    return problems
