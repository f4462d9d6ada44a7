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
  - The lock is bookkeeping, not configuration, so taking or releasing it never reports a change.
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
        },
        supports_check_mode=True,
    )
    p = module.params
    owner = {k: str(p["owner"].get(k, "")) for k in OWNER_KEYS}
    if not owner["id"] or not os.path.isabs(p["path"]):
        module.fail_json(msg="owner.id must be set and path must be absolute")
    if p["state"] == "released":
        if not module.check_mode:
            release(p["path"], owner["id"])
        module.exit_json(changed=False, acquired=True, waited=0.0)
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
    result = {"changed": False, "acquired": acquired, "waited": round(time.monotonic() - start, 1)}
    if not acquired:
        result["holder"] = holder
    module.exit_json(**result)


if __name__ == "__main__":
    main()
