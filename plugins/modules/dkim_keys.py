#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_keys
short_description: DKIM keys, the opendkim tables and opendkim.conf for several domains and selectors, in one call
version_added: 0.1.0
description:
  - Makes sure every listed DKIM key exists, generated on the host (RSA, 2048 to 8192 bits) or written from a supplied
    private key (O(private_keys), for example from Ansible Vault, so that a rebuilt host keeps its selector).
  - Key files are mode 0600, owned by the opendkim user; private key material never appears in the result, the diff,
    or the host's journal (O(private_keys) is a C(no_log) option, so Ansible's own log of the call leaves it out).
  - Writes the opendkim C(KeyTable) (every key), C(SigningTable) (the selector that signs for each domain) and the
    trusted hosts file, and returns the TXT record to publish for every key.
  - A key below 2048 bits or above 8192, asked for or found on disk, and any key that is not RSA, is refused.
  - Optionally writes C(opendkim.conf) too, validated by C(opendkim -n) first. Everything is checked before the first
    file is written (a refused configuration leaves no new key or table behind), and a key is generated into memory
    under a time limit before it is written.
  - With O(service), brings the change live itself and checks that opendkim runs and answers on its milter socket; if
    not, the previous files are put back and opendkim is restarted on them, and the task fails. opendkim is restarted
    only when a setting it does not re-read on a reload changed (RV(restart_settings)) or after a killed run, and
    reloaded otherwise (keys, tables, C(Mode), C(Canonicalization)...), so that its milter socket stays open; a
    restart costs up to 5 s while opendkim stops.
  - "Crash safety: the previous files are kept as a rollback generation (RV(backup)) and a pending mark is written
    before the first new file; it is cleared once the change is live. A later call that finds the mark brings the
    files on disk live when they are what it wants, and otherwise first puts the previous files back."
author:
  - mailops.mailhost contributors (@mailops)
options:
  keys:
    description: The keys, one per domain and selector.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description: Signing domain (a domain name).
        type: str
        required: true
      selector:
        description: DKIM selector (RFC 6376 - dot-separated labels of letters, digits, hyphens and underscores).
        type: str
        required: true
      bits:
        description: RSA key size for a generated key, from 2048 to 8192.
        type: int
        default: 2048
  private_keys:
    description:
      - PEM private keys to install instead of generating them, by C(DOMAIN/SELECTOR) (each must be listed in O(keys)).
      - Never logged, shown or returned.
    type: dict
    default: {}
  signing:
    description: Domain to the selector that signs its mail. Default is the first key listed for the domain.
    type: dict
    default: {}
  trusted_hosts:
    description: Addresses and networks whose mail is signed, not verified (InternalHosts, ExternalIgnoreList).
    type: list
    elements: str
    default: [127.0.0.1, "::1"]
  key_dir:
    description: Directory for the keys (a subdirectory per domain).
    type: path
    default: /etc/opendkim/keys
  tables_dir:
    description: Directory for KeyTable, SigningTable and TrustedHosts.
    type: path
    default: /etc/opendkim
  owner:
    description: User (and group) that owns the keys and tables.
    type: str
    default: opendkim
  config:
    description:
      - Complete content for C(opendkim.conf). It is validated with C(opendkim -n) in a temporary file and written only
        if valid. Left alone when omitted.
    type: str
  config_path:
    description: Where opendkim.conf lives.
    type: path
    default: /etc/opendkim.conf
  service:
    description: The systemd unit of opendkim, to bring the change live and check it; omitted, nothing is restarted.
    type: str
  milter_port:
    description: With O(service), the TCP port on localhost where opendkim must answer after the change.
    type: int
  enabled:
    description:
      - With O(service), also enable it at boot once the change is live, if it is not (one call where a first run would
        otherwise need another task to enable it).
    type: bool
    default: false
  backup_dir:
    description: Where the previous files of each change are kept (and the pending mark).
    type: path
    default: /var/lib/mailops-mailhost/opendkim-rollback
  keep_generations:
    description: Rollback generations kept (the newest); older ones are removed after a change went live.
    type: int
    default: 10
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is generated or written; records are returned for the keys that already exist.
  diff_mode:
    support: partial
    details: Diffs of the tables and of opendkim.conf; never of key material.
"""

EXAMPLES = r"""
- name: Keys for two domains; example.com is rotating from mail2025 to mail2026
  mailops.mailhost.dkim_keys:
    keys:
      - {domain: example.com, selector: mail2025}
      - {domain: example.com, selector: mail2026}
      - {domain: example.org, selector: mail2026}
    private_keys:
      example.org/mail2026: "{{ vault_dkim_example_org }}"
    signing:
      example.com: mail2025
    service: opendkim
    milter_port: 8891
  register: __opendkim_keys
"""

RETURN = r"""
records:
  description: For each key, the TXT record to publish (owner name, value, strings of at most 255 characters, zone line).
  returned: always
  type: list
  elements: dict
  sample:
    - domain: example.com
      selector: mail2026
      name: mail2026._domainkey.example.com
      value: "v=DKIM1; k=rsa; p=MIIBIjAN..."
      strings: ["v=DKIM1; k=rsa; p=MIIBIjAN...", "...IDAQAB"]
      zone_line: 'mail2026._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; p=MII..." "...IDAQAB" )'
      bits: 2048
      signing: true
signing:
  description: Domain to the selector that signs.
  returned: always
  type: dict
config_changed:
  description: Whether opendkim.conf changed.
  returned: always
  type: bool
restart_settings:
  description:
    - The changed opendkim.conf settings that opendkim does not re-read on a reload (C(Socket), C(UserID), C(UMask),
      C(PidFile), ... as opendkim(8) lists them, and C(ChangeRootDirectory)); every setting for a new opendkim.conf.
      opendkim is restarted when this is not empty, reloaded otherwise (its milter socket then stays open).
  returned: always
  type: list
  elements: str
changed_keys:
  description: Keys generated or written (domain/selector), never their content.
  returned: always
  type: list
  elements: str
changed_tables:
  description: The tables written (KeyTable, SigningTable, TrustedHosts).
  returned: always
  type: list
  elements: str
backup:
  description: The rollback generation holding the previous files of this change (empty when nothing changed).
  returned: always
  type: str
mailhost_changes:
  description:
    - The change item by item, in the change report's shape (C(component), C(kind), C(item), C(before), C(after), C(note)) -
      keys generated, written or whose mode is corrected (never their content), table entries, opendkim.conf, the
      records to publish for new keys, and the action opendkim needs.
  returned: always
  type: list
  elements: dict
action:
  description: What was done to O(service) (V(restart), V(reload) or V(none)).
  returned: always
  type: str
enabled_now:
  description: Whether O(enabled) enabled O(service) at boot in this call (it was not before).
  returned: always
  type: bool
"""

import grp
import ipaddress
import os
import pwd
import socket
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback
from ansible_collections.mailops.mailhost.plugins.module_utils._changes import action_entry, entry, table_entries
from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import (
    MAX_BITS,
    MIN_BITS,
    key_kind,
    key_path,
    key_table,
    pem_body,
    record,
    restart_settings_changed,
    signing_selectors,
    signing_table,
    trusted_hosts,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._files import file_diff, read_text, write_atomic
from ansible_collections.mailops.mailhost.plugins.module_utils._host import pauses, run, words
from ansible_collections.mailops.mailhost.plugins.module_utils._names import (
    hostname_problem,
    selector_problem,
    single_line_problem,
)

KEYGEN_SECONDS = 120


class Opendkim:
    """openssl, opendkim and systemd on the host, and files owned by the opendkim user."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        self.openssl = module.get_bin_path("openssl", required=True)
        self.timeout = module.get_bin_path("timeout")
        owner = module.params["owner"]
        try:
            self.uid = pwd.getpwnam(owner).pw_uid
            self.gid = grp.getgrnam(owner).gr_gid
        except KeyError:
            module.fail_json(msg=f"owner: user or group '{owner}' does not exist (is opendkim installed?)")

    def run(self, argv, data=None):
        rc, out, err = run(self.module, argv, data=data)
        if rc != 0:
            # stderr of openssl never echoes key material
            self.module.fail_json(msg=f"{os.path.basename(argv[0])} failed: {err.strip()}", rc=rc, cmd=argv[:3])
        return out

    def describe(self, pem: str) -> tuple[str, int]:
        """(kind, bits) of a PEM private key; fails plainly when openssl cannot read it."""
        rc, out, err = run(self.module, [self.openssl, "pkey", "-noout", "-text", "-passin", "pass:"], data=pem)
        if rc != 0:
            return "unreadable", 0
        return key_kind(out)

    def public(self, pem: str) -> str:
        return pem_body(self.run([self.openssl, "pkey", "-pubout", "-passin", "pass:"], data=pem))

    def generate(self, bits: int) -> str:
        argv = [self.openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"]
        if self.timeout:
            argv = [self.timeout, str(KEYGEN_SECONDS), *argv]
        rc, out, err = run(self.module, argv)
        if rc != 0:
            why = f"it took longer than {KEYGEN_SECONDS} s" if rc == 124 else err.strip()
            self.module.fail_json(msg=f"generating a {bits}-bit RSA key failed ({why}); nothing was written")
        return out

    def write(self, path: str, content: str, mode: int, uid: int | None = None) -> None:
        """Write with mode and owner set before the file appears: a key is never readable by others."""
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o750)
            os.chown(directory, self.uid, self.gid)
        write_atomic(path, content, mode, self.uid if uid is None else uid, self.gid)

    def config_problem(self, content: str, tables: dict[str, str]) -> str | None:
        """What ``opendkim -n`` says of a candidate configuration, or None when it accepts it.

        opendkim opens the tables the configuration names, so the candidate is checked against
        the candidate tables, staged in a temporary directory that stands in for tables_dir.
        """
        opendkim = self.module.get_bin_path("opendkim", required=True)
        tables_dir = self.module.params["tables_dir"].rstrip("/") + "/"
        with tempfile.TemporaryDirectory(prefix="mailhost-opendkim-") as staged:
            for name, text in tables.items():
                with open(os.path.join(staged, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
            candidate = os.path.join(staged, "opendkim.conf")
            with open(candidate, "w", encoding="utf-8") as handle:
                handle.write(content.replace(tables_dir, staged + "/"))
            rc, out, err = run(self.module, [opendkim, "-n", "-x", candidate])
        return (words(out, err).replace(staged + "/", tables_dir) or f"opendkim -n exited {rc}") if rc != 0 else None

    def bring_live(self, action: str) -> str | None:
        """Restart or reload the service and wait until it runs and answers; a problem or None."""
        p = self.module.params
        systemctl = self.module.get_bin_path("systemctl", required=True)
        if action == "reload" and run(self.module, [systemctl, "is-active", p["service"]])[1].strip() != "active":
            action = "restart"  # a stopped service cannot reload
        rc, out, err = run(self.module, [systemctl, action, p["service"]])
        if rc != 0:
            return f"systemctl {action} {p['service']} failed: {err.strip() or out.strip()}"
        deadline, wait = time.monotonic() + 30, pauses()
        while time.monotonic() < deadline:
            active = run(self.module, [systemctl, "is-active", p["service"]])[1].strip() == "active"
            if active and (not p["milter_port"] or answers(p["milter_port"])):
                return None
            time.sleep(next(wait))
        state = run(self.module, [systemctl, "is-active", p["service"]])[1].strip()
        where = f" and answering on localhost:{p['milter_port']}" if p["milter_port"] else ""
        return f"{p['service']} is not running{where} 30 s after the {action} (systemctl says {state})"

    def enable(self) -> tuple[bool, str | None]:
        """Enable the service at boot unless it is; whether it was enabled now, and a problem or None."""
        systemctl = self.module.get_bin_path("systemctl", required=True)
        if run(self.module, [systemctl, "is-enabled", self.module.params["service"]])[1].strip() == "enabled":
            return False, None
        rc, out, err = run(self.module, [systemctl, "enable", self.module.params["service"]])
        if rc != 0:
            return False, f"systemctl enable {self.module.params['service']} failed: {err.strip() or out.strip()}"
        return True, None


def answers(port: int) -> bool:
    for host in ("127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, port), timeout=2):
                return True
        except OSError:
            continue
    return False


# --- arguments -----------------------------------------------------------------------------------


def argument_problems(p: dict) -> list[str]:
    """Every malformed argument, found before anything on the host is read or written."""
    problems = []
    for label in ("key_dir", "tables_dir", "config_path", "backup_dir"):
        path = p[label]
        if not os.path.isabs(path) or os.path.normpath(path) != path.rstrip("/"):
            problems.append(f"{label}: {path!r} must be an absolute path without '..'")
    seen = set()
    for index, key in enumerate(p["keys"]):
        for name, problem in (
            ("domain", hostname_problem(key["domain"])),
            ("selector", selector_problem(key["selector"])),
        ):
            if problem:
                problems.append(f"keys[{index}].{name}: {key[name]!r} {problem}")
        ident = f"{key['domain']}/{key['selector']}"
        if ident in seen:
            problems.append(f"keys: {ident} is listed twice")
        seen.add(ident)
        if not MIN_BITS <= key["bits"] <= MAX_BITS:
            problems.append(
                f"keys[{index}].bits: {key['bits']} is refused; DKIM keys have {MIN_BITS} (RFC 8301) to {MAX_BITS} bits"
            )
    for ident, pem in p["private_keys"].items():
        if ident not in seen:
            problems.append(f"private_keys: {ident!r} names no key of keys (use DOMAIN/SELECTOR)")
        elif not isinstance(pem, str) or "\x00" in pem or "PRIVATE KEY-----" not in pem:
            problems.append(f"private_keys: the value for {ident} is not a PEM private key")
    for domain, selector in p["signing"].items():
        problem = single_line_problem(str(domain)) or single_line_problem(str(selector))
        if problem:
            problems.append(f"signing: {str(domain)!r}: {problem}")
    for index, host in enumerate(p["trusted_hosts"]):
        problem = single_line_problem(host) or trusted_host_problem(host)
        if problem:
            problems.append(f"trusted_hosts[{index}]: {host!r} {problem}")
    if p["config"] is not None and "\x00" in p["config"]:
        problems.append("config: must not contain a NUL byte")
    if p["milter_port"] is not None and not 0 < p["milter_port"] < 65536:
        problems.append(f"milter_port: {p['milter_port']} is not a TCP port")
    if p["keep_generations"] < 1:
        problems.append(f"keep_generations: {p['keep_generations']} must be at least 1")
    return problems


def trusted_host_problem(host: str) -> str | None:
    value = host.strip("[]").replace("]/", "/")
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None if not hostname_problem(value, require_dot=False) else "is not an address, a network or a host name"
    if net.prefixlen == 0:
        return "would have mail from every address on the Internet signed"
    return None


# --- the steps -----------------------------------------------------------------------------------


class Plan:
    """Every file of the change, with its content, computed before anything is written."""

    def __init__(self):
        self.writes: list[tuple[str, str, int, int | None]] = []  # path, content, mode, uid (None: opendkim)
        self.changed_keys: list[str] = []
        self.changed_tables: list[str] = []
        self.config_changed = False
        self.diffs: list[dict] = []
        self.records: list[dict] = []
        self.restart_settings: list[str] = []  # changed settings opendkim re-reads only at a restart
        self.after_interruption = False  # the live state is unknown: restart, whatever changed
        self.changes: list[dict] = []  # the report's entries (module_utils/_changes)

    def __bool__(self) -> bool:
        return bool(self.writes) or bool(self.changed_keys)

    def action(self) -> str:
        """restart when a setting opendkim does not re-read changed (or after a killed run), else reload."""
        return "restart" if self.restart_settings or self.after_interruption else "reload"


def plan_keys(module: AnsibleModule, host: Opendkim, signing: dict[str, str], plan: Plan) -> None:
    """Supplied keys to write, missing ones to generate (in memory), modes to fix; the records."""
    p = module.params
    for key in p["keys"]:
        ident = f"{key['domain']}/{key['selector']}"
        path = key_path(p["key_dir"], key["domain"], key["selector"])
        current = read_text(path)
        supplied = p["private_keys"].get(ident)
        wanted = None
        if supplied:
            wanted = supplied.strip() + "\n"
            check_key(module, host, wanted, f"the private key supplied for {ident}")
        elif current is None and not module.check_mode:
            wanted = host.generate(key["bits"])
        elif current is None:
            plan.changed_keys.append(ident)
            plan.changes.append(
                entry("opendkim", "key", ident, None, f"{key['bits']}-bit RSA", "generated on the host")
            )
            name = f"{key['selector']}._domainkey.{key['domain']}"
            after = "TXT v=DKIM1; k=rsa; p=(the key generated when applied)"
            plan.changes.append(
                entry("opendkim", "record", name, None, after, "publish (its zone snippet is written then)")
            )
            continue  # check mode: the key does not exist yet, nor its record
        if wanted is not None and wanted != current:
            plan.changed_keys.append(ident)
            plan.writes.append((path, wanted, 0o600, None))
            how = "from private_keys" if supplied else "generated on the host"
            plan.changes.append(
                entry("opendkim", "key", ident, "present" if current else None, "replaced" if current else "new", how)
            )
        pem = wanted if wanted is not None else current
        if wanted is None:
            check_key(module, host, pem, path)
        if current is not None and pem == current:  # the file stays: its mode and owner must be right
            st = os.stat(path)
            if (st.st_mode & 0o777) != 0o600 or st.st_uid != host.uid:
                plan.changed_keys.append(f"{ident} (permissions)")
                plan.writes.append((path, pem, 0o600, None))
                owner = user_name(st.st_uid)
                plan.changes.append(
                    entry(
                        "opendkim",
                        "key",
                        f"{ident} mode",
                        f"{st.st_mode & 0o777:04o} {owner}",
                        f"0600 {p['owner']}",
                        "a private key's mode",
                    )
                )
        bits = host.describe(pem)[1]
        plan.records.append(
            record(key["domain"], key["selector"], host.public(pem), bits, signing[key["domain"]] == key["selector"])
        )


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def check_key(module: AnsibleModule, host: Opendkim, pem: str, what: str) -> None:
    kind, bits = host.describe(pem)
    if kind != "rsa":
        module.fail_json(
            msg=f"{what} is {'not readable as a private key' if kind == 'unreadable' else 'a ' + kind + ' key'};"
            " DKIM keys here are RSA (RFC 8301); nothing was written"
        )
    if not MIN_BITS <= bits <= MAX_BITS:
        module.fail_json(msg=f"{what} has {bits} bits; {MIN_BITS} to {MAX_BITS} are required; nothing was written")


def tables_for(module: AnsibleModule, signing: dict[str, str]) -> dict[str, str]:
    p = module.params
    return {
        "KeyTable": key_table(p["keys"], p["key_dir"]),
        "SigningTable": signing_table(signing),
        "TrustedHosts": trusted_hosts(p["trusted_hosts"]),
    }


def plan_tables(module: AnsibleModule, signing: dict[str, str], plan: Plan) -> None:
    p = module.params
    for name, content in tables_for(module, signing).items():
        path = os.path.join(p["tables_dir"], name)
        before = read_text(path)
        if before != content:
            plan.changed_tables.append(name)
            plan.diffs.append(file_diff(path, before, content))
            plan.writes.append((path, content, 0o640, None))
            plan.changes += table_entries("opendkim", path, before, content)


def plan_config(module: AnsibleModule, host: Opendkim, signing: dict[str, str], plan: Plan) -> None:
    """opendkim.conf, validated by ``opendkim -n`` before anything is written."""
    p = module.params
    if p["config"] is None:
        return
    content = p["config"] if p["config"].endswith("\n") else p["config"] + "\n"
    before = read_text(p["config_path"])
    if before == content:
        return
    plan.diffs.append(file_diff(p["config_path"], before, content))
    problem = host.config_problem(content, tables_for(module, signing))
    if problem:
        module.fail_json(msg=f"the new opendkim.conf is invalid, nothing was written: {problem}")
    plan.config_changed = True
    plan.restart_settings = restart_settings_changed(before, content)
    plan.writes.append((p["config_path"], content, 0o640, 0))
    plan.changes.append(
        entry("opendkim", "file", p["config_path"], "present" if before else None, "changed", plan.action())
    )


def apply(module: AnsibleModule, host: Opendkim, plan: Plan, result: dict) -> None:
    """Keep the previous files, mark the change pending, write, bring it live; roll back on failure."""
    p = module.params
    generation = _rollback.new_generation(p["backup_dir"])
    after = [[module.get_bin_path("systemctl", required=True), "restart", p["service"]]] if p["service"] else []
    _rollback.save(generation, [path for path, _c, _m, _u in plan.writes], {}, after)
    _rollback.mark_pending(p["backup_dir"], generation, "opendkim")
    result["backup"] = generation
    try:
        for path, content, mode, uid in plan.writes:
            host.write(path, content, mode, uid)
    except OSError as exc:
        _rollback.restore(generation, lambda argv: None)
        _rollback.clear_pending(p["backup_dir"])
        module.fail_json(msg=f"writing the opendkim files failed ({exc}); the previous files were put back", **result)
    go_live(module, host, generation, plan.action(), result)


def go_live(module: AnsibleModule, host: Opendkim, generation: str, action: str, result: dict) -> None:
    p = module.params
    if p["service"]:
        result["action"] = action
        problem = host.bring_live(action)
        if problem:
            _rollback.restore(generation, lambda argv: None)
            again = host.bring_live("restart")
            if again is None:
                _rollback.clear_pending(p["backup_dir"])
            state = "restored and live again" if again is None else f"restored, but opendkim did not come back: {again}"
            module.fail_json(
                msg=f"the opendkim change did not come live: {problem}. The previous files were {state}.", **result
            )
    _rollback.clear_pending(p["backup_dir"])
    _rollback.prune(p["backup_dir"], p["keep_generations"], protect=(generation,))
    if p["service"] and p["enabled"]:
        result["enabled_now"], problem = host.enable()
        if problem:
            module.fail_json(msg=f"the opendkim change is live, but {problem}", **result)


def recover_interrupted(module: AnsibleModule, host: Opendkim, plan: Plan, result: dict) -> bool:
    """A pending mark from a killed run: bring the files live (they are what this run wants), or put the
    last live ones back first. Whether the caller must plan again."""
    last_live = _rollback.pending(module.params["backup_dir"])
    if not last_live or module.check_mode:
        return False
    if not plan:
        result.update(changed=True, backup=last_live)
        go_live(module, host, last_live, "restart", result)
        return False
    _rollback.restore(last_live, lambda argv: None)
    _rollback.clear_pending(module.params["backup_dir"])
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "keys": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "no_log": False,  # names and sizes only; the private keys come in private_keys
                "options": {
                    "domain": {"type": "str", "required": True},
                    "selector": {"type": "str", "required": True},
                    "bits": {"type": "int", "default": MIN_BITS},
                },
            },
            "private_keys": {"type": "dict", "default": {}, "no_log": True},
            "signing": {"type": "dict", "default": {}},
            "trusted_hosts": {"type": "list", "elements": "str", "default": ["127.0.0.1", "::1"]},
            "key_dir": {"type": "path", "default": "/etc/opendkim/keys"},
            "tables_dir": {"type": "path", "default": "/etc/opendkim"},
            "owner": {"type": "str", "default": "opendkim"},
            "config": {"type": "str"},
            "config_path": {"type": "path", "default": "/etc/opendkim.conf"},
            "service": {"type": "str"},
            "milter_port": {"type": "int"},
            "enabled": {"type": "bool", "default": False},
            "backup_dir": {"type": "path", "default": "/var/lib/mailops-mailhost/opendkim-rollback"},
            "keep_generations": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    problems = argument_problems(module.params)
    signing, signing_problems = signing_selectors(module.params["keys"], module.params["signing"])
    if problems or signing_problems:
        module.fail_json(msg="invalid arguments, nothing was written: " + "; ".join(problems + signing_problems))
    host = Opendkim(module)
    result = {"changed": False, "backup": "", "action": "none", "enabled_now": False, "signing": signing}
    interrupted = False
    for _attempt in range(2):
        plan = Plan()
        plan.after_interruption = interrupted
        plan_config(module, host, signing, plan)
        plan_keys(module, host, signing, plan)
        plan_tables(module, signing, plan)
        if interrupted or not recover_interrupted(module, host, plan, result):
            break
        interrupted = True
    changed_keys = {c["item"] for c in plan.changes if c["kind"] == "key"}
    plan.changes += [
        entry("opendkim", "record", r["name"], None, r["zone_line"], "publish" + (", signing" if r["signing"] else ""))
        for r in plan.records
        if f"{r['domain']}/{r['selector']}" in changed_keys
    ]
    if plan:
        plan.changes.append(action_entry("opendkim", plan.action(), ""))
    result.update(
        changed=result["changed"] or bool(plan),
        mailhost_changes=plan.changes,
        config_changed=plan.config_changed,
        restart_settings=plan.restart_settings,
        changed_keys=plan.changed_keys,
        changed_tables=plan.changed_tables,
        records=plan.records,
    )
    if module._diff:
        result["diff"] = plan.diffs
    if plan and not module.check_mode:
        apply(module, host, plan, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
