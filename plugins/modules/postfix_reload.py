#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postfix_reload
short_description: Bring a Postfix configuration live safely - check, reload or restart, verify, roll back
version_added: 0.1.0
description:
  - Runs C(postfix check) first, then reloads a running Postfix, starts a stopped one, or restarts it when
    asked (a reload does not apply C(inet_interfaces), C(inet_protocols) or new listeners).
  - Then verifies that Postfix runs, that the SMTP listener answers with a 220 greeting, and that Postfix
    logged no C(error), C(fatal) or C(panic) since the action (the journal gate).
  - When any step fails and O(rollback_dir) is given (the RV(mailops.mailhost.postconf#module:backup) of the
    change), the previous files are put back, maps recompiled and Postfix restarted on that configuration
    (a restart clears the throttling of a daemon that failed to start) and probed again;
    the task still fails and says what went wrong. A running Postfix is never left stopped.
  - Mail is never lost, because the queue is on disk and survives reload and restart; its size before and after is reported.
author:
  - mailops.mailhost contributors (@mailops)
options:
  state:
    description:
      - V(reloaded) brings a changed configuration live (reload, or start when stopped, or restart with O(restart)).
      - V(started) only makes sure Postfix runs. A stopped Postfix is started (with the same checks), a running
        one is left alone and nothing is reported changed.
    type: str
    choices: [reloaded, started]
    default: reloaded
  enabled:
    description: Make sure Postfix starts at boot (C(systemctl enable)). Left as it is when omitted.
    type: bool
  restart:
    description: Restart instead of reload (use RV(mailops.mailhost.postconf#module:restart_required)).
    type: bool
    default: false
  rollback_dir:
    description: Backup directory of the change, to restore when bringing it live fails.
    type: path
  service:
    description: The systemd unit that runs Postfix.
    type: str
    default: postfix
  config_dir:
    description: Postfix configuration directory.
    type: path
    default: /etc/postfix
  check:
    description: Run C(postfix check) before acting.
    type: bool
    default: true
  probe:
    description: After acting, connect to the SMTP listener and expect a 220 greeting (this starts an smtpd, which reads its parameters).
    type: bool
    default: true
  probe_port:
    description: Port for the probe.
    type: int
    default: 25
  settle:
    description: Seconds to wait after the action before reading the journal.
    type: float
    default: 1.0
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
    details: Reports the action it would take; runs nothing that changes the host.
  diff_mode:
    support: none
seealso:
  - module: mailops.mailhost.postconf
  - module: mailops.mailhost.postfix_check
"""

EXAMPLES = r"""
- name: Reload Postfix after a change, rolling back if it does not come up clean
  mailops.mailhost.postfix_reload:
    restart: "{{ __postfix_conf.restart_required }}"
    rollback_dir: "{{ __postfix_conf.backup }}"

- name: Make sure Postfix runs and starts at boot, without reloading it
  mailops.mailhost.postfix_reload:
    state: started
    enabled: true

- name: Restart Postfix (for example after changing inet_interfaces by hand)
  mailops.mailhost.postfix_reload:
    restart: true
"""

RETURN = r"""
action:
  description: What was done (or would be done in check mode); V(none) when Postfix already ran with O(state=started).
  returned: always
  type: str
  sample: reload
queue_before:
  description: Messages in the queue before the action.
  returned: always
  type: int
queue_after:
  description: Messages in the queue after the action.
  returned: always
  type: int
journal_errors:
  description: Postfix error, fatal and panic lines logged since the action.
  returned: always
  type: list
  elements: str
findings:
  description: Findings of C(postfix check).
  returned: always
  type: list
  elements: dict
enabled_changed:
  description: Whether the boot-time state of the unit was changed.
  returned: always
  type: bool
rolled_back:
  description: Whether the previous configuration was restored and brought live.
  returned: always
  type: bool
"""

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback
from ansible_collections.mailops.mailhost.plugins.module_utils._host import run
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_runtime import (
    decide_action,
    journal_errors,
    probe_address,
    queue_size,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_validate import postfix_check


class Postfix:
    def __init__(self, module: AnsibleModule):
        self.module = module
        self.p = module.params
        self.postfix = module.get_bin_path("postfix", required=True)
        self.postconf = module.get_bin_path("postconf", required=True)
        self.systemctl = module.get_bin_path("systemctl", required=True)
        self.journalctl = module.get_bin_path("journalctl")

    def run(self, argv):
        return run(self.module, argv)

    def running(self) -> bool:
        return self.run([self.postfix, "-c", self.p["config_dir"], "status"])[0] == 0

    def is_enabled(self) -> bool:
        return self.run([self.systemctl, "is-enabled", self.p["service"]])[1].strip() == "enabled"

    def param(self, name: str) -> str:
        rc, out, _err = self.run([self.postconf, "-c", self.p["config_dir"], "-x", "-h", name])
        return out.strip() if rc == 0 else ""

    def check(self) -> list:
        return postfix_check(self.module, self.p["config_dir"])

    def act(self, action: str) -> str | None:
        """Run the action and wait until Postfix runs; return a problem or None."""
        rc, out, err = self.run([self.systemctl, action, self.p["service"]])
        if rc != 0:
            return f"systemctl {action} {self.p['service']} failed: {err.strip() or out.strip()}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.running():
                return None
            time.sleep(0.5)
        return f"Postfix is not running after systemctl {action} {self.p['service']}"

    def probe(self) -> str | None:
        if not self.p["probe"]:
            return None
        master = self.run([self.postconf, "-c", self.p["config_dir"], "-M", "smtp/inet"])[1]
        if not master.strip() and self.p["probe_port"] == 25:
            return None  # no SMTP listener configured
        address = probe_address(self.param("inet_interfaces"))
        last = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((address, self.p["probe_port"]), timeout=10) as conn:
                    conn.settimeout(10)
                    banner = conn.recv(512).decode("utf-8", "replace")
                    conn.sendall(b"QUIT\r\n")
                if banner.startswith("220"):
                    return None
                last = f"the SMTP listener on {address}:{self.p['probe_port']} answered {banner.strip()!r}"
            except OSError as exc:
                last = f"cannot talk to the SMTP listener on {address}:{self.p['probe_port']}: {exc}"
            time.sleep(0.5)
        return last

    def journal(self, since_us: int) -> list[str]:
        if not self.journalctl:
            return []
        rc, out, _err = self.run(
            [self.journalctl, "--no-pager", "-q", "-o", "json", "--since", f"@{since_us // 1_000_000}"]
        )
        return journal_errors(out, since_us) if rc == 0 else []

    def set_enabled(self, enabled: bool, result: dict) -> None:
        verb = "enable" if enabled else "disable"
        rc, out, err = self.run([self.systemctl, verb, self.p["service"]])
        if rc != 0:
            self.module.fail_json(
                msg=f"systemctl {verb} {self.p['service']} failed: {err.strip() or out.strip()}", **result
            )

    def restore(self, rollback_dir: str) -> None:
        _rollback.restore(rollback_dir, self.run)


def bring_live(pf: Postfix, action: str, result: dict) -> str | None:
    """Check, act, probe, read the journal; the first problem, or None when the change is live and sound."""
    params = pf.module.params
    since_us = time.time_ns() // 1000
    problem = None
    if params["check"]:
        findings = pf.check()
        result["findings"] = [f.as_dict() for f in findings]
        blocking = [f.message for f in findings if f.severity in ("error", "fatal", "panic")]
        if blocking:
            problem = "postfix check failed: " + "; ".join(blocking)
    if problem is None:
        problem = pf.act(action)
    if problem is None:
        problem = pf.probe()
    time.sleep(params["settle"])
    result["journal_errors"] = pf.journal(since_us)
    if problem is None and result["journal_errors"]:
        problem = "Postfix logged errors after the " + action + ": " + "; ".join(result["journal_errors"][:5])
    return problem


def recover(pf: Postfix, was_running: bool, result: dict) -> str:
    """Put the previous configuration back and bring it live; what happened, for the failure message."""
    rollback = pf.module.params["rollback_dir"]
    if _rollback.has_manifest(rollback):
        pf.restore(rollback)
        result["rolled_back"] = True
        # Restart, not reload: the master keeps throttling a daemon that failed to start
        # across a reload, so only a restart serves the restored configuration at once.
        again = pf.act("restart" if pf.running() else "start") or pf.probe()
        if again is None:
            return " The previous configuration was restored and is live."
        return f" The previous configuration was restored, but bringing it live failed too: {again}."
    if was_running and not pf.running():
        again = pf.act("start")
        return " Postfix was started again." if again is None else f" Starting Postfix again failed: {again}."
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["reloaded", "started"], "default": "reloaded"},
            "enabled": {"type": "bool"},
            "restart": {"type": "bool", "default": False},
            "rollback_dir": {"type": "path"},
            "service": {"type": "str", "default": "postfix"},
            "config_dir": {"type": "path", "default": "/etc/postfix"},
            "check": {"type": "bool", "default": True},
            "probe": {"type": "bool", "default": True},
            "probe_port": {"type": "int", "default": 25},
            "settle": {"type": "float", "default": 1.0},
        },
        supports_check_mode=True,
    )
    pf = Postfix(module)
    queue_dir = pf.param("queue_directory") or "/var/spool/postfix"
    was_running = pf.running()
    action = (
        "none"
        if module.params["state"] == "started" and was_running
        else decide_action(was_running, module.params["restart"])
    )
    enable = module.params["enabled"] is not None and pf.is_enabled() != module.params["enabled"]
    result = {"changed": action != "none" or enable, "action": action, "enabled_changed": enable}
    result.update(queue_before=queue_size(queue_dir), journal_errors=[], findings=[], rolled_back=False)
    if enable and not module.check_mode:
        pf.set_enabled(module.params["enabled"], result)
    problem = None if module.check_mode or action == "none" else bring_live(pf, action, result)
    if problem is not None:
        recovery = recover(pf, was_running, result)
        result["queue_after"] = queue_size(queue_dir)
        module.fail_json(msg=problem + recovery, **result)
    result["queue_after"] = queue_size(queue_dir)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
