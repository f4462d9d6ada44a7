#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mailhost_lock
short_description: One run of the mail stack at a time per host
version_added: 0.2.0
description:
  - Takes or releases the host's lock for a run of the mail stack, so that two runs (two operators, a
    scheduled drift check and a merge) never change the same host at once. The lock is a file in C(/run)
    naming its holder (the run's id, the controller, the process id there, the user, the time).
  - A second run waits up to O(timeout) seconds, then fails saying who holds the lock.
  - A lock is taken over when it is older than O(max_age), or when its holder ran on this same controller
    and its process is gone (a run that was killed). The check of the process is done by the action plugin
    on the controller.
  - In check mode the lock is not taken; the run still waits while another run holds it.
  - Before a killed run's lock is taken over, the module waits (up to two minutes) until no Ansible module runs on the
    host any more, as the killed run's last module may still be running there.
author:
  - mailops.mailhost contributors (@mailops)
options:
  state:
    description: V(acquired) takes the lock (waiting for it), V(released) gives it back.
    type: str
    choices: [acquired, released]
    default: acquired
  path:
    description: The lock file.
    type: path
    default: /run/mailops-mailhost.lock
  timeout:
    description: Seconds to wait for a lock another run holds.
    type: int
    default: 300
  max_age:
    description: Seconds after which a lock is stale and taken over, whoever holds it.
    type: int
    default: 1800
  owner:
    description: Who this run is (id, controller, pid, started, user). Set by the action plugin; do not set it.
    type: dict
    required: true
  wait:
    description: Seconds one call waits on the host before it returns to the action plugin. Set by the action plugin.
    type: float
    default: 10.0
  break_id:
    description: The id of a stale holder whose lock is taken over. Set by the action plugin.
    type: str
    default: ""
  hold_service_starts:
    description:
      - With O(state=acquired), once the lock is taken, keep the package scripts of a Debian host from starting or
        restarting these services (init script or unit names) until the lock is given back; the stack names the
        services whose packages it installs in this run and starts each of them itself on its own configuration.
        The module writes C(/usr/sbin/policy-rc.d), exit code 101 for those services and 0 for every other, when
        the host has none; an administrator's own C(policy-rc.d) is never touched, and nothing is held on a host
        without C(invoke-rc.d) (EL, whose packages start no service at install).
      - Giving the lock back removes the stack's C(policy-rc.d), whatever this option; one that a killed run left
        is removed when the next run takes the lock (or replaced by this run's), and that is reported as a change.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  action:
    description: The action plugin runs on the controller and calls the module on the host.
    support: full
  check_mode:
    support: full
    details: The lock is not taken in check mode; a check run waits while another run holds it.
  diff_mode:
    support: none
notes:
  - The lock is bookkeeping, not configuration, so taking or releasing it reports no change, except the removal of
    a C(policy-rc.d) hold that a killed run left (see O(hold_service_starts)).
"""

EXAMPLES = r"""
- name: Take the host's lock for this run
  mailops.mailhost.mailhost_lock:
    timeout: 300

- name: Give the lock back
  mailops.mailhost.mailhost_lock:
    state: released
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock now (V(true) for O(state=released) once it is given back).
  returned: always
  type: bool
holder:
  description: The holder of the lock (id, controller, pid, user, taken), when another run holds it.
  returned: when not acquired
  type: dict
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
held:
  description: Whether service starts by package scripts are held (the stack's C(policy-rc.d) is in place).
  returned: always
  type: bool
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._lock import (
    read_holder,
    release,
    running_modules,
    try_acquire,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._service_hold import POLICY_RC_D, held, hold
from ansible_collections.mailops.mailhost.plugins.module_utils._service_hold import release as release_hold

OWNER_KEYS = ("id", "controller", "pid", "started", "user")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["acquired", "released"], "default": "acquired"},
            "path": {"type": "path", "default": "/run/mailops-mailhost.lock"},
            "timeout": {"type": "int", "default": 300},
            "max_age": {"type": "int", "default": 1800},
            # Set by the action plugin: who this run is, how long one call may wait, a lock to take over.
            "owner": {"type": "dict", "required": True},
            "wait": {"type": "float", "default": 10.0},
            "break_id": {"type": "str", "default": ""},
            "hold_service_starts": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    owner = {k: str(p["owner"].get(k, "")) for k in OWNER_KEYS}
    if not owner["id"] or not os.path.isabs(p["path"]):
        module.fail_json(msg="owner.id must be set and path must be absolute")
    if p["state"] == "released":
        # this run's own hold goes with its lock (a run that never held the lock leaves another's alone)
        if not module.check_mode and release(p["path"], owner["id"]):
            release_hold()
        module.exit_json(changed=False, acquired=True, waited=0.0, held=False)
    start = time.monotonic()
    deadline = start + max(0.0, min(p["wait"], float(p["timeout"])))
    taking_over = p["break_id"] and (read_holder(p["path"]) or {}).get("id") == p["break_id"]
    orphans_until = time.monotonic() + 120
    while taking_over and running_modules(own=(os.getpid(), os.getppid())) and time.monotonic() < orphans_until:
        time.sleep(0.5)  # the killed run's last module finishes first
    while True:
        try:
            acquired, holder = try_acquire(p["path"], owner, p["max_age"], p["break_id"], not module.check_mode)
        except OSError as exc:
            module.fail_json(msg=f"cannot take the lock {p['path']}: {exc}")
        if acquired or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    result = {"changed": False, "acquired": acquired, "waited": round(time.monotonic() - start, 1), "held": False}
    if not acquired:
        result["holder"] = holder
    elif held():
        # ours are removed at release: this one was left by a killed run, and is a correction (check mode says so)
        result["changed"] = True
        result["msg"] = f"{POLICY_RC_D} is a hold on service starts that a killed run left: " + (
            "kept for this run's package transaction, then removed" if p["hold_service_starts"] else "removed"
        )
    if acquired and not module.check_mode:
        try:
            if p["hold_service_starts"]:
                result["held"] = hold(p["hold_service_starts"])
            else:
                release_hold()
        except ValueError as exc:
            release(p["path"], owner["id"])
            module.fail_json(msg=f"hold_service_starts: {exc}")
        except OSError as exc:
            release(p["path"], owner["id"])
            module.fail_json(msg=f"cannot hold service starts with {POLICY_RC_D}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
