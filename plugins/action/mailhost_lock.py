# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's lock for a run of the mail stack: who this run is, and whether a holder is gone.

The module (plugins/modules/mailhost_lock.py) takes the lock on the host; this plugin, on the
controller, names the run (ansible-playbook's process id and start time) and tells a killed run
on this controller from a live one, which the host cannot see.
"""

from __future__ import annotations

import getpass
import os
import socket
import time

from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.module_utils._lock import describe, process_gone, process_start

MODULE = "mailops.mailhost.mailhost_lock"


def run_owner() -> dict:
    """This ansible-playbook run: task workers are forked from it, so it is their parent process."""
    pid = os.getppid()
    started = process_start(pid)
    controller = socket.gethostname()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return {
        "id": f"{controller}:{pid}:{started}",
        "controller": controller,
        "pid": str(pid),
        "started": started,
        "user": user,
    }


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        owner = run_owner()
        state = args.get("state", "acquired")
        timeout = int(args.get("timeout", 300))
        module_args = {
            k: v for k, v in args.items() if k in ("state", "path", "timeout", "max_age", "hold_service_starts")
        }
        module_args["owner"] = owner
        if state == "released":
            return self._execute_module(MODULE, module_args=module_args, task_vars=task_vars)
        deadline = time.monotonic() + max(0, timeout)
        break_id = ""
        while True:
            wait = max(0.0, min(10.0, deadline - time.monotonic()))
            outcome = self._execute_module(
                MODULE, module_args=dict(module_args, wait=wait, break_id=break_id), task_vars=task_vars
            )
            if outcome.get("failed") or outcome.get("acquired"):
                result.update(outcome)
                return result
            holder = outcome.get("holder") or {}
            if holder.get("controller") == owner["controller"] and process_gone(
                holder.get("pid", ""), holder.get("started", "")
            ):
                break_id = holder.get("id", "")  # a killed run on this controller: take its lock over now
                continue
            if time.monotonic() >= deadline:
                result.update(outcome)
                result["failed"] = True
                result["msg"] = (
                    f"{task_vars.get('inventory_hostname', 'the host')} is locked by {describe(holder)}; waited "
                    f"{timeout} s (mailhost_lock_timeout). A lock older than mailhost_lock_max_age is taken over; "
                    f"if that run is gone, remove {args.get('path', '/run/mailops-mailhost.lock')} on the host"
                )
                return result
