#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_keys
short_description: DKIM keys and the opendkim tables for several domains and selectors, in one call
version_added: 0.1.0
description:
  - Makes sure every listed DKIM key exists, generated on the host (RSA, at least 2048 bits) or written from a
    supplied private key (for example from Ansible Vault, so that a rebuilt host keeps its selector).
  - Key files are mode 0600, owned by the opendkim user; private key material never appears in the result.
  - Writes the opendkim C(KeyTable) (every key), C(SigningTable) (the selector that signs for each domain) and the
    trusted hosts file, and returns the TXT record to publish for every key.
  - A key below 2048 bits, asked for or found on disk, is refused.
  - Optionally writes C(opendkim.conf) too, validated by C(opendkim -n) first, so that one call covers the whole
    opendkim configuration.
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
        description: Signing domain.
        type: str
        required: true
      selector:
        description: DKIM selector.
        type: str
        required: true
      bits:
        description: RSA key size for a generated key.
        type: int
        default: 2048
      private_key:
        description: PEM private key to install instead of generating one.
        type: str
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
      - Complete content for C(opendkim.conf). It is validated with C(opendkim -n) in a temporary file (after the
        tables are in place) and written only if valid. Left alone when omitted.
    type: str
  config_path:
    description: Where opendkim.conf lives.
    type: path
    default: /etc/opendkim.conf
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is generated or written; records are returned for the keys that already exist.
  diff_mode:
    support: partial
    details: Diffs of the tables; never of key material.
"""

EXAMPLES = r"""
- name: Keys for two domains; example.com is rotating from mail2025 to mail2026
  mailops.mailhost.dkim_keys:
    keys:
      - {domain: example.com, selector: mail2025}
      - {domain: example.com, selector: mail2026}
      - {domain: example.org, selector: mail2026, private_key: "{{ vault_dkim_example_org }}"}
    signing:
      example.com: mail2025
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
  description: Whether opendkim.conf changed (opendkim must then be restarted; table changes need a reload only).
  returned: always
  type: bool
changed_keys:
  description: Keys generated or written (domain/selector), never their content.
  returned: always
  type: list
  elements: str
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import (
    MIN_BITS,
    bits_from_openssl_text,
    key_path,
    key_table,
    pem_body,
    record,
    signing_selectors,
    signing_table,
    trusted_hosts,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._files import file_diff, read_text, write_atomic
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run, words


class Opendkim:
    """openssl and opendkim on the host, and files owned by the opendkim user."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        self.openssl = module.get_bin_path("openssl", required=True)
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

    def bits(self, pem: str) -> int:
        return bits_from_openssl_text(self.run([self.openssl, "pkey", "-noout", "-text"], data=pem))

    def public(self, path: str) -> str:
        return pem_body(self.run([self.openssl, "pkey", "-in", path, "-pubout"]))

    def write(self, path: str, content: str, mode: int, uid: int | None = None) -> None:
        """Write with mode and owner set before the file appears: a key is never readable by others."""
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o750)
            os.chown(directory, self.uid, self.gid)
        write_atomic(path, content, mode, self.uid if uid is None else uid, self.gid)

    def generate(self, path: str, bits: int) -> None:
        pem = self.run([self.openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"])
        self.write(path, pem, 0o600)

    def config_problem(self, content: str) -> str | None:
        """What ``opendkim -n`` says of a candidate configuration, or None when it accepts it."""
        opendkim = self.module.get_bin_path("opendkim", required=True)
        fd, candidate = tempfile.mkstemp(prefix="mailhost-opendkim-", suffix=".conf")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        try:
            rc, out, err = run(self.module, [opendkim, "-n", "-x", candidate])
        finally:
            os.unlink(candidate)
        return words(out, err) or f"opendkim -n exited {rc}" if rc != 0 else None


def check_arguments(module: AnsibleModule) -> dict[str, str]:
    """Refuse duplicate or weak keys and unknown signing selectors; the selector that signs per domain."""
    seen = set()
    for key in module.params["keys"]:
        ident = (key["domain"], key["selector"])
        if ident in seen:
            module.fail_json(msg=f"keys: {key['domain']}/{key['selector']} is listed twice")
        seen.add(ident)
        if key["bits"] < MIN_BITS:
            module.fail_json(
                msg=f"keys: {key['domain']}/{key['selector']} asks for a {key['bits']}-bit key; "
                f"DKIM keys must have at least {MIN_BITS} bits (RFC 8301), so this is refused"
            )
    signing, problems = signing_selectors(module.params["keys"], module.params["signing"])
    if problems:
        module.fail_json(msg="; ".join(problems))
    return signing


def converge_keys(module: AnsibleModule, host: Opendkim, signing: dict[str, str]) -> tuple[list[str], list[dict]]:
    """Write supplied keys, generate missing ones, fix their modes; (changed keys, records to publish)."""
    p = module.params
    changed, records = [], []
    for key in p["keys"]:
        path = key_path(p["key_dir"], key["domain"], key["selector"])
        ident = f"{key['domain']}/{key['selector']}"
        current = read_text(path)
        if key["private_key"]:
            wanted = key["private_key"].strip() + "\n"
            bits = host.bits(wanted)
            if bits < MIN_BITS:
                module.fail_json(
                    msg=f"keys: the private key supplied for {ident} has {bits} bits; at least {MIN_BITS} are required"
                )
            if current != wanted:
                changed.append(ident)
                if not module.check_mode:
                    host.write(path, wanted, 0o600)
        elif current is None:
            changed.append(ident)
            if not module.check_mode:
                host.generate(path, key["bits"])
        if not os.path.exists(path):
            continue  # check mode: the key does not exist yet
        bits = host.bits(read_text(path))
        if bits < MIN_BITS:
            module.fail_json(msg=f"{path} holds a {bits}-bit key; at least {MIN_BITS} are required: replace it")
        st = os.stat(path)
        if (st.st_mode & 0o777) != 0o600 or st.st_uid != host.uid:
            changed.append(f"{ident} (permissions)")
            if not module.check_mode:
                os.chmod(path, 0o600)
                os.chown(path, host.uid, host.gid)
        records.append(
            record(key["domain"], key["selector"], host.public(path), bits, signing[key["domain"]] == key["selector"])
        )
    return changed, records


def converge_tables(module: AnsibleModule, host: Opendkim, signing: dict[str, str], diffs: list) -> list[str]:
    """KeyTable, SigningTable and TrustedHosts; the names of those that changed."""
    p = module.params
    tables = {
        "KeyTable": key_table(p["keys"], p["key_dir"]),
        "SigningTable": signing_table(signing),
        "TrustedHosts": trusted_hosts(p["trusted_hosts"]),
    }
    changed = []
    for name, content in tables.items():
        path = os.path.join(p["tables_dir"], name)
        before = read_text(path)
        if before != content:
            changed.append(name)
            diffs.append(file_diff(path, before, content))
            if not module.check_mode:
                host.write(path, content, 0o640)
    return changed


def converge_config(module: AnsibleModule, host: Opendkim, diffs: list) -> bool:
    """opendkim.conf, validated by ``opendkim -n`` before it is written; whether it changed."""
    p = module.params
    if p["config"] is None:
        return False
    content = p["config"] if p["config"].endswith("\n") else p["config"] + "\n"
    before = read_text(p["config_path"])
    if before == content:
        return False
    diffs.append(file_diff(p["config_path"], before, content))
    problem = host.config_problem(content)
    if problem:
        module.fail_json(msg=f"the new opendkim.conf is invalid, nothing was changed in it: {problem}")
    if not module.check_mode:
        host.write(p["config_path"], content, 0o640, uid=0)
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "keys": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "no_log": False,
                "options": {
                    "domain": {"type": "str", "required": True},
                    "selector": {"type": "str", "required": True},
                    "bits": {"type": "int", "default": MIN_BITS},
                    "private_key": {"type": "str", "no_log": True},
                },
            },
            "signing": {"type": "dict", "default": {}},
            "trusted_hosts": {"type": "list", "elements": "str", "default": ["127.0.0.1", "::1"]},
            "key_dir": {"type": "path", "default": "/etc/opendkim/keys"},
            "tables_dir": {"type": "path", "default": "/etc/opendkim"},
            "owner": {"type": "str", "default": "opendkim"},
            "config": {"type": "str"},
            "config_path": {"type": "path", "default": "/etc/opendkim.conf"},
        },
        supports_check_mode=True,
    )
    signing = check_arguments(module)
    host = Opendkim(module)
    diffs: list[dict] = []
    changed_keys, records = converge_keys(module, host, signing)
    changed_tables = converge_tables(module, host, signing, diffs)
    config_changed = converge_config(module, host, diffs)
    result = {
        "changed": bool(changed_keys or changed_tables or config_changed),
        "config_changed": config_changed,
        "changed_keys": changed_keys,
        "changed_tables": changed_tables,
        "records": records,
        "signing": signing,
    }
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
