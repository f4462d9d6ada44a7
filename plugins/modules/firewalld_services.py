#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: firewalld_services
short_description: Open exactly the mail stack's services in a firewalld zone, under the names that firewalld knows
version_added: 0.2.0
description:
  - Opens the services the mail stack listens on (C(smtp), C(submission), C(smtps), C(http) for a standalone
    ACME challenge) and the given ports in a firewalld zone, in the permanent configuration and in the running
    one, and closes the stack's services that are no longer wanted.
  - C(submission) is opened as firewalld's C(submission) service where it exists (firewalld 2.0 and later,
    AlmaLinux 10) and as C(smtp-submission) where it does not (firewalld 1.x, AlmaLinux 9).
  - Nothing else in the zone is touched (ssh and the administrator's own services stay as they are). Ports this
    module opened are remembered in O(state_file), so a port no longer asked for is closed again.
  - firewalld is never reloaded, because a reload would drop fail2ban's bans, which live in the running configuration.
author:
  - mailops.mailhost contributors (@mailops)
options:
  services:
    description: The stack services to open.
    type: list
    elements: str
    choices: [smtp, submission, smtps, http]
    default: []
  managed:
    description: The stack services this module owns; those not in O(services) are closed.
    type: list
    elements: str
    choices: [smtp, submission, smtps, http]
    default: [smtp, submission, smtps, http]
  ports:
    description: Extra ports to open, as C(NUMBER/tcp) (for example an ACME challenge on a port other than 80).
    type: list
    elements: str
    default: []
  zone:
    description: The zone; empty means firewalld's default zone.
    type: str
    default: ""
  state_file:
    description: Where the ports this module opened are remembered.
    type: path
    default: /var/lib/mailops-mailhost/firewalld-ports.json
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The zone's permanent services and ports before and after.
"""

EXAMPLES = r"""
- name: Open SMTP, submission and SMTPS
  mailops.mailhost.firewalld_services:
    services: [smtp, submission, smtps]
"""

RETURN = r"""
mailhost_changes:
  description: The services and ports opened or closed, in the change report's shape (see M(mailops.mailhost.postconf)).
  returned: success
  type: list
  elements: dict
zone:
  description: The zone that was managed.
  returned: success
  type: str
  sample: public
services:
  description: The firewalld service names that are open for the stack.
  returned: success
  type: list
  elements: str
  sample: [smtp, submission]
added:
  description: Services and ports opened by this run.
  returned: success
  type: list
  elements: str
removed:
  description: Services and ports closed by this run.
  returned: success
  type: list
  elements: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._changes import entry
from ansible_collections.mailops.mailhost.plugins.module_utils._files import file_diff, read_text, write_atomic
from ansible_collections.mailops.mailhost.plugins.module_utils._firewalld import (
    check_port,
    describe,
    parse_list_all,
    plan,
    resolve,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run


class Firewalld:
    """firewall-cmd calls; every failure carries firewall-cmd's own words."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        self.cmd = module.get_bin_path("firewall-cmd", required=True)

    def run(self, *args: str) -> str:
        rc, out, err = run(self.module, [self.cmd, *args])
        if rc != 0:
            self.module.fail_json(
                msg=f"firewall-cmd {' '.join(args)} failed: {(err or out).strip()}",
                rc=rc,
                stdout=out,
                stderr=err,
                cmd=[self.cmd, *args],
            )
        return out

    def state(self, zone: str, permanent: bool) -> tuple[set[str], set[str]]:
        return parse_list_all(self.run(*(["--permanent"] if permanent else []), f"--zone={zone}", "--list-all"))

    def apply(self, zone: str, permanent: bool, change) -> None:
        prefix = (["--permanent"] if permanent else []) + [f"--zone={zone}"]
        adds = [f"--add-service={s}" for s in change.add_services] + [f"--add-port={p}" for p in change.add_ports]
        removes = [f"--remove-service={s}" for s in change.remove_services]
        removes += [f"--remove-port={p}" for p in change.remove_ports]
        for options in (adds, removes):
            if options:
                self.run(*prefix, *options)


def read_owned_ports(path: str) -> list[str]:
    try:
        data = json.loads(read_text(path) or "[]")
    except ValueError:
        return []
    return [p for p in data if isinstance(p, str) and check_port(p) is None] if isinstance(data, list) else []


def write_owned_ports(path: str, ports: list[str]) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    write_atomic(path, json.dumps(sorted(ports)), 0o644)


STACK = ["smtp", "submission", "smtps", "http"]


def check_arguments(module: AnsibleModule) -> None:
    for port in module.params["ports"]:
        error = check_port(port)
        if error:
            module.fail_json(msg=f"ports: {error}")
    zone = module.params["zone"]
    if zone and not zone.replace("-", "").replace("_", "").isalnum():
        module.fail_json(msg=f"zone: {zone!r} is not a firewalld zone name (letters, digits, - and _)")


def plan_changes(module: AnsibleModule, firewalld: Firewalld, zone: str, owned_ports: list[str]) -> dict:
    """The change for the permanent (True) and the running (False) configuration, with the state before."""
    p = module.params
    known = set(firewalld.run("--get-services").split())
    changes = {}
    try:
        for permanent in (True, False):
            services, ports = firewalld.state(zone, permanent)
            change = plan(p["services"], p["managed"], p["ports"], owned_ports, known, services, ports)
            changes[permanent] = (change, services, ports)
        changes["names"] = sorted(resolve(s, known) for s in p["services"])
    except ValueError as exc:
        module.fail_json(msg=f"services: {exc}")
    return changes


def diff(zone: str, change, services: set[str], ports: set[str]) -> dict:
    after_services = (services | set(change.add_services)) - set(change.remove_services)
    after_ports = (ports | set(change.add_ports)) - set(change.remove_ports)
    label = f"firewalld zone {zone} (permanent)"
    return file_diff(label, describe(services, ports), describe(after_services, after_ports))


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "services": {"type": "list", "elements": "str", "choices": STACK, "default": []},
            "managed": {"type": "list", "elements": "str", "choices": STACK, "default": STACK},
            "ports": {"type": "list", "elements": "str", "default": []},
            "zone": {"type": "str", "default": ""},
            "state_file": {"type": "path", "default": "/var/lib/mailops-mailhost/firewalld-ports.json"},
        },
        supports_check_mode=True,
    )
    p = module.params
    check_arguments(module)
    firewalld = Firewalld(module)
    if run(module, [firewalld.cmd, "--state"])[0] != 0:
        module.fail_json(msg="firewalld is not running: start it (systemctl enable --now firewalld) first")
    zone = p["zone"] or firewalld.run("--get-default-zone").strip()
    owned_ports = read_owned_ports(p["state_file"])
    changes = plan_changes(module, firewalld, zone, owned_ports)
    permanent, before_services, before_ports = changes[True]
    changed = bool(permanent) or bool(changes[False][0]) or sorted(owned_ports) != sorted(p["ports"])
    result = {
        "changed": changed,
        "zone": zone,
        "services": changes["names"],
        "added": sorted(set(permanent.add_services + permanent.add_ports)),
        "removed": sorted(set(permanent.remove_services + permanent.remove_ports)),
    }
    result["mailhost_changes"] = [
        entry("firewall", "firewall", f"{zone}: {name}", None, "open") for name in result["added"]
    ]
    result["mailhost_changes"] += [
        entry("firewall", "firewall", f"{zone}: {name}", "open", None) for name in result["removed"]
    ]
    if module._diff:
        result["diff"] = diff(zone, permanent, before_services, before_ports)
    if module.check_mode or not changed:
        module.exit_json(**result)
    # The ports are remembered before they are opened, so an interrupted run still knows them.
    write_owned_ports(p["state_file"], sorted(set(owned_ports) | set(p["ports"])))
    for is_permanent in (True, False):
        firewalld.apply(zone, is_permanent, changes[is_permanent][0])
    write_owned_ports(p["state_file"], p["ports"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
