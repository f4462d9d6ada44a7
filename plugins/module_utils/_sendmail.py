# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sendmail configuration read and said again as this collection's variables.

Pure functions over the text of sendmail's files (sendmail.mc, or the compiled sendmail.cf, and
the text sources of its tables), used by the sendmail_facts module and tested directly.

The result has three parts:
- ``variables``: the postfix role's variables (and postfix_main_cf for relay_domains) that do
  what the sendmail configuration does, ready to be written as host_vars;
- ``unmapped``: every line that was not turned into a variable, with its file, line and reason;
- ``findings``: what the pre-flight would refuse or a reviewer must decide (a RELAY network
  wider than the mynetworks limit, relaying by sender address, a catch-all).

Everything is kept in the order of the files, so a plan is the same each time it is made.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

ACCESS_ACTIONS = {"OK": "OK", "REJECT": "REJECT", "DISCARD": "DISCARD", "SKIP": "DUNNO"}
SMTP_MAILERS = ("smtp", "esmtp", "smtp8", "dsmtp", "relay")
# Statements that only build sendmail.cf (or are what Postfix does anyway): not reported as unmapped.
BUILD_ONLY = {
    "divert",
    "include",
    "VERSIONID",
    "OSTYPE",
    "DOMAIN",
    "MAILER_DEFINITIONS",
    "MAILER",
    "undefine",
}
# FEATUREs whose behaviour the postfix role has by its own design.
FEATURE_AS_DESIGNED = {
    "use_cw_file": "mydestination holds the local domains",
    "access_db": "the access entries are mapped to the access tables",
    "virtusertable": "the entries are mapped to postfix_virtual_aliases",
    "mailertable": "the entries are mapped to postfix_transport",
    "genericstable": "the entries are mapped to postfix_generic",
    "masquerade_envelope": "Postfix masquerades the envelope sender too (masquerade_classes)",
    "no_default_msa": "submission is configured by postfix_submission_enabled",
    "delay_checks": "Postfix delays every restriction until RCPT TO (smtpd_delay_reject = yes)",
    "relay_entire_domain": "use postfix_mynetworks for the networks of the domain",
    "always_add_domain": "Postfix qualifies local addresses with myorigin",
    "nouucp": "Postfix has no UUCP routing unless configured",
    "redirect": "Postfix has no .REDIRECT pseudo domain; mail to it is rejected as to any unknown address",
    "local_procmail": "Postfix delivers to mailboxes itself (mailbox_command in postfix_main_cf for procmail)",
}
DEFAULT_PREFIX_LIMITS = {4: 16, 6: 48}


@dataclass
class Source:
    """A file as read from the host: its path and text (None when absent)."""

    path: str
    text: str | None


@dataclass
class Plan:
    variables: dict = field(default_factory=dict)
    unmapped: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    mapped: list[dict] = field(default_factory=list)

    def skip(self, path: str, line: int, text: str, reason: str) -> None:
        self.unmapped.append({"file": path, "line": line, "text": text.strip(), "reason": reason})

    def found(self, severity: str, variable: str, message: str, path: str = "", line: int = 0) -> None:
        self.findings.append(
            {"severity": severity, "variable": variable, "message": message, "file": path, "line": line}
        )

    def note(self, path: str, line: int, text: str, variable: str, value) -> None:
        self.mapped.append({"file": path, "line": line, "text": text.strip(), "variable": variable, "value": value})


# --- sendmail.mc -----------------------------------------------------------------------------


def _strip_dnl(text: str) -> str:
    """m4's dnl: the rest of the line and its newline go; line numbers are kept by leaving the newline count."""
    return re.sub(r"dnl\b[^\n]*\n", lambda m: "\x00", text)


def _args(body: str) -> list[str]:
    """Split m4 arguments at top-level commas, removing one level of `quotes'."""
    args, depth, current = [], 0, []
    for char in body:
        if char == "`":
            depth += 1
            if depth == 1:
                continue
        elif char == "'" and depth > 0:
            depth -= 1
            if depth == 0:
                continue
        elif char == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    args.append("".join(current).strip())
    return [a.replace("\x00", "").strip() for a in args]


def mc_statements(text: str) -> list[tuple[int, str, list[str], str]]:
    """(line, macro, arguments, source text) of each top-level macro call of a .mc file."""
    joined = _strip_dnl(text)
    out = []
    index, line = 0, 1
    pattern = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\()?")
    while index < len(joined):
        char = joined[index]
        if char == "\n":
            line += 1
            index += 1
            continue
        if char == "\x00":
            line += 1
            index += 1
            continue
        if char == "#":  # an m4 comment to the end of the line
            end = joined.find("\n", index)
            index = len(joined) if end == -1 else end
            continue
        match = pattern.match(joined, index)
        if not match:
            index += 1
            continue
        name, paren = match.group(1), match.group(2)
        start_line = line
        if not paren:
            out.append((start_line, name, [], name))
            index = match.end()
            continue
        depth, quote, j = 1, 0, match.end()
        while j < len(joined) and depth:
            c = joined[j]
            if c == "`":
                quote += 1
            elif c == "'" and quote:
                quote -= 1
            elif not quote and c == "(":
                depth += 1
            elif not quote and c == ")":
                depth -= 1
            if c in "\n\x00":
                line += 1
            j += 1
        body = joined[match.end() : j - 1]
        out.append((start_line, name, _args(body), (name + "(" + body + ")").replace("\x00", " ")))
        index = j
    return out


# --- tables ----------------------------------------------------------------------------------


def table_entries(text: str) -> list[tuple[int, str, str, str]]:
    """(line, key, value, source) of a sendmail table source (or a makemap -u dump)."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        entries.append((number, parts[0], parts[1].strip() if len(parts) > 1 else "", raw))
    return entries


def list_entries(text: str) -> list[tuple[int, str]]:
    """(line, entry) of a class file such as local-host-names (comments and blank lines skipped)."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        for word in line.split():
            out.append((number, word))
    return out


def alias_entries(text: str) -> list[tuple[int, str, list[str], str]]:
    """(line, name, targets, source) of an aliases file: continuation lines joined, targets split at commas."""
    joined: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[:1] in " \t" and joined:
            joined[-1] = (joined[-1][0], joined[-1][1] + " " + raw.strip())
        else:
            joined.append((number, raw.strip()))
    out = []
    for number, line in joined:
        name, sep, rest = line.partition(":")
        if not sep:
            out.append((number, "", [], line))
            continue
        out.append((number, name.strip().lower(), split_targets(rest), line))
    return out


def split_targets(value: str) -> list[str]:
    """An alias's (or a virtual alias's) targets: split at commas outside double quotes ("|cmd, arg")."""
    out, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            out.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    out.append("".join(current).strip())
    return [t for t in out if t]


# --- values ----------------------------------------------------------------------------------


def network_of(key: str) -> str | None:
    """sendmail's address prefix (10.1, 192.0.2.7, IPv6:2001:db8::1) as a CIDR network, or None for a name."""
    if key.lower().startswith("ipv6:"):
        try:
            return str(ipaddress.ip_network(key[5:], strict=False).supernet(new_prefix=128))
        except ValueError:
            return None
    parts = key.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        return None
    padded = parts + ["0"] * (4 - len(parts))
    return f"{'.'.join(padded)}/{8 * len(parts)}"


def access_action(value: str) -> str | None:
    """A sendmail access value as a Postfix access action, or None."""
    word = value.strip()
    upper = word.upper()
    if upper in ACCESS_ACTIONS:
        return ACCESS_ACTIONS[upper]
    if upper.startswith("ERROR:"):
        text = word[6:].strip().strip('"')
        match = re.match(r"^(?:(\d\.\d{1,3}\.\d{1,3}):)?([45]\d\d)\s*(.*)$", text)
        if match:
            dsn, code, rest = match.groups()
            return " ".join(part for part in (code, dsn, rest) if part)
        return None
    if upper.startswith("QUARANTINE:"):
        return "HOLD " + word.split(":", 1)[1].strip().strip('"')
    return None


def smtp_route(value: str) -> str | None:
    """A mailertable or SMART_HOST value (mailer:host) as Postfix's transport:nexthop; None for other mailers."""
    mailer, sep, host = value.partition(":")
    if not sep:
        mailer, host = "smtp", value
    mailer = mailer.strip().lower()
    host = host.strip()
    if mailer in SMTP_MAILERS:
        return f"smtp:{host}" if host else "smtp:"
    if mailer == "error":
        return "error:" + host.split(":", 1)[-1].strip().strip('"') if host else "error:"
    if mailer == "local":
        return "local:" + host if host else "local:"
    return None


# --- the mapping -----------------------------------------------------------------------------


def _append(plan: Plan, name: str, value) -> None:
    current = plan.variables.setdefault(name, [])
    if value not in current:
        current.append(value)


def _put(plan: Plan, name: str, key: str, value) -> None:
    plan.variables.setdefault(name, {})[key] = value


def map_mc(plan: Plan, source: Source, state: dict) -> None:
    for line, macro, args, text in mc_statements(source.text or ""):
        if macro in BUILD_ONLY:
            continue
        if macro == "define" and args:
            _map_define(plan, source.path, line, args[0], args[1] if len(args) > 1 else "", text, state)
        elif macro == "FEATURE" and args:
            feature = args[0]
            if feature in FEATURE_AS_DESIGNED:
                plan.note(source.path, line, text, "", FEATURE_AS_DESIGNED[feature])
                if feature == "masquerade_envelope":
                    state["masquerade_envelope"] = True
            else:
                plan.skip(source.path, line, text, f"FEATURE({feature}) has no equivalent in this collection")
        elif macro == "MASQUERADE_AS" and args:
            state["masquerade_as"] = (line, text, args[0])
        elif macro == "MASQUERADE_DOMAIN" and args:
            for domain in args[0].split():
                _append(plan, "postfix_masquerade_domains", domain.lower())
            plan.note(source.path, line, text, "postfix_masquerade_domains", args[0])
        elif macro == "LOCAL_DOMAIN" and args:
            for domain in args[0].split():
                state["local_domains"].append((source.path, line, domain.lower(), text))
        elif macro == "RELAY_DOMAIN" and args:
            for domain in args[0].split():
                state["relay_domains"].append((source.path, line, domain.lower(), text))
        elif macro == "GENERICS_DOMAIN" and args:
            for domain in args[0].split():
                state["generics_domains"].append(domain.lower())
        elif macro in ("GENERICS_DOMAIN_FILE", "VIRTUSER_DOMAIN_FILE", "RELAY_DOMAIN_FILE") and args:
            plan.note(source.path, line, text, "", f"the entries of {args[0]} are read from it")
        elif macro == "VIRTUSER_DOMAIN" and args:
            for domain in args[0].split():
                _append(plan, "postfix_virtual_alias_domains", domain.lower())
            plan.note(source.path, line, text, "postfix_virtual_alias_domains", args[0])
        elif macro == "DAEMON_OPTIONS" and args:
            _map_daemon(plan, source.path, line, args[0], text, state)
        elif macro in ("INPUT_MAIL_FILTER", "MAIL_FILTER"):
            plan.skip(
                source.path, line, text, "milters: the opendkim role adds its own; set postfix_milters for others"
            )
        else:
            plan.skip(source.path, line, text, f"{macro} has no equivalent in this collection")


def _map_define(plan: Plan, path: str, line: int, name: str, value: str, text: str, state: dict) -> None:
    if name == "SMART_HOST":
        route = smtp_route(value)
        relay = route.split(":", 1)[1] if route and route.startswith("smtp:") else None
        if relay:
            plan.variables["postfix_relayhost"] = relay
            plan.note(path, line, text, "postfix_relayhost", relay)
        else:
            plan.skip(path, line, text, f"SMART_HOST {value!r} is not an SMTP relay")
    elif name == "confMAX_MESSAGE_SIZE":
        try:
            size = int(value)
        except ValueError:
            plan.skip(path, line, text, f"confMAX_MESSAGE_SIZE {value!r} is not a number of bytes")
            return
        plan.variables["postfix_message_size_limit"] = size
        plan.note(path, line, text, "postfix_message_size_limit", size)
    elif name == "confDOMAIN_NAME":
        plan.variables["postfix_myhostname"] = value.strip()
        plan.note(path, line, text, "postfix_myhostname", value.strip())
    elif name == "confPRIVACY_FLAGS":
        flags = {f.strip().lower() for f in value.replace("\x00", "").split(",") if f.strip()}
        plan.note(path, line, text, "", "the postfix role's hardening: VRFY off, HELO required, no EXPN")
        if not flags & {"novrfy", "goaway"}:
            plan.found(
                "info",
                "postfix_disable_vrfy_command",
                "sendmail answered VRFY; the postfix role turns it off (postfix_disable_vrfy_command: true)",
                path,
                line,
            )
    elif name in ("_USE_ETC_MAIL_", "confHOST_STATUS_DIRECTORY", "confCW_FILE"):
        return
    elif name == "confSMTP_LOGIN_MSG":
        plan.skip(path, line, text, "the banner is postfix_smtpd_banner, which never names the software or its version")
    else:
        plan.skip(path, line, text, f"{name} has no equivalent in this collection")


def _map_daemon(plan: Plan, path: str, line: int, options: str, text: str, state: dict) -> None:
    fields = {}
    for part in options.split(","):
        key, _sep, value = part.partition("=")
        fields[key.strip().lower()] = value.strip()
    port = fields.get("port", "smtp").lower()
    address = fields.get("addr") or fields.get("address")
    if port in ("smtp", "25"):
        state["listen"].append(address or "all")
        plan.note(path, line, text, "postfix_inet_interfaces", address or "all")
    elif port in ("submission", "587"):
        if "a" in fields.get("m", "").lower() or "E" in fields.get("m", ""):
            plan.variables["postfix_submission_enabled"] = True
            plan.variables["postfix_sasl_enabled"] = True
            plan.note(path, line, text, "postfix_submission_enabled", True)
            plan.found(
                "review",
                "dovecot_sasl_users",
                "submission with authentication: sendmail's SASL passwords are not in its configuration;"
                " set dovecot_sasl_users (password hashes, in Ansible Vault) before the cutover",
                path,
                line,
            )
            if address and address not in ("0.0.0.0", "::"):
                plan.found(
                    "review",
                    "postfix_submission_enabled",
                    f"sendmail's submission port listened on {address} only; Postfix's listens where"
                    " postfix_inet_interfaces says",
                    path,
                    line,
                )
        else:
            plan.skip(path, line, text, "a submission port without authentication (M=a) is not offered")
    elif port in ("smtps", "465"):
        plan.variables["postfix_smtps_enabled"] = True
        plan.note(path, line, text, "postfix_smtps_enabled", True)
    else:
        plan.skip(path, line, text, f"a listener on port {port} has no equivalent")


def map_cf(plan: Plan, source: Source, state: dict) -> None:
    """The compiled sendmail.cf, when there is no sendmail.mc: the few lines that carry the policy."""
    for number, raw in enumerate((source.text or "").splitlines(), 1):
        line = raw.rstrip()
        if line.startswith("Cw"):
            for domain in line[2:].split():
                state["local_domains"].append((source.path, number, domain.lower(), line))
        elif line.startswith("DS") and line[2:].strip():
            route = smtp_route(line[2:].strip())
            if route and route.startswith("smtp:"):
                plan.variables["postfix_relayhost"] = route.split(":", 1)[1]
                plan.note(source.path, number, line, "postfix_relayhost", route.split(":", 1)[1])
        elif line.startswith("DM") and line[2:].strip():
            state["masquerade_as"] = (number, line, line[2:].strip())
        elif line.startswith("O MaxMessageSize="):
            value = line.split("=", 1)[1].strip()
            if value.isdigit():
                plan.variables["postfix_message_size_limit"] = int(value)
                plan.note(source.path, number, line, "postfix_message_size_limit", int(value))
        elif line.startswith("O DaemonPortOptions="):
            _map_daemon(plan, source.path, number, line.split("=", 1)[1], line, state)
        elif line.startswith("O PrivacyOptions="):
            _map_define(plan, source.path, number, "confPRIVACY_FLAGS", line.split("=", 1)[1], line, state)


def map_access(plan: Plan, source: Source, limits: dict) -> None:
    for line, key, value, raw in table_entries(source.text or ""):
        tag, sep, rest = key.partition(":")
        tagged = sep and tag.lower() in ("connect", "from", "to")
        kind, subject = (tag.lower(), rest) if tagged else ("", key)
        if sep and not tagged and not key.lower().startswith("ipv6:"):
            plan.skip(source.path, line, raw, f"the {tag}: tag has no equivalent in this collection")
            continue
        upper = value.strip().upper()
        if upper == "RELAY":
            _map_relay(plan, source.path, line, raw, kind, subject, limits)
            continue
        action = access_action(value)
        if action is None:
            plan.skip(source.path, line, raw, f"the access value {value!r} has no Postfix access action")
            continue
        targets = {
            "connect": ["postfix_client_access"],
            "from": ["postfix_sender_access"],
            "to": ["postfix_recipient_access"],
            "": ["postfix_client_access", "postfix_sender_access"],
        }[kind]
        if kind == "" and network_of(subject):
            targets = ["postfix_client_access"]
        name = subject[5:] if subject.lower().startswith("ipv6:") else subject
        for target in targets:
            _put(plan, target, name.lower() if "@" not in name else name, action)
            plan.note(source.path, line, raw, target, {name: action})
        if upper == "OK" and kind == "to":
            plan.found(
                "info",
                "postfix_recipient_access",
                f"To:{subject} OK: Postfix checks it after reject_unauth_destination, so it never allows relaying",
                source.path,
                line,
            )


def _map_relay(plan: Plan, path: str, line: int, raw: str, kind: str, subject: str, limits: dict) -> None:
    network = network_of(subject) if kind in ("connect", "") else None
    if network:
        net = ipaddress.ip_network(network, strict=False)
        limit = limits.get(net.version, DEFAULT_PREFIX_LIMITS[net.version])
        if net.prefixlen < limit:
            plan.found(
                "refused",
                "postfix_mynetworks",
                f"postfix_mynetworks: {network} is wider than /{limit}"
                f" (postfix_mynetworks_prefix_limit_ipv{net.version}):"
                " the pre-flight refuses it; list the networks that really relay, or set"
                " postfix_mynetworks_allow_wide: true after review",
                path,
                line,
            )
        if net.prefixlen == 0:
            plan.found(
                "refused",
                "postfix_mynetworks",
                f"{raw.strip()}: relaying for every address is an open relay",
                path,
                line,
            )
        _append(plan, "postfix_mynetworks", network)
        plan.note(path, line, raw, "postfix_mynetworks", network)
        return
    if kind == "from":
        plan.found(
            "refused",
            "postfix_mynetworks",
            f"{raw.strip()}: relaying by sender address lets anyone who writes that sender relay (an open relay);"
            " not mapped - use postfix_mynetworks or authenticated submission",
            path,
            line,
        )
        plan.skip(path, line, raw, "relaying by sender address is an open relay")
        return
    if kind in ("connect", "") and subject.lower() in ("localhost", "localhost.localdomain"):
        plan.note(path, line, raw, "postfix_mynetworks", "127.0.0.0/8 and [::1]/128 (always)")
        return
    if kind == "connect":
        plan.skip(
            path,
            line,
            raw,
            "relaying for clients by host name is not offered: list their networks in postfix_mynetworks",
        )
        return
    _append(plan, "__relay_domains", subject.lower())
    plan.note(path, line, raw, "postfix_main_cf.relay_domains", subject.lower())
    if kind == "":
        plan.skip(
            path,
            line,
            raw,
            "the untagged entry also let clients named in the domain relay: that half is not mapped (list their"
            " networks in postfix_mynetworks)",
        )


def map_virtusertable(plan: Plan, source: Source) -> None:
    for line, key, value, raw in table_entries(source.text or ""):
        target = value.strip()
        if target.lower().startswith("error:"):
            plan.skip(
                source.path,
                line,
                raw,
                "error: results: put the address in postfix_recipient_access with a REJECT action instead",
            )
            continue
        if "%" in target:
            if key.startswith("@") and re.fullmatch(r"%1@[A-Za-z0-9.-]+", target):
                target = target[2:]  # "%1@example.net" -> "@example.net": Postfix keeps the local part
            else:
                plan.skip(source.path, line, raw, f"the {target!r} form keeps parts of the address Postfix cannot pick")
                continue
        key_out = key.lower() if key.startswith("@") else key
        _put(plan, "postfix_virtual_aliases", key_out, target)
        plan.note(source.path, line, raw, "postfix_virtual_aliases", {key_out: target})
        if key.startswith("@"):
            plan.found(
                "review",
                "postfix_virtual_aliases",
                f"{key} is a catch-all: every address of {key[1:]} is accepted, and spam to made-up addresses is"
                " delivered rather than rejected",
                source.path,
                line,
            )


def map_mailertable(plan: Plan, source: Source) -> None:
    for line, key, value, raw in table_entries(source.text or ""):
        route = smtp_route(value)
        if route is None:
            plan.skip(source.path, line, raw, f"the mailer of {value!r} has no Postfix transport")
            continue
        _put(plan, "postfix_transport", key.lower(), route)
        plan.note(source.path, line, raw, "postfix_transport", {key.lower(): route})


def map_genericstable(plan: Plan, source: Source) -> None:
    for line, key, value, raw in table_entries(source.text or ""):
        _put(plan, "postfix_generic", key.lower() if "@" not in key else key, value.strip())
        plan.note(source.path, line, raw, "postfix_generic", {key: value.strip()})


def map_aliases(plan: Plan, source: Source) -> None:
    for line, name, targets, raw in alias_entries(source.text or ""):
        if not name:
            plan.skip(source.path, line, raw, "not an alias (name: targets)")
            continue
        value = targets[0] if len(targets) == 1 else targets
        plan.variables.setdefault("postfix_aliases", {})[name] = value
        plan.note(source.path, line, raw, "postfix_aliases", {name: value})


def migrate(
    sources: dict[str, Source],
    hostname: str,
    prefix_limits: dict | None = None,
) -> Plan:
    """The plan for a host: ``sources`` by role (mc, cf, local-host-names, relay-domains, access,
    virtusertable, mailertable, genericstable, generics-domains, aliases)."""
    plan = Plan()
    limits = {**DEFAULT_PREFIX_LIMITS, **(prefix_limits or {})}
    state = {"local_domains": [], "relay_domains": [], "generics_domains": [], "listen": []}
    mc, cf = sources.get("mc"), sources.get("cf")
    if mc and mc.text is not None:
        map_mc(plan, mc, state)
    elif cf and cf.text is not None:
        map_cf(plan, cf, state)
    for role, reader in (("local-host-names", "local_domains"), ("relay-domains", "relay_domains")):
        found = sources.get(role)
        if found and found.text is not None:
            for line, entry in list_entries(found.text):
                state[reader].append((found.path, line, entry.lower(), entry))
    generics = sources.get("generics-domains")
    if generics and generics.text is not None:
        state["generics_domains"] += [entry.lower() for _line, entry in list_entries(generics.text)]

    destinations = ["$myhostname", "localhost"]
    for path, line, domain, text in state["local_domains"]:
        value = "$myhostname" if domain == hostname.lower() else domain
        if value not in destinations:
            destinations.append(value)
        plan.note(path, line, text, "postfix_mydestination", value)
    plan.variables["postfix_mydestination"] = destinations
    for path, line, domain, text in state["relay_domains"]:
        _append(plan, "__relay_domains", domain)
        plan.note(path, line, text, "postfix_main_cf.relay_domains", domain)

    for role, mapper in (
        ("access", lambda p, s: map_access(p, s, limits)),
        ("virtusertable", map_virtusertable),
        ("mailertable", map_mailertable),
        ("genericstable", map_genericstable),
        ("aliases", map_aliases),
    ):
        found = sources.get(role)
        if found and found.text is not None:
            mapper(plan, found)

    if "postfix_mynetworks" in plan.variables:
        plan.variables["postfix_mynetworks"] = ["127.0.0.0/8", "[::1]/128"] + [
            n for n in plan.variables["postfix_mynetworks"] if n not in ("127.0.0.0/8", "127.0.0.1/32")
        ]
    relay = plan.variables.pop("__relay_domains", [])
    if relay:
        plan.variables["postfix_main_cf"] = {"relay_domains": relay}
        plan.found(
            "review",
            "postfix_main_cf.relay_domains",
            f"Postfix relays to {', '.join(relay)} for any client and, without relay_recipient_maps, for any"
            " address in them: list the valid recipients (relay_recipient_maps) to reject unknown ones at SMTP time",
        )
    _map_masquerade(plan, state)
    aliases = plan.variables.get("postfix_aliases")
    if aliases is not None and "postmaster" not in aliases:
        plan.found(
            "review",
            "postfix_aliases",
            "no postmaster alias: mail to postmaster (RFC 5321 requires it) would bounce; add postmaster: root",
        )
    listen = state["listen"]
    if listen:
        if any(a in ("all", "0.0.0.0", "::") for a in listen):
            plan.variables["postfix_inet_interfaces"] = "all"
        else:
            plan.variables["postfix_inet_interfaces"] = ", ".join(dict.fromkeys(listen))
            if all(a.startswith("127.") or a == "::1" for a in listen):
                plan.found(
                    "review",
                    "postfix_inet_interfaces",
                    "sendmail listened on loopback only (the Debian default): Postfix will too; set"
                    " postfix_inet_interfaces: all if this host receives mail from the Internet",
                )
    return plan


def _map_masquerade(plan: Plan, state: dict) -> None:
    masquerade = state.get("masquerade_as")
    if not masquerade:
        return
    _line, _text, domain = masquerade
    domain = domain.strip().lower()
    # MASQUERADE_AS rewrites the host part of local senders: Postfix's generic map for the host name
    # does that on outgoing SMTP, and masquerade_domains strips subdomains of the domain.
    _append(plan, "postfix_masquerade_domains", domain)
    plan.variables["postfix_myorigin"] = domain
    plan.mapped.append(
        {
            "file": "",
            "line": _line,
            "text": _text,
            "variable": "postfix_myorigin, postfix_masquerade_domains",
            "value": domain,
        }
    )
    if not state.get("masquerade_envelope"):
        plan.found(
            "info",
            "postfix_masquerade_domains",
            "sendmail masqueraded headers only (no FEATURE(masquerade_envelope)); Postfix masquerades the envelope"
            " sender too",
        )


def addresses_to_verify(plan: Plan, domains: list[str]) -> list[str]:
    """The addresses whose resolution is recorded before the cutover and compared after it."""
    out = []
    local = [d for d in plan.variables.get("postfix_mydestination", []) if not d.startswith("$") and d != "localhost"]
    for name in plan.variables.get("postfix_aliases", {}):
        for domain in local[:1] or domains[:1]:
            out.append(f"{name}@{domain}")
    for key in plan.variables.get("postfix_virtual_aliases", {}):
        out.append(f"mailhost-migration-check{key}" if key.startswith("@") else key)
    for key in plan.variables.get("postfix_transport", {}):
        domain = key.lstrip(".")
        out.append(f"postmaster@{('sub.' if key.startswith('.') else '') + domain}")
    return list(dict.fromkeys(a for a in out if "@" in a))


def _cell(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value) -> str:
    text = _cell(value)
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def report_markdown(hostname: str, outcome: dict) -> str:
    """The plan for the pull request: the findings first, what maps to what, what does not, the queue."""
    findings, unmapped, mapped = outcome["findings"], outcome["unmapped"], outcome["mapped"]
    lines = [
        f"# sendmail to Postfix: {hostname}",
        "",
        f"{len(mapped)} line(s) mapped, {len(unmapped)} not mapped, {len(findings)} finding(s),"
        f" {len(outcome.get('queue', []))} message(s) in sendmail's queue.",
        "",
        "## Findings",
        "",
    ]
    if findings:
        lines += ["| Severity | Variable | Finding | Where |", "|---|---|---|---|"]
        order = {"refused": 0, "review": 1, "info": 2}
        for f in sorted(findings, key=lambda f: order.get(f["severity"], 3)):
            where = f"{f['file']}:{f['line']}" if f.get("file") else ""
            lines.append(f"| {f['severity'].upper()} | `{f['variable']}` | {_cell(f['message'])} | {where} |")
    else:
        lines.append("None.")
    lines += ["", "## Not mapped", ""]
    if unmapped:
        lines += ["| Where | Line | Why |", "|---|---|---|"]
        for u in unmapped:
            lines.append(f"| {u['file']}:{u['line']} | {_code(u['text'])} | {_cell(u['reason'])} |")
    else:
        lines.append("Every line maps.")
    lines += ["", "## What maps to what", "", "| Where | Line | Variable | Value |", "|---|---|---|---|"]
    for m in mapped:
        where = f"{m['file']}:{m['line']}" if m.get("file") else f"line {m['line']}"
        lines.append(
            f"| {where} | {_code(m['text'])} | `{m['variable'] or '(the role by design)'}` | {_cell(m['value'])} |"
        )
    lines += ["", "## sendmail's queue", ""]
    queue = outcome.get("queue", [])
    if queue:
        lines += ["| Id | Sender | Recipients |", "|---|---|---|"]
        for q in queue:
            lines.append(
                f"| {q['id']} | {_cell(q.get('sender') or '<>')} | {_cell(', '.join(q.get('recipients', [])))} |"
            )
        lines += ["", "At the cutover these are handed to Postfix with their envelope, after Postfix is verified."]
    else:
        lines.append("Empty.")
    return "\n".join(lines) + "\n"
