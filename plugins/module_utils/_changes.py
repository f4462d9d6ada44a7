# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change report's one shape: what a module changes (or would change, in check mode), item by item.

Every module of the collection that changes the host returns ``mailhost_changes``: a list of
entries ``{"component", "kind", "item", "before", "after", "note"}``:

- ``component``: postfix, opendkim, dovecot, fail2ban, firewall, certbot;
- ``kind``: parameter (main.cf), service (a master.cf entry, a field or one ``-o`` option),
  table (one entry of a lookup table or an opendkim table), key (a DKIM key: generated, written,
  its mode), file, action (what happens to the daemon, and why), record (DNS to publish),
  firewall (a firewalld service or port);
- ``before``/``after``: the values (None where there was none, or where there is none now);
  never key material, password hashes or other secrets;
- ``note``: a short reason a reviewer needs (``restart: the listeners change``).

The change_report callback collects these into mailhost-plan.md and mailhost-plan.json. Pure
functions, unit tested directly.
"""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.module_utils._cf_lines import logical_lines
from ansible_collections.mailops.mailhost.plugins.module_utils._master_cf import MasterService, parse_master_cf
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import normalize_value

FIELDS = ("type", "private", "unpriv", "chroot", "wakeup", "maxproc")


def entry(component: str, kind: str, item: str, before=None, after=None, note: str = "") -> dict:
    return {"component": component, "kind": kind, "item": item, "before": before, "after": after, "note": note}


def parameter_entries(before: dict[str, str], after: dict[str, str], names: list[str]) -> list[dict]:
    return [
        entry(
            "postfix",
            "parameter",
            name,
            normalize_value(before[name]) if name in before else None,
            normalize_value(after[name]) if name in after else None,
        )
        for name in names
    ]


def _services(text: str | None) -> dict[str, MasterService]:
    try:
        return {s.key: s for s in parse_master_cf(text or "")}
    except ValueError:
        return {}


def _line(service: MasterService) -> str:
    return " ".join([service.name, *service.fields[1:], service.command])


def service_entries(old_text: str | None, new_text: str | None) -> list[dict]:
    """master.cf by service: added or removed services, and only the fields and -o options that changed."""
    old, new = _services(old_text), _services(new_text)
    found = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            found.append(
                entry(
                    "postfix",
                    "service",
                    key,
                    None,
                    _line(new[key]),
                    "a new listener" if new[key].type == "inet" else "",
                )
            )
            continue
        if key not in new:
            found.append(
                entry(
                    "postfix",
                    "service",
                    key,
                    _line(old[key]),
                    None,
                    "a listener is removed" if old[key].type == "inet" else "",
                )
            )
            continue
        a, b = old[key], new[key]
        for index, field in enumerate(FIELDS, start=1):
            if a.fields[index] != b.fields[index]:
                found.append(entry("postfix", "service", f"{key} {field}", a.fields[index], b.fields[index]))
        if a.command != b.command:
            found.append(entry("postfix", "service", f"{key} command", a.command, b.command))
        for option in sorted(set(a.options) | set(b.options)):
            if a.options.get(option) != b.options.get(option):
                found.append(
                    entry("postfix", "service", f"{key} -o {option}", a.options.get(option), b.options.get(option))
                )
    return found


def table_lines(text: str | None, alias: bool = False) -> dict[str, str]:
    """A lookup table's entries (key to value) from its source text; comments and blank lines aside."""
    entries = {}
    for _start, _end, logical in logical_lines(text or ""):
        if alias:
            key, _sep, value = logical.partition(":")
        else:
            key, _sep, value = logical.partition(" ")
        entries[key.strip()] = " ".join(value.split())
    return entries


def table_entries(
    component: str, path: str, old_text: str | None, new_text: str | None, alias: bool = False
) -> list[dict]:
    old, new = table_lines(old_text, alias), table_lines(new_text, alias)
    return [
        entry(component, "table", f"{path}: {key}", old.get(key), new.get(key))
        for key in sorted(set(old) | set(new), key=str.lower)
        if old.get(key) != new.get(key)
    ]


def action_entry(component: str, action: str, note: str) -> dict:
    return entry(component, "action", component, None, action, note)
