# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a module would change anything, judged on the controller from what mailhost_facts read.

A run that changes nothing should call no module: the roles compare what the modules would write
(computed here with the modules' own functions) with the host's files (their SHA-256, mode and
owner, and the text of main.cf and master.cf). Each function answers with the reasons a module
must run (an empty list: nothing to do), and errs on the side of running it: a file the facts do
not describe counts as different. Pure functions, unit tested directly.
"""

from __future__ import annotations

import hashlib

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import (
    key_path,
    key_table,
    signing_selectors,
    signing_table,
    trusted_hosts,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import (
    INDEX_SUFFIX,
    edit_main_cf,
    format_value,
    render_table,
)

PENDING = "pending.json"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_reasons(
    facts: dict, path: str, content: str | None, mode: str = "", owner: str = "", group: str = ""
) -> list[str]:
    """Why a file must be written: missing, another content, another mode or owner."""
    found = (facts.get("files") or {}).get(path)
    if not found or not found.get("exists"):
        return [f"{path}: missing"]
    reasons = []
    if content is not None and found.get("sha256") != digest(content):
        reasons.append(f"{path}: content differs")
    if mode and found.get("mode") != f"{int(str(mode), 8):04o}":
        reasons.append(f"{path}: mode {found.get('mode')} instead of {mode}")
    if owner and found.get("owner") != owner:
        reasons.append(f"{path}: owner {found.get('owner')} instead of {owner}")
    if group and found.get("group") != group:
        reasons.append(f"{path}: group {found.get('group')} instead of {group}")
    return reasons


def pending_reasons(facts: dict, backup_dir: str) -> list[str]:
    path = f"{backup_dir.rstrip('/')}/{PENDING}"
    return (
        [f"{path}: an interrupted run left files that are not known to be live"]
        if (facts.get("paths") or {}).get(path)
        else []
    )


def postconf_reasons(
    facts: dict,
    params: dict,
    absent: list,
    exclusive: bool,
    keep: list,
    master_cf: str,
    maps: list[dict],
    config_dir: str = "/etc/postfix",
    backup_dir: str = "/var/lib/mailops-mailhost/postfix-rollback",
) -> list[str]:
    """Why the postconf module must run: main.cf, master.cf or a table differs, or a change is pending."""
    texts = facts.get("texts") or {}
    reasons = pending_reasons(facts, backup_dir)
    main = texts.get(f"{config_dir}/main.cf")
    wanted = {str(k): format_value(v) for k, v in (params or {}).items()}
    if main is None or edit_main_cf(main, wanted, list(absent or []), bool(exclusive), keep=list(keep or [])) != main:
        reasons.append(f"{config_dir}/main.cf: parameters differ")
    master = master_cf if master_cf.endswith("\n") else master_cf + "\n"
    if texts.get(f"{config_dir}/master.cf") != master:
        reasons.append(f"{config_dir}/master.cf: services differ")
    for spec in maps or []:
        content = spec.get("content")
        if spec.get("entries") is not None:
            content = render_table(spec["entries"], bool(spec.get("alias")), str(spec.get("source", "")))
        if content is not None and not content.endswith("\n"):
            content += "\n"
        reasons += file_reasons(facts, spec["path"], content)
        suffix = INDEX_SUFFIX.get(spec.get("type", "hash"))
        if suffix and not (facts.get("paths") or {}).get(spec["path"] + suffix):
            reasons.append(f"{spec['path']}{suffix}: not compiled")
    return reasons


def dkim_reasons(
    facts: dict,
    keys: list[dict],
    private_keys: dict,
    signing: dict,
    hosts: list,
    key_dir: str,
    tables_dir: str,
    config: str | None,
    config_path: str,
    owner: str = "opendkim",
    backup_dir: str = "/var/lib/mailops-mailhost/opendkim-rollback",
) -> list[str]:
    """Why the dkim_keys module must run: a key, a table or opendkim.conf differs, or a change is pending."""
    chosen, _problems = signing_selectors(list(keys or []), dict(signing or {}))
    reasons = pending_reasons(facts, backup_dir)
    tables = {
        "KeyTable": key_table(list(keys or []), key_dir),
        "SigningTable": signing_table(chosen),
        "TrustedHosts": trusted_hosts(list(hosts or [])),
    }
    for name, content in tables.items():
        reasons += file_reasons(facts, f"{tables_dir.rstrip('/')}/{name}", content, "0640", owner)
    if config is not None:
        reasons += file_reasons(facts, config_path, config if config.endswith("\n") else config + "\n", "0640", "root")
    for key in keys or []:
        path = key_path(key_dir, key["domain"], key["selector"])
        supplied = (private_keys or {}).get(f"{key['domain']}/{key['selector']}")
        reasons += file_reasons(facts, path, supplied.strip() + "\n" if supplied else None, "0600", owner)
    return reasons


def passwd_reasons(facts: dict, path: str, content: str) -> list[str]:
    """The users a passwd-file change adds, removes or gives another password, by name only."""
    current = (facts.get("users") or {}).get(path) or {}
    wanted = {}
    for line in content.splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            wanted[line.split(":", 1)[0]] = digest(line)
    reasons = [f"SASL user {name} added" for name in sorted(set(wanted) - set(current))]
    reasons += [f"SASL user {name} removed" for name in sorted(set(current) - set(wanted))]
    reasons += [
        f"SASL user {name}: another password"
        for name in sorted(set(wanted) & set(current))
        if wanted[name] != current[name]
    ]
    return reasons
