# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic for Postfix configuration files: parse, normalise, edit and compare.

Nothing here runs a command or touches a file, so all of it is unit tested directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.mailops.mailhost.plugins.module_utils._cf_lines import logical_lines
from ansible_collections.mailops.mailhost.plugins.module_utils._master_cf import (
    MasterService,
    listeners,
    parse_master_cf,
)

# Parameters that "postfix reload" does not apply: the master daemon must be restarted.
RESTART_PARAMS = frozenset(
    {
        "inet_interfaces",
        "inet_protocols",
        "queue_directory",
        "data_directory",
        "process_id_directory",
        "daemon_directory",
        "mail_owner",
    }
)

# Table types whose file must exist, and those that are compiled into an indexed file.
INDEXED_TYPES = ("hash", "btree", "lmdb", "cdb", "dbm", "sdbm")
FILE_TYPES = (*INDEXED_TYPES, "regexp", "pcre", "cidr", "texthash")
INDEX_SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb", "dbm": ".pag", "sdbm": ".pag"}
_TABLE_RE = re.compile(r"(?<![\w-])(" + "|".join(FILE_TYPES) + r"):(/[^\s,]+)")

# Parameters naming certificate or key files that smtpd/smtp read at run time.
_TLS_FILE_PARAM_RE = re.compile(
    r"^(smtpd|smtp|lmtp|tlsproxy)_tls_(cert_file|key_file|eccert_file|eckey_file|dcert_file|dkey_file|"
    r"chain_files|CAfile|dh1024_param_file|dh512_param_file)$"
)

# Tables that Postfix creates and maintains itself (caches): never required to exist.
_SELF_MAINTAINED_RE = re.compile(r"(_cache_database|_cache_map|^address_verify_map|^proxy_write_maps)$")

_FINDING_RE = re.compile(r"^(?P<prog>[\w./-]+?)(?:\[\d+\])?: (?P<severity>warning|error|fatal|panic): (?P<message>.*)$")


@dataclass
class Finding:
    """One diagnostic line from a Postfix program."""

    severity: str
    message: str
    program: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "message": self.message, "program": self.program}


def render_table(entries: dict, alias: bool = False, source: str = "") -> str:
    """A lookup table's source file: a header, then one ``key value`` line per key (``key: value`` for aliases).

    Keys are sorted without regard to case; a list value is joined with ``, ``.
    """
    lines = []
    for key in sorted(entries, key=lambda k: str(k).lower()):
        value = entries[key]
        text = ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
        lines.append(f"{key}: {text}" if alias else f"{key} {text}")
    header = f"# Managed by Ansible (mailops.mailhost.postfix): {source}" if source else "# Managed by Ansible"
    return header + "\n" + "\n".join(lines) + "\n"


def unbracket(network: str) -> str:
    """A Postfix network (``[2001:db8::]/32``, IPv6 in brackets) as other programs write it (``2001:db8::/32``)."""
    network = network.strip()
    if network.startswith("["):
        address, sep, rest = network[1:].partition("]")
        if sep:
            return address + rest
    return network


def format_value(value: object) -> str:
    """Turn a YAML value into the text Postfix expects."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if value is None:
        return ""
    return str(value)


def normalize_value(value: str) -> str:
    """Canonical form for comparing values: whitespace folded, list separators unified.

    Postfix treats commas and whitespace alike as list separators, and continuation
    lines as one logical line, so "a,b", "a, b" and "a\n    b" compare equal.
    """
    text = " ".join(value.split())
    return re.sub(r"\s*,\s*", ", ", text).strip(", ").strip()


def parse_main_cf(text: str) -> dict[str, str]:
    """Parameters of a main.cf text, last definition wins (as in Postfix)."""
    params: dict[str, str] = {}
    for _start, _end, logical in logical_lines(text):
        name, sep, value = logical.partition("=")
        if sep:
            params[name.strip()] = value.strip()
    return params


def render_param(name: str, value: str) -> list[str]:
    """Lines for one parameter; long lists are written one item per continuation line."""
    items = [v for v in re.split(r"\s*,\s*", value) if v] if "," in value else []
    if len(name) + len(value) + 3 > 100 and len(items) > 1:
        return [f"{name} ="] + [f"    {item}," for item in items[:-1]] + [f"    {items[-1]}"]
    return [f"{name} = {value}" if value else f"{name} ="]


def edit_main_cf(
    text: str,
    params: dict[str, str],
    absent: list[str] | None = None,
    exclusive: bool = False,
    keep: list[str] | None = None,
) -> str:
    """Return main.cf text with ``params`` set and ``absent`` (or, if exclusive, all others but ``keep``) removed.

    A parameter already set to an equivalent value keeps its line as written; comments
    and the order of the file are kept; a parameter defined twice keeps only one line.
    """
    absent_set = set(absent or [])
    keep_set = set(keep or [])
    lines = text.splitlines()
    replace: dict[int, list[str]] = {}
    drop: set[int] = set()
    seen: set[str] = set()
    logical = logical_lines(text)
    last_index = {}
    for idx, (_s, _e, joined) in enumerate(logical):
        last_index[joined.partition("=")[0].strip()] = idx
    for idx, (start, end, joined) in enumerate(logical):
        name, _sep, value = joined.partition("=")
        name = name.strip()
        unlisted = exclusive and name not in params and name not in keep_set
        remove = name in absent_set or unlisted or last_index[name] != idx
        if remove:
            drop.update(range(start, end + 1))
            continue
        seen.add(name)
        if name in params and normalize_value(value) != normalize_value(params[name]):
            drop.update(range(start, end + 1))
            replace[start] = render_param(name, params[name])
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in replace:
            out.extend(replace[i])
        if i not in drop:
            out.append(line)
    missing = [n for n in params if n not in seen]
    if missing:
        if out and out[-1].strip():
            out.append("")
        for name in missing:
            out.extend(render_param(name, params[name]))
    return "\n".join(out).rstrip("\n") + "\n"


def changed_params(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Names whose (normalised) value differs, added or removed, sorted."""
    names = set(before) | set(after)
    return sorted(
        n for n in names if n not in before or n not in after or normalize_value(before[n]) != normalize_value(after[n])
    )


def params_diff_text(params: dict[str, str], names: list[str]) -> str:
    """The 'name = value' lines of the given names, for a per-parameter diff."""
    return "".join(f"{n} = {normalize_value(params[n])}\n" for n in names if n in params)


def parse_findings(text: str) -> list[Finding]:
    """Findings from the stderr of postconf/postfix (duplicates removed, order kept)."""
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for line in text.splitlines():
        match = _FINDING_RE.match(line.strip())
        if not match:
            continue
        program = match.group("prog").rsplit("/", 1)[-1] if match.group("prog").startswith("/") else match.group("prog")
        key = (match.group("severity"), match.group("message"))
        if key in seen:
            continue
        seen.add(key)
        findings.append(Finding(match.group("severity"), match.group("message"), program))
    return findings


def restart_reason(changed: list[str], old_master: str | None, new_master: str | None) -> str:
    """Why a change needs a full restart rather than 'postfix reload' (empty: a reload applies it)."""
    params = sorted(RESTART_PARAMS.intersection(changed))
    if params:
        return f"{', '.join(params)} changed (a reload does not apply {'it' if len(params) == 1 else 'them'})"
    if old_master is None or new_master is None or old_master == new_master:
        return ""
    added = sorted(listeners(parse_master_cf(new_master)) - listeners(parse_master_cf(old_master)))
    removed = sorted(listeners(parse_master_cf(old_master)) - listeners(parse_master_cf(new_master)))
    parts = ([f"new listener {', '.join(added)}"] if added else []) + (
        [f"listener {', '.join(removed)} removed"] if removed else []
    )
    return "; ".join(parts)


def restart_required(changed: list[str], old_master: str | None, new_master: str | None) -> bool:
    """Whether a change needs a full restart rather than 'postfix reload'."""
    if RESTART_PARAMS.intersection(changed):
        return True
    if old_master is None or new_master is None or old_master == new_master:
        return False
    return listeners(parse_master_cf(old_master)) != listeners(parse_master_cf(new_master))


def referenced_tables(values: list[str]) -> list[tuple[str, str]]:
    """(type, path) of every file-based lookup table named in the given values."""
    found: list[tuple[str, str]] = []
    for value in values:
        for match in _TABLE_RE.finditer(value):
            entry = (match.group(1), match.group(2).rstrip(","))
            if entry not in found:
                found.append(entry)
    return found


def referenced_tls_files(params: dict[str, str]) -> list[tuple[str, str]]:
    """(parameter, path) of every certificate or key file the parameters name."""
    found: list[tuple[str, str]] = []
    for name, value in sorted(params.items()):
        if _TLS_FILE_PARAM_RE.match(name):
            for path in re.split(r"[\s,]+", value.strip()):
                if path:
                    found.append((name, path))
    return found


def missing_references(
    params: dict[str, str],
    services: list[MasterService],
    exists,
    pending: set[str] | None = None,
) -> list[str]:
    """Plain-language problems for map and TLS files that are referenced but absent.

    ``exists`` is a callable(path) -> bool; ``pending`` holds paths that the same
    change is about to write (their source and compiled files count as present).
    """
    pending = pending or set()
    problems: list[str] = []
    values = [v for k, v in params.items() if not _SELF_MAINTAINED_RE.search(k)]
    values += [v for s in services for k, v in s.options.items() if not _SELF_MAINTAINED_RE.search(k)]
    for table_type, path in referenced_tables(values):
        if path in pending:
            continue
        if not exists(path):
            problems.append(f"lookup table {table_type}:{path} is referenced but {path} does not exist")
        elif table_type in INDEXED_TYPES and not exists(path + INDEX_SUFFIX[table_type]):
            problems.append(
                f"lookup table {table_type}:{path} is referenced but not compiled "
                f"({path}{INDEX_SUFFIX[table_type]} does not exist; run postmap)"
            )
    overrides = {k: v for s in services for k, v in s.options.items()}
    for name, path in referenced_tls_files({**params, **overrides}):
        if path.startswith("$"):
            continue
        if path not in pending and not exists(path):
            problems.append(f"{name} names {path}, which does not exist")
    return problems


def parse_version(text: str) -> tuple[int, ...]:
    """'3.7.11' -> (3, 7, 11)."""
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def version_problems(params: dict[str, str], version: tuple[int, ...]) -> list[str]:
    """Values that the Postfix version on the host does not understand."""
    problems: list[str] = []
    if version and version < (3, 6):
        for name, value in sorted(params.items()):
            if name.endswith("_tls_protocols") and ">=" in value:
                problems.append(
                    f"{name} = {value}: the '>=' form needs Postfix 3.6 or newer, this host has "
                    f"{'.'.join(map(str, version))}; use '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'"
                )
    if version and version < (3, 4):
        problems.extend(
            f"{name} needs Postfix 3.4 or newer" for name in sorted(params) if name.endswith("_tls_chain_files")
        )
    return problems
