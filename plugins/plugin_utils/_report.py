# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change report: a run's changes per host and component, what a reviewer must look at first.

Pure functions over plain data, used by the change_report callback and unit tested directly:
``Report`` gathers the entries (the modules' ``mailhost_changes`` shape, the pre-flight's reasons,
the other tasks' changes, failures), ``security_relevant`` flags the ones that touch relaying,
authentication, TLS, the banner, DKIM keys, bans or secret files, ``mask`` removes any secret
that could slip into a text, and ``render_markdown`` / ``as_json`` write the two files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SCHEMA = "mailops.mailhost/plan/v1"
ORDER = ("firewall", "certbot", "opendkim", "dovecot", "postfix", "fail2ban", "other")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL)
_HASH = re.compile(r"(\{[A-Z0-9-]+\})?\$(1|5|6|2[aby]|y|argon2i|argon2id)\$[^\s\"',]+")
# main.cf parameters (and master.cf -o options) a reviewer must see: relaying, authentication,
# TLS, what the server says about itself, and what it accepts.
_SECURITY_PARAMS = re.compile(
    r"^(mynetworks(_style)?|relay_domains|relayhost|permit_mx_backup_networks|inet_interfaces|smtpd_\w*restrictions"
    r"|smtpd_(sasl|tls)_\w+|smtp_(sasl|tls)_\w+|tls_\w+|broken_sasl_auth_clients|smtpd_banner|disable_vrfy_command"
    r"|smtpd_helo_required|allow_percent_hack|swap_bangpath|allow_untrusted_routing|smtpd_milters|non_smtpd_milters"
    r"|milter_default_action|smtpd_restriction_classes|mailhost_probe_hold)$"
)
_SECURITY_TABLES = re.compile(r"(access|TrustedHosts|SigningTable|KeyTable)(:|$)")
_SECURITY_REASONS = re.compile(
    r"(\.private|TrustedHosts|KeyTable|SigningTable|jail|SASL user|sasl-users|fail2ban is not|firewalld)"
)


def mask(value):
    """A value with any private key or password hash replaced by a placeholder (recursively)."""
    if isinstance(value, str):
        return _HASH.sub("(hash hidden)", _PEM.sub("(private key hidden)", value))
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    return value


def security_relevant(entry: dict) -> bool:
    kind, item = entry.get("kind", ""), str(entry.get("item", ""))
    if kind == "parameter":
        return bool(_SECURITY_PARAMS.match(item))
    if kind == "service":
        option = item.split(" -o ", 1)[1] if " -o " in item else ""
        return bool(_SECURITY_PARAMS.match(option)) or (entry.get("note") or "").startswith(
            ("a new listener", "a listener")
        )
    if kind == "table":
        return bool(_SECURITY_TABLES.search(item.split(":", 1)[0]))
    if kind in ("key", "firewall", "user", "jail"):
        return True
    if kind == "unit":
        return item in ("fail2ban", "firewalld")
    if kind == "reason":
        return bool(_SECURITY_REASONS.search(item))
    if kind == "file":
        return bool(re.search(r"(jail|sasl-users|\.private|opendkim)", item))
    return False


def component_of(role: str) -> str:
    name = role.rsplit(".", 1)[-1]
    return {"dovecot_sasl": "dovecot", "mailhost": "other"}.get(name, name if name in ORDER else "other")


@dataclass
class HostReport:
    entries: list[dict] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    unreachable: str = ""
    changed_tasks: int = 0


class Report:
    """Everything a run changed (or would change), per host."""

    def __init__(self, check_mode: bool = False):
        self.check_mode = check_mode
        self.hosts: dict[str, HostReport] = {}

    def host(self, name: str) -> HostReport:
        return self.hosts.setdefault(name, HostReport())

    def add_entries(self, host: str, entries: list[dict]) -> None:
        for entry in entries or []:
            clean = mask(dict(entry))
            if clean not in self.host(host).entries:
                self.host(host).entries.append(clean)

    def add_reasons(self, host: str, reasons: dict[str, list[str]]) -> None:
        for role, lines in (reasons or {}).items():
            if lines:
                self.host(host).reasons[component_of(role)] = mask(list(lines))

    def add_failure(self, host: str, message: str) -> None:
        self.host(host).failures.append(mask(" ".join(str(message).split()))[:2000])

    def add_unreachable(self, host: str, message: str) -> None:
        self.host(host).unreachable = mask(str(message))[:500]

    # --- what the files say --------------------------------------------------------------------

    def flagged(self) -> list[tuple[str, dict]]:
        found = []
        for name, host in sorted(self.hosts.items()):
            for entry in host.entries:
                if security_relevant(entry):
                    found.append((name, entry))
            detailed = {e.get("component") for e in host.entries}
            for component, lines in sorted(host.reasons.items()):
                if component in detailed:
                    continue  # the module's own entries say it item by item
                for line in lines:
                    reason = {"component": component, "kind": "reason", "item": line, "before": None, "after": None}
                    if security_relevant(reason):
                        found.append((name, reason))
        return found

    def action(self, host: HostReport) -> tuple[str, str]:
        actions = [e for e in host.entries if e.get("kind") == "action" and e.get("component") == "postfix"]
        rank = {"restart": 3, "start": 2, "reload": 1}
        if not actions:
            return "none", ""
        best = max(actions, key=lambda e: rank.get(e.get("after"), 0))
        return best.get("after", "none"), best.get("note", "")

    def changes_of(self, host: HostReport) -> int:
        return len([e for e in host.entries if e.get("kind") != "action"]) + sum(
            len(v) for c, v in host.reasons.items() if not any(e.get("component") == c for e in host.entries)
        )

    def as_json(self) -> dict:
        hosts = {}
        for name, host in sorted(self.hosts.items()):
            action, why = self.action(host)
            hosts[name] = {
                "status": "unreachable" if host.unreachable else ("failed" if host.failures else "ok"),
                "changes": self.changes_of(host),
                "postfix_action": {"action": action, "why": why},
                "entries": [dict(e, security=security_relevant(e)) for e in host.entries],
                "reasons": host.reasons,
                "failures": host.failures,
                "unreachable": host.unreachable,
            }
        return {
            "schema": SCHEMA,
            "mode": "check" if self.check_mode else "apply",
            "security": [dict(entry, host=name) for name, entry in self.flagged()],
            "hosts": hosts,
        }


def _cell(value) -> str:
    if value is None:
        return "–"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return f"`{text[:160]}`" if text else "`` ``"


def render_markdown(report: Report, title: str = "Mail host plan") -> str:
    data = report.as_json()
    mode = "check mode: nothing was changed" if report.check_mode else "applied"
    total = sum(h["changes"] for h in data["hosts"].values())
    lines = [f"## {title} ({mode})", ""]
    lines.append(f"{len(data['hosts'])} host(s), {total} change(s), {len(data['security'])} security-relevant.")
    lines.append("")
    if data["security"]:
        lines += ["### Security-relevant: look at these first", ""]
        for entry in data["security"]:
            lines.append(
                f"- **{entry['host']}** · {entry['component']} · {entry['kind']} {_cell(entry['item'])}: "
                f"{_cell(entry.get('before'))} → {_cell(entry.get('after'))}"
                if entry["kind"] != "reason"
                else f"- **{entry['host']}** · {entry['component']} · {entry['item']}"
            )
        lines.append("")
    lines += ["| Host | Status | Changes | Postfix | Why |", "| --- | --- | --- | --- | --- |"]
    for name, host in data["hosts"].items():
        action = host["postfix_action"]
        lines.append(f"| {name} | {host['status']} | {host['changes']} | {action['action']} | {action['why'] or '–'} |")
    lines.append("")
    for name, host in data["hosts"].items():
        lines += [f"### {name}", ""]
        if host["unreachable"]:
            lines += [f"Unreachable: {host['unreachable']}", ""]
        for failure in host["failures"]:
            lines += [f"**Failed**: {failure}", ""]
        if not host["changes"] and not host["failures"] and not host["unreachable"]:
            lines += ["No changes.", ""]
            continue
        components = sorted(
            {e["component"] for e in host["entries"]} | set(host["reasons"]),
            key=lambda c: ORDER.index(c) if c in ORDER else 99,
        )
        for component in components:
            entries = [e for e in host["entries"] if e["component"] == component]
            lines += [f"#### {component}", ""]
            for action in [e for e in entries if e["kind"] == "action"]:
                lines.append(
                    f"- Action: **{action['after']}**" + (f" ({action['note']})" if action.get("note") else "")
                )
            rows = [e for e in entries if e["kind"] != "action"]
            if rows:
                lines += ["", "| | Kind | Item | Before | After | Note |", "| --- | --- | --- | --- | --- | --- |"]
                for e in rows:
                    flag = "⚠" if e["security"] else ""
                    cells = [
                        flag,
                        e["kind"],
                        _cell(e["item"]),
                        _cell(e.get("before")),
                        _cell(e.get("after")),
                        e.get("note") or "",
                    ]
                    lines.append("| " + " | ".join(cells) + " |")
            if component in host["reasons"]:
                lines += ["", "What differs on the host:"] + [f"- {line}" for line in host["reasons"][component]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
