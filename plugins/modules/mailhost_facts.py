#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mailhost_facts
short_description: The few facts the mail host roles need, in one quick call
version_added: 0.1.0
description:
  - Returns C(os_family), C(distribution), C(distribution_version), C(distribution_major_version) and C(fqdn)
    under the names M(ansible.builtin.setup) uses, plus which of the given packages are installed and which
    of the given paths exist.
  - Much cheaper than fact gathering, so that a run that changes nothing stays fast, and lets roles skip
    install steps whose result is already there.
author:
  - mailops.mailhost contributors (@mailops)
options:
  packages:
    description: Package names to look up.
    type: list
    elements: str
    default: []
  paths:
    description: Paths to test for existence.
    type: list
    elements: path
    default: []
  services:
    description: systemd units whose state to report (active, enabled).
    type: list
    elements: str
    default: []
  repos:
    description:
      - Package repository ids (C(/etc/yum.repos.d/*.repo)) whose enabled state to report, for example C(crb).
      - On hosts without that directory (Debian) every repository is reported as not enabled.
    type: list
    elements: str
    default: []
  x509:
    description: Certificate files to describe (names, serial, expiry, key type); absent files are reported as such.
    type: list
    elements: path
    default: []
  digests:
    description:
      - Files to describe by their SHA-256, mode and owner (never their content), so that the controller can tell
        whether what it would write differs, without a call per file. Secrets are safe here.
    type: list
    elements: path
    default: []
  contents:
    description: Small configuration files (main.cf, master.cf) whose text to return; never a file holding a secret.
    type: list
    elements: path
    default: []
  dkim_keys:
    description: DKIM private key files whose public key (base64 SubjectPublicKeyInfo), size and kind to return.
    type: list
    elements: path
    default: []
  passwd_files:
    description:
      - Files of C(name:secret) lines (Dovecot's passwd-file) to describe by user name, each with the SHA-256 of its
        line (never the line), so that a report can name the users added, removed or given another password.
    type: list
    elements: path
    default: []
  roles:
    description:
      - The roles of mailops.mailhost whose requests to merge (the action plugin reads each role's C(__ROLE_facts) from
        its C(vars/main.yml)). With several roles, one call learns what the whole stack needs.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that updates existing host facts.
    support: full
"""

EXAMPLES = r"""
- name: Learn the platform and what is already there
  mailops.mailhost.mailhost_facts:
    packages: [postfix]
    paths: [/etc/postfix/mailhost-selfsigned.crt]
  register: __postfix_host
"""

RETURN = r"""
ansible_facts:
  description: os_family, distribution, distribution_version, distribution_major_version, fqdn.
  returned: always
  type: dict
  sample: {os_family: Debian, distribution: Debian, distribution_major_version: "12", fqdn: mx1.example.com}
packages:
  description: Each requested package name mapped to whether it is installed.
  returned: always
  type: dict
  sample: {postfix: true}
paths:
  description: Each requested path mapped to whether it exists.
  returned: always
  type: dict
services:
  description: Each requested unit mapped to C(active) and C(enabled) booleans.
  returned: always
  type: dict
  sample: {opendkim: {active: true, enabled: true}}
x509:
  description: Each requested certificate path mapped to C(exists), C(names), C(serial), C(not_after) and C(key_type).
  returned: always
  type: dict
  sample: {/etc/letsencrypt/live/mail/cert.pem: {exists: true, names: [mx1.example.com], serial: "0A1B", key_type: rsa}}
enabled_repos:
  description: The requested repository ids that are enabled.
  returned: always
  type: list
  elements: str
  sample: [crb]
missing_packages:
  description: The requested packages that are not installed.
  returned: always
  type: list
  elements: str
files:
  description: Each requested digest path mapped to C(exists), C(sha256), C(mode) (octal string), C(owner), C(group).
  returned: always
  type: dict
  sample: {/etc/opendkim/KeyTable: {exists: true, sha256: 3b1f..., mode: "0640", owner: opendkim, group: opendkim}}
texts:
  description:
    - Each requested content path mapped to its text (null when the file does not exist); a byte that is not UTF-8 is
      shown replaced.
  returned: always
  type: dict
install:
  description:
    - With O(roles) (the action plugin, on the controller), what the stack installs in one transaction on this platform
      (C(prereq_packages), C(repos), C(packages), each only what is missing), and C(leftover_hold), whether
      C(/usr/sbin/policy-rc.d) is the hold on service starts that a killed run left (when that file is among
      O(contents); see M(mailops.mailhost.mailhost_lock)).
  returned: with roles
  type: dict
  sample: {prereq_packages: [], repos: [], packages: [opendkim, opendkim-tools], leftover_hold: false}
users:
  description: Each requested passwd-file mapped to its user names, each with the SHA-256 of its line.
  returned: always
  type: dict
dkim:
  description: Each requested DKIM key path mapped to C(public_key), C(bits) and C(kind) (C(exists) false when absent).
  returned: always
  type: dict
"""

import glob
import grp
import hashlib
import os
import pwd
import socket
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import key_kind, pem_body
from ansible_collections.mailops.mailhost.plugins.module_utils._files import read_text
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run
from ansible_collections.mailops.mailhost.plugins.module_utils._osinfo import (
    enabled_repos,
    installed_from_dpkg,
    installed_from_rpm,
    os_facts,
    parse_os_release,
    parse_systemctl_show,
    parse_x509_text,
)


def platform() -> dict[str, str]:
    release = ""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if os.path.exists(path):
            release = read_text(path) or ""
            break
    return dict(os_facts(parse_os_release(release)), fqdn=socket.getfqdn())


def installed(module: AnsibleModule, names: list[str]) -> dict[str, bool]:
    """Each package name to whether it is installed, in one dpkg-query or rpm call."""
    found: set[str] = set()
    if names:
        dpkg, rpm = module.get_bin_path("dpkg-query"), module.get_bin_path("rpm")
        if dpkg:
            found = installed_from_dpkg(run(module, [dpkg, "-W", "-f", "${Package} ${Status}\n", *names])[1])
        elif rpm:
            found = installed_from_rpm(run(module, [rpm, "-q", "--qf", "%{NAME}\n", *names])[1])
        else:
            module.fail_json(msg="neither dpkg-query nor rpm found: cannot tell which packages are installed")
    return {name: name in found for name in names}


def unit_states(module: AnsibleModule, units: list[str]) -> dict[str, dict]:
    systemctl = module.get_bin_path("systemctl") if units else None
    if not systemctl:
        return {}
    # One block per unit, in order, missing units included (is-enabled skips those on stdout).
    out = run(module, [systemctl, "show", "--property=ActiveState,UnitFileState", *units])[1]
    return dict(zip(units, parse_systemctl_show(out)))


def certificates(module: AnsibleModule, paths: list[str]) -> dict[str, dict]:
    openssl = module.get_bin_path("openssl") if paths else None
    described = {}
    for path in paths:
        if not os.path.exists(path) or not openssl:
            described[path] = {"exists": False}
            continue
        argv = [openssl, "x509", "-in", path, "-noout", "-serial", "-enddate", "-ext", "subjectAltName", "-text"]
        rc, out, _err = run(module, argv)
        described[path] = parse_x509_text(out) if rc == 0 else {"exists": True, "error": "unreadable"}
    return described


def describe_file(path: str) -> dict:
    """exists, sha256, mode, owner and group of a file; never its content."""
    try:
        st = os.stat(path)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False}
    except OSError as exc:
        return {"exists": True, "error": str(exc)}
    return {
        "exists": True,
        "sha256": digest,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "owner": name_of(pwd.getpwuid, st.st_uid),
        "group": name_of(grp.getgrgid, st.st_gid),
    }


def name_of(lookup, ident: int) -> str:
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def passwd_users(path: str) -> dict[str, str]:
    """User name to the SHA-256 of its line, for a passwd-file (the secret part never leaves the host)."""
    users = {}
    for line in (read_text(path) or "").splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            users[line.split(":", 1)[0]] = hashlib.sha256(line.encode("utf-8")).hexdigest()
    return users


def dkim_public_keys(module: AnsibleModule, paths: list[str]) -> dict[str, dict]:
    openssl = module.get_bin_path("openssl") if paths else None
    described = {}
    for path in paths:
        if not os.path.isfile(path) or not openssl:
            described[path] = {"exists": False}
            continue
        rc, text, _err = run(module, [openssl, "pkey", "-in", path, "-noout", "-text", "-passin", "pass:"])
        rc2, pub, _err = run(module, [openssl, "pkey", "-in", path, "-pubout", "-passin", "pass:"])
        if rc != 0 or rc2 != 0:
            described[path] = {"exists": True, "kind": "unreadable", "bits": 0, "public_key": ""}
            continue
        kind, bits = key_kind(text)
        described[path] = {"exists": True, "kind": kind, "bits": bits, "public_key": pem_body(pub)}
    return described


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "path", "default": []},
            "services": {"type": "list", "elements": "str", "default": []},
            "x509": {"type": "list", "elements": "path", "default": []},
            "repos": {"type": "list", "elements": "str", "default": []},
            "digests": {"type": "list", "elements": "path", "default": []},
            "contents": {"type": "list", "elements": "path", "default": []},
            "dkim_keys": {"type": "list", "elements": "path", "default": [], "no_log": False},  # paths only
            "passwd_files": {"type": "list", "elements": "path", "default": [], "no_log": False},  # paths only
            "roles": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    packages = installed(module, p["packages"])
    repos = (
        enabled_repos([read_text(f) or "" for f in sorted(glob.glob("/etc/yum.repos.d/*.repo"))])
        if p["repos"]
        else set()
    )
    module.exit_json(
        changed=False,
        ansible_facts=platform(),
        packages=packages,
        missing_packages=[n for n in p["packages"] if not packages[n]],
        paths={path: os.path.exists(path) for path in p["paths"]},
        services=unit_states(module, p["services"]),
        x509=certificates(module, p["x509"]),
        enabled_repos=[r for r in p["repos"] if r in repos],
        files={path: describe_file(path) for path in p["digests"]},
        # text only: a byte that is not UTF-8 (a comment in Latin-1) is shown replaced, never a failure
        texts={path: read_text(path, errors="replace") for path in p["contents"]},
        dkim=dkim_public_keys(module, p["dkim_keys"]),
        users={path: passwd_users(path) for path in p["passwd_files"]},
    )


if __name__ == "__main__":
    main()
