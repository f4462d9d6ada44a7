#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postconf
short_description: Manage Postfix main.cf parameters (and master.cf and lookup tables) in one validated change
version_added: 0.1.0
description:
  - Sets and removes C(main.cf) parameters in one call; optionally replaces C(master.cf) and writes
    lookup table sources (compiled with C(postmap) or C(postalias) when their content changes).
  - The complete candidate configuration is first assembled in a temporary directory and validated
    there (C(postconf -c DIR -n) and C(-M), warnings such as C(unused parameter) treated as errors,
    every referenced map and certificate file present, the security policy met). Only a candidate that
    passed is written, atomically; the previous files are kept in O(backup_dir) so that
    M(mailops.mailhost.postfix_reload) can put them back if the change fails once live.
  - This module never reloads Postfix; it reports whether a reload or a restart is needed.
author:
  - mailops.mailhost contributors (@mailops)
options:
  params:
    description:
      - C(main.cf) parameters to set. Lists are joined with commas, booleans become C(yes)/C(no).
      - A parameter already set to an equivalent value (whitespace and commas aside) is left as written.
    type: dict
    default: {}
  absent:
    description: C(main.cf) parameters to remove (they return to the Postfix default).
    type: list
    elements: str
    default: []
  exclusive:
    description: Remove every C(main.cf) parameter not named in O(params), so the file holds exactly O(params).
    type: bool
    default: false
  keep:
    description:
      - With O(exclusive), parameters that are kept as they are written even though O(params) does not name
        them (for example the installation paths a distribution writes into main.cf).
    type: list
    elements: str
    default: []
  master_cf:
    description: Complete content for C(master.cf). When omitted, C(master.cf) is left as it is.
    type: str
  maps:
    description: Lookup table sources to write and compile as part of the same change.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the source file (for example C(/etc/postfix/virtual)).
        type: path
        required: true
      content:
        description: Complete content of the source file. Give this or O(maps[].entries).
        type: str
      entries:
        description:
          - "The table as key to value (a list value is joined with C(, )); the module writes one line per key, sorted,
            as C(key value) (C(key: value) for an aliases file), under a header naming O(maps[].source)."
          - Give this or O(maps[].content).
        type: dict
      source:
        description: The variable the entries come from, named in the file's header.
        type: str
        default: ""
      type:
        description: Table type. Indexed types are compiled; C(regexp), C(pcre), C(cidr) and C(texthash) are not.
        type: str
        default: hash
        choices: [hash, btree, lmdb, cdb, dbm, sdbm, regexp, pcre, cidr, texthash]
      alias:
        description: Compile with C(postalias) (an aliases file) instead of C(postmap).
        type: bool
        default: false
      mode:
        description: File mode of the source (and compiled) file.
        type: str
        default: "0644"
  selfsigned:
    description:
      - A self-signed certificate that keeps TLS on until a real one is given, generated on the host (RSA 2048,
        valid 10 years, for O(selfsigned.name)) when O(selfsigned.cert) does not exist, before the candidate is
        validated (which requires every certificate file main.cf names to exist). An existing certificate is
        never replaced.
      - The key is written first (mode 0600) and the certificate last, each renamed into place; a run killed halfway
        leaves no certificate, and the next run generates the pair again.
    type: dict
    suboptions:
      key:
        description: Path of the private key (inside O(config_dir)).
        type: path
        required: true
      cert:
        description: Path of the certificate (inside O(config_dir)).
        type: path
        required: true
      name:
        description: The host name (subject CN and subjectAltName).
        type: str
        required: true
  config_dir:
    description: Postfix configuration directory.
    type: path
    default: /etc/postfix
  validate:
    description: Validate the candidate in a temporary directory before writing. Turn off only for debugging.
    type: bool
    default: true
  fail_on_warnings:
    description: Treat warnings of the validation (such as C(unused parameter)) as errors.
    type: bool
    default: true
  policy:
    description: Refuse a candidate that breaks the security policy (open relay, TLS off or below TLS 1.2).
    type: bool
    default: true
  policy_options:
    description: Options of the policy (C(mynetworks_prefix_limit_ipv4), C(mynetworks_prefix_limit_ipv6), C(mynetworks_allow_wide)).
    type: dict
    default: {}
  policy_names:
    description: Parameter (or C(service/type/parameter)) to the variable name used in error messages.
    type: dict
    default: {}
  backup_dir:
    description:
      - Directory where the previous files of a change are kept for rollback (a generation per change), and where the
        pending mark of a change not yet brought live is kept (see RV(pending)).
    type: path
    default: /var/lib/mailops-mailhost/postfix-rollback
notes:
  - "Crash safety: before the first new file is written, a pending mark naming the generation of the previous files
    is written; M(mailops.mailhost.postfix_reload) clears it once the change is live and probed. A run that finds the
    mark (an earlier run was killed between writing and bringing live) reports a change even when the files on disk
    are already what it wants, so that they are brought live; when they are not, it first puts the previous files
    back (RV(restored)), then applies its own change over them, and a restart is required."
  - Every argument is checked before anything is read or written - single-line values without NUL, parameter names,
    table paths inside O(config_dir) (aliases inside C(/etc)), table keys without whitespace, modes that do not make a
    table writable by group or others.
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
    details: The candidate is validated in check mode too; nothing is written.
  diff_mode:
    support: full
    details: One diff for the changed main.cf parameters, one for master.cf, one per changed map.
seealso:
  - module: mailops.mailhost.postfix_check
  - module: mailops.mailhost.postfix_reload
"""

EXAMPLES = r"""
- name: Apply the main.cf parameters in one validated change
  mailops.mailhost.postconf:
    params:
      myhostname: mail.example.com
      mynetworks: [127.0.0.0/8, "[::1]/128"]
      smtpd_relay_restrictions: [permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination]
      disable_vrfy_command: true
    absent:
      - relayhost
  register: __postfix_conf

- name: Bring the change live, rolling back on failure
  mailops.mailhost.postfix_reload:
    restart: "{{ __postfix_conf.restart_required }}"
    rollback_dir: "{{ __postfix_conf.backup }}"
  when: __postfix_conf is changed
"""

RETURN = r"""
changed_params:
  description: main.cf parameters added, changed or removed.
  returned: always
  type: list
  elements: str
  sample: [myhostname, smtpd_relay_restrictions]
changed_maps:
  description: Lookup table sources written (or compiled because the index was missing).
  returned: always
  type: list
  elements: str
master_cf_changed:
  description: Whether master.cf changed.
  returned: always
  type: bool
restart_required:
  description: The change needs a restart (inet_interfaces, inet_protocols or the listeners changed); a reload does not apply it.
  returned: always
  type: bool
reload_required:
  description: The change needs at least a reload.
  returned: always
  type: bool
backup:
  description:
    - Directory holding the previous files and a manifest, for M(mailops.mailhost.postfix_reload)
      O(mailops.mailhost.postfix_reload#module:rollback_dir).
  returned: when changed and not in check mode
  type: str
findings:
  description: Findings of the validation (severity, message, program).
  returned: always
  type: list
  elements: dict
mailhost_changes:
  description:
    - The change item by item, in the change report's shape (C(component), C(kind), C(item), C(before), C(after), C(note)) -
      main.cf parameters, master.cf services by field and C(-o) option, lookup-table entries, and the action Postfix
      needs (reload, or restart and why).
  returned: always
  type: list
  elements: dict
  sample: [{component: postfix, kind: parameter, item: message_size_limit, before: "26214400", after: "52428800", note: ""}]
pending:
  description: The files on disk were written by an earlier run that never brought them live; this run brings them live.
  returned: always
  type: bool
restored:
  description: The files an interrupted run left on disk were replaced by the last live configuration before this change.
  returned: always
  type: bool
last_live:
  description: The rollback generation of the last live configuration while the files on disk are not known to be live.
  returned: always
  type: str
selfsigned:
  description: The self-signed certificate of O(selfsigned) was generated (in check mode - would be).
  returned: always
  type: bool
"""

import contextlib
import errno
import glob
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback, _selfsigned
from ansible_collections.mailops.mailhost.plugins.module_utils._changes import (
    action_entry,
    entry,
    parameter_entries,
    service_entries,
    table_entries,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._files import file_diff, read_text, write_atomic
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run, words
from ansible_collections.mailops.mailhost.plugins.module_utils._names import hostname_problem, single_line_problem
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import (
    INDEX_SUFFIX,
    changed_params,
    edit_main_cf,
    format_value,
    params_diff_text,
    parse_main_cf,
    render_table,
    restart_reason,
    restart_required,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_validate import validate_dir

TABLE_TYPES = ["hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "regexp", "pcre", "cidr", "texthash"]


@dataclass
class Change:
    """The candidate configuration next to the one on disk."""

    config_dir: str
    old_main: str
    new_main: str
    old_master: str
    new_master: str
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    names: list = field(default_factory=list)
    maps: list = field(default_factory=list)  # table specs whose file or index differs
    pending: bool = False  # an interrupted run left these files on disk without bringing them live
    restored: bool = False  # ... and they were not what this run wants: the last live ones were put back
    last_live: str = ""  # the generation of the last live configuration, while the files are not known to be live

    @property
    def main_path(self) -> str:
        return os.path.join(self.config_dir, "main.cf")

    @property
    def master_path(self) -> str:
        return os.path.join(self.config_dir, "master.cf")

    @property
    def main_changed(self) -> bool:
        return self.new_main != self.old_main

    @property
    def master_changed(self) -> bool:
        return self.new_master != self.old_master

    @property
    def files_changed(self) -> bool:
        return self.main_changed or self.master_changed or bool(self.maps)

    def __bool__(self) -> bool:
        return self.files_changed or self.pending or self.restored

    def changes(self) -> list[dict]:
        """The change item by item, in the report's shape (module_utils/_changes)."""
        found = parameter_entries(self.before, self.after, self.names) + service_entries(
            self.old_master, self.new_master
        )
        for spec in self.maps:
            found += table_entries("postfix", spec["path"], read_text(spec["path"]), spec["content"], spec["alias"])
        if self:
            reason = restart_reason(self.names, self.old_master, self.new_master)
            if self.pending or self.restored:
                found.append(action_entry("postfix", "restart", "an interrupted run left files that were not live"))
            elif reason:
                found.append(action_entry("postfix", "restart", reason))
            else:
                found.append(action_entry("postfix", "reload", "parameters, services or tables changed"))
        return found

    def result(self) -> dict:
        unknown_live = self.pending or self.restored
        return {
            "mailhost_changes": self.changes(),
            "changed": bool(self),
            "changed_params": self.names,
            "changed_maps": [m["path"] for m in self.maps],
            "master_cf_changed": self.master_changed,
            # After an interruption the live state is unknown: only a restart makes it the files' state.
            "restart_required": unknown_live
            or (restart_required(self.names, self.old_master, self.new_master) if self else False),
            "reload_required": bool(self),
            "pending": self.pending,
            "restored": self.restored,
            "last_live": self.last_live,
            "findings": [],
        }

    def diffs(self) -> list[dict]:
        diffs = []
        if self.names:
            diffs.append(
                file_diff(
                    self.main_path,
                    params_diff_text(self.before, self.names),
                    params_diff_text(self.after, self.names),
                    "changed parameters",
                )
            )
        if self.master_changed:
            diffs.append(file_diff(self.master_path, self.old_master, self.new_master))
        diffs += [file_diff(spec["path"], read_text(spec["path"]), spec["content"]) for spec in self.maps]
        return diffs


def index_path(spec: dict) -> str | None:
    suffix = INDEX_SUFFIX.get(spec["type"])
    return spec["path"] + suffix if suffix else None


class Tables:
    """postmap/postalias: compile a lookup table, failing with Postfix's own words."""

    def __init__(self, module: AnsibleModule, result: dict):
        self.module = module
        self.result = result

    def argv(self, spec: dict, path: str, config_dir: str) -> list[str] | None:
        if spec["type"] not in INDEX_SUFFIX:
            return None
        tool = self.module.get_bin_path("postalias" if spec["alias"] else "postmap", required=True)
        return [tool, "-c", config_dir, f"{spec['type']}:{path}"]

    def compile(self, spec: dict, path: str, config_dir: str, failure: str) -> None:
        """Compile a table (no-op for unindexed types); fail with ``failure`` on any warning."""
        argv = self.argv(spec, path, config_dir)
        if argv is None:
            return
        rc, out, err = run(self.module, argv)
        if rc != 0 or "warning:" in err:
            self.module.fail_json(
                msg=f"{failure}: {words(out, err)}", rc=rc, stdout=out, stderr=err, cmd=argv, **self.result
            )


# --- arguments -----------------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MODE = re.compile(r"^0?[0-7]{3}$")


def argument_problems(p: dict) -> list[str]:
    """Every way the arguments are malformed, checked before anything on the host is read or written."""
    problems = []
    for label, path in (("config_dir", p["config_dir"]), ("backup_dir", p["backup_dir"])):
        if not os.path.isabs(path) or os.path.normpath(path) != path.rstrip("/") or "\x00" in path:
            problems.append(f"{label}: {path!r} must be an absolute path without '..'")
    for name, value in p["params"].items():
        if not _NAME.match(str(name)):
            problems.append(f"params: {str(name)!r} is not a Postfix parameter name (letters, digits, underscores)")
            continue
        problem = single_line_problem(format_value(value))
        if problem:
            problems.append(f"params.{name}: the value {problem}")
    for label in ("absent", "keep"):
        problems += [f"{label}: {n!r} is not a Postfix parameter name" for n in p[label] if not _NAME.match(n)]
    overlap = sorted(set(map(str, p["params"])) & set(p["absent"]))
    if overlap:
        problems.append(f"params and absent both name {', '.join(overlap)}")
    if p["master_cf"] is not None and "\x00" in p["master_cf"]:
        problems.append("master_cf: must not contain a NUL byte")
    for index, spec in enumerate(p["maps"]):
        problems += map_problems(f"maps[{index}]", spec, p["config_dir"])
    if p["selfsigned"]:
        pair = p["selfsigned"]
        inside = p["config_dir"].rstrip("/") + "/"
        for label in ("key", "cert"):
            path = pair[label]
            if not os.path.isabs(path) or os.path.normpath(path) != path or not path.startswith(inside):
                problems.append(f"selfsigned.{label}: {path!r} must be an absolute path inside {p['config_dir']}")
        if pair["key"] == pair["cert"]:
            problems.append("selfsigned: key and cert must be two files")
        problem = hostname_problem(pair["name"], require_dot=False)
        if problem:
            problems.append(f"selfsigned.name: {pair['name']!r} is not a host name ({problem})")
    return problems


def map_problems(label: str, spec: dict, config_dir: str) -> list[str]:
    problems = []
    path = spec["path"]
    inside = config_dir.rstrip("/") + "/" if spec["alias"] is False else "/etc/"
    if not os.path.isabs(path) or os.path.normpath(path) != path or not path.startswith(inside):
        where = f"inside {config_dir}" if spec["alias"] is False else "inside /etc"
        problems.append(f"{label}.path: {path!r} must be an absolute path {where}, without '..' or '//'")
    if not _MODE.match(spec["mode"]):
        problems.append(f"{label}.mode: {spec['mode']!r} must be an octal mode such as 0644")
    elif int(spec["mode"], 8) & 0o022:
        problems.append(f"{label}.mode: {spec['mode']} would let group or others write the table; use 0644 or 0640")
    if spec["content"] is not None and "\x00" in spec["content"]:
        problems.append(f"{label}.content: must not contain a NUL byte")
    for key, value in (spec["entries"] or {}).items():
        text = str(key)
        if not text or any(c.isspace() for c in text) or "\x00" in text:
            problems.append(f"{label}.entries: the key {text!r} must be non-empty, without whitespace or NUL")
            continue
        problem = single_line_problem(format_value(value))
        if problem:
            problems.append(f"{label}.entries.{text}: the value {problem}")
        elif not format_value(value).strip():
            problems.append(f"{label}.entries.{text}: the value must not be empty")
    return problems


def remove_stale_temporaries(module: AnsibleModule) -> None:
    """Temporary files a killed run left behind (the run holds the host's lock, so none is in use)."""
    dirs = {module.params["config_dir"]} | {os.path.dirname(spec["path"]) for spec in module.params["maps"]}
    for directory in sorted(dirs):
        for path in glob.glob(os.path.join(directory, ".mailhost-*")):
            with contextlib.suppress(OSError):
                os.unlink(path)


# --- the steps -------------------------------------------------------------------------------------


def plan(module: AnsibleModule) -> Change:
    """Read the files on disk and build the candidate main.cf, master.cf and tables."""
    p = module.params
    config_dir = p["config_dir"]
    old_main = read_text(os.path.join(config_dir, "main.cf"))
    old_master = read_text(os.path.join(config_dir, "master.cf"))
    if old_main is None or old_master is None:
        module.fail_json(msg=f"{config_dir} has no main.cf or master.cf: is Postfix installed?")
    wanted = {str(k): format_value(v) for k, v in p["params"].items()}
    new_main = edit_main_cf(old_main, wanted, p["absent"], p["exclusive"], keep=p["keep"])
    new_master = p["master_cf"] if p["master_cf"] is not None else old_master
    if not new_master.endswith("\n"):
        new_master += "\n"
    change = Change(config_dir, old_main, new_main, old_master, new_master)
    change.before, change.after = parse_main_cf(old_main), parse_main_cf(new_main)
    change.names = changed_params(change.before, change.after)
    for spec in p["maps"]:
        if spec["entries"] is not None:
            spec["content"] = render_table(spec["entries"], spec["alias"], spec["source"])
        if spec["content"] and not spec["content"].endswith("\n"):
            spec["content"] += "\n"
        index = index_path(spec)
        if read_text(spec["path"]) != spec["content"] or (index and not os.path.exists(index)):
            change.maps.append(spec)
    return change


def recover_interrupted(module: AnsibleModule, change: Change, tables: Tables) -> Change:
    """An earlier run wrote files and never brought them live (its pending mark is there).

    When the files on disk are what this run wants, they only need bringing live. Otherwise they
    are an unknown state (perhaps a broken change), and the last live configuration is put back
    first, before anything else; this run's change then applies over it.
    """
    last_live = _rollback.pending(module.params["backup_dir"])
    if not last_live:
        return change
    change.last_live = last_live
    if not change.files_changed:
        change.pending = True
        return change
    if module.check_mode:
        change.pending = True
        return change
    _rollback.restore(last_live, lambda argv: run(module, argv))
    again = plan(module)
    again.last_live, again.restored = last_live, True
    return again


def validate(module: AnsibleModule, change: Change, tables: Tables, result: dict, coming: set[str]) -> None:
    """Stage the whole candidate in a temporary directory and let Postfix judge it; fail on a refusal.

    ``coming``: files the candidate may name although they do not exist yet (check mode: the
    self-signed pair this run would generate)."""
    p = module.params
    with tempfile.TemporaryDirectory(prefix="mailhost-postconf-") as candidate:
        for name, text in (("main.cf", change.new_main), ("master.cf", change.new_master)):
            with open(os.path.join(candidate, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        stage_dynamicmaps(change.config_dir, candidate)
        staged = {}
        for index, spec in enumerate(change.maps):
            staged[spec["path"]] = os.path.join(candidate, f"map-{index}-{os.path.basename(spec['path'])}")
            with open(staged[spec["path"]], "w", encoding="utf-8") as handle:
                handle.write(spec["content"])
        cool_down(candidate)
        for spec in change.maps:
            tables.compile(spec, staged[spec["path"]], candidate, f"{spec['path']}: the new content does not compile")
        validation = validate_dir(
            module,
            candidate,
            pending={spec["path"] for spec in change.maps} | coming,
            policy=p["policy"],
            policy_options=p["policy_options"],
            policy_names=p["policy_names"],
            master_text=change.new_master,
        )
    result["findings"] = [f.as_dict() for f in validation.findings]
    blocking = validation.blocking(p["fail_on_warnings"])
    if blocking:
        problems = "; ".join(f.message for f in blocking)
        done = (
            "the files an interrupted run had left were replaced by the last live configuration"
            if change.restored
            else "nothing was changed"
        )
        if result.get("selfsigned") and not module.check_mode:
            done += " (the missing self-signed certificate was generated)"
        module.fail_json(msg=f"the new Postfix configuration was refused, {done}: {problems}", **result)


# Every Postfix command that reads a main.cf modified less than about two seconds ago pauses until
# it is older ("pausing to let it cool down", against reading a file an editor is still writing;
# measured, Postfix 3.7: `postfix check` 1.97 s on a main.cf touched just now, 0.15 s on one dated
# 3 s back, and a file dated 1 s back still paused 0.9 s). The live main.cf is renamed into place
# complete, so it appears dated this far back: the check, reload and probes that bring it live
# right after no longer wait. Its change time (ctime) stays the true one.
MAIN_CF_DATED_BACK = 3


def cool_down(candidate: str) -> None:
    """Date the candidate's files ten seconds back. Postfix re-reads a configuration file modified
    in the last second or so until it is older ("pausing to let it cool down", against reading a
    file half written): every postconf and postmap on a candidate written just now waited about
    two seconds (measured, Postfix 3.7). These files are complete and never live (the live main.cf
    is dated back too, by MAIN_CF_DATED_BACK)."""
    past = time.time() - 10
    for name in os.listdir(candidate):
        os.utime(os.path.join(candidate, name), (past, past))


def stage_dynamicmaps(config_dir: str, candidate: str) -> None:
    """Postfix's registry of table types from plugin packages, as the live configuration has it:
    without it the candidate would not know a type such a package adds (lmdb or pcre on EL)."""
    for name in ("dynamicmaps.cf", "dynamicmaps.cf.d"):
        source = os.path.join(config_dir, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(candidate, name), symlinks=True)
        elif os.path.isfile(source):
            shutil.copy2(source, os.path.join(candidate, name))


def keep_previous(module: AnsibleModule, change: Change, tables: Tables) -> str:
    """Save the files about to be replaced as a rollback generation, and mark the change pending."""
    backup_dir = module.params["backup_dir"]
    generation = _rollback.new_generation(backup_dir)
    files = [change.main_path, change.master_path] + [spec["path"] for spec in change.maps]
    compile_argv = {spec["path"]: tables.argv(spec, spec["path"], change.config_dir) for spec in change.maps}
    _rollback.save(generation, files, {k: v for k, v in compile_argv.items() if v})
    _rollback.mark_pending(backup_dir, generation, "postfix")
    return generation


def apply(change: Change, tables: Tables) -> None:
    """Tables first (compiled in place), then master.cf, then main.cf, each written atomically."""
    for spec in change.maps:
        if read_text(spec["path"]) != spec["content"]:
            write_atomic(spec["path"], spec["content"], int(spec["mode"], 8))
        tables.compile(spec, spec["path"], change.config_dir, f"compiling {spec['path']} failed")
    if change.master_changed:
        write_atomic(change.master_path, change.new_master, os.stat(change.master_path).st_mode & 0o7777)
    if change.main_changed:
        mode = os.stat(change.main_path).st_mode & 0o7777
        write_atomic(change.main_path, change.new_main, mode, dated_back=MAIN_CF_DATED_BACK)


def write_change(module: AnsibleModule, change: Change, tables: Tables, result: dict) -> None:
    """Keep the previous files, then write the new ones; on a full disk put the previous ones back."""
    if not change.files_changed:
        result["backup"] = change.last_live  # only to be brought live (or rolled back to)
        return
    try:
        result["backup"] = keep_previous(module, change, tables)
    except OSError as exc:
        module.fail_json(
            msg=f"cannot keep the previous files in {module.params['backup_dir']} ({exc}); nothing was changed",
            **result,
        )
    try:
        apply(change, tables)
    except OSError as exc:
        _rollback.restore(result["backup"], lambda argv: run(module, argv))
        _rollback.clear_pending(module.params["backup_dir"])
        full = " (the disk is full)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        module.fail_json(
            msg=f"writing the new configuration failed{full}: {exc}; the previous files were put back", **result
        )


def selfsigned(module: AnsibleModule, result: dict) -> set[str]:
    """Generate the self-signed pair where its certificate is missing (before the validation, which
    needs it); in check mode only say so. Returns the files that are still to come (check mode)."""
    pair = module.params["selfsigned"]
    result["selfsigned"] = bool(pair) and not os.path.exists(pair["cert"])
    if not result["selfsigned"]:
        return set()
    result["changed"] = True
    result["mailhost_changes"].append(
        entry("postfix", "file", pair["cert"], None, f"self-signed for {pair['name']}", "keeps TLS on until a real one")
    )
    if module.check_mode:
        return {pair["key"], pair["cert"]}
    try:
        _selfsigned.generate(lambda argv: run(module, argv), pair["key"], pair["cert"], pair["name"])
    except OSError as exc:
        module.fail_json(msg=f"selfsigned: {exc}; nothing else was changed", **result)
    return set()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "params": {"type": "dict", "default": {}},
            "absent": {"type": "list", "elements": "str", "default": []},
            "exclusive": {"type": "bool", "default": False},
            "keep": {"type": "list", "elements": "str", "default": []},
            "master_cf": {"type": "str"},
            "maps": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str"},
                    "entries": {"type": "dict"},
                    "source": {"type": "str", "default": ""},
                    "type": {"type": "str", "default": "hash", "choices": TABLE_TYPES},
                    "alias": {"type": "bool", "default": False},
                    "mode": {"type": "str", "default": "0644"},
                },
                "mutually_exclusive": [["content", "entries"]],
                "required_one_of": [["content", "entries"]],
            },
            "selfsigned": {
                "type": "dict",
                "options": {
                    "key": {"type": "path", "required": True, "no_log": False},
                    "cert": {"type": "path", "required": True},
                    "name": {"type": "str", "required": True},
                },
            },
            "config_dir": {"type": "path", "default": "/etc/postfix"},
            "validate": {"type": "bool", "default": True},
            "fail_on_warnings": {"type": "bool", "default": True},
            "policy": {"type": "bool", "default": True},
            "policy_options": {"type": "dict", "default": {}},
            "policy_names": {"type": "dict", "default": {}},
            "backup_dir": {"type": "path", "default": "/var/lib/mailops-mailhost/postfix-rollback"},
        },
        supports_check_mode=True,
    )
    problems = argument_problems(module.params)
    if problems:
        module.fail_json(msg="invalid arguments, nothing was read or changed: " + "; ".join(problems))
    if not module.check_mode:
        remove_stale_temporaries(module)
    tables = Tables(module, {})
    change = recover_interrupted(module, plan(module), tables)
    result = change.result()
    tables.result = result
    coming = selfsigned(module, result)
    if module.params["validate"] and change.files_changed:
        validate(module, change, tables, result, coming)
    if module._diff:
        result["diff"] = change.diffs()
    if not change or module.check_mode:
        module.exit_json(**result)
    write_change(module, change, tables, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
