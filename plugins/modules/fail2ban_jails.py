#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: fail2ban_jails
short_description: fail2ban's jail file, tested by fail2ban before it is written, and brought live in one call
version_added: 0.2.0
description:
  - Writes a jail file of fail2ban (root, mode 0644) after fail2ban has tested the whole configuration with it
    (C(fail2ban-client --conf COPY -t) on a copy of O(config_dir)); a candidate fail2ban refuses is never written,
    and the task fails with fail2ban's own words.
  - Then brings it live itself - a running fail2ban is reloaded (its bans are kept; it is never restarted), a
    stopped one started - checks that the server answers (C(fail2ban-client ping)), and enables the service at boot.
    If fail2ban does not come back, the previous jail file is put back, fail2ban is reloaded or started on it, and
    the task fails.
  - "Crash safety: a mark (O(pending_mark)) is written before the new jail file and cleared once it is live. A run
    killed in between leaves it; the next call reloads fail2ban even though the file on disk is already what it
    wants."
author:
  - mailops.mailhost contributors (@mailops)
options:
  path:
    description: The jail file, inside O(config_dir).
    type: path
    default: /etc/fail2ban/jail.d/mailops-mailhost.local
  content:
    description: The whole text of the jail file.
    type: str
    required: true
  config_dir:
    description: fail2ban's configuration directory, copied whole to test the candidate.
    type: path
    default: /etc/fail2ban
  service:
    description: The systemd unit of fail2ban.
    type: str
    default: fail2ban
  enabled:
    description: Enable the service at boot.
    type: bool
    default: true
  pending_mark:
    description: The mark of a change written but not yet live.
    type: path
    default: /var/lib/mailops-mailhost/fail2ban-pending
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written, started or reloaded; the result says what would be.
  diff_mode:
    support: full
notes:
  - One module call where a template task (two calls, with its C(validate)) and a service task were needed.
seealso:
  - name: fail2ban-client(1)
    description: The C(-t) test of the configuration, C(reload) and C(ping).
    link: https://manpages.debian.org/bookworm/fail2ban/fail2ban-client.1.en.html
"""

EXAMPLES = r"""
- name: The mail jails, tested by fail2ban, live
  mailops.mailhost.fail2ban_jails:
    content: "{{ lookup('ansible.builtin.template', 'jail.local.j2') }}"
"""

RETURN = r"""
action:
  description: What was done to O(service) (V(reload), V(start) or V(none)).
  returned: always
  type: str
written:
  description: Whether the jail file was written (or, in check mode, would be).
  returned: always
  type: bool
enabled_now:
  description: Whether the service was enabled at boot by this call.
  returned: always
  type: bool
mailhost_changes:
  description:
    - The change item by item, in the change report's shape (C(component), C(kind), C(item), C(before), C(after),
      C(note)) - the jail file, and the service's start, reload or enabling.
  returned: always
  type: list
  elements: dict
"""

import os
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._changes import entry
from ansible_collections.mailops.mailhost.plugins.module_utils._fail2ban import candidate_problem, inside, live_action
from ansible_collections.mailops.mailhost.plugins.module_utils._files import file_diff, read_text, write_atomic
from ansible_collections.mailops.mailhost.plugins.module_utils._host import pauses, run, words

MODE = 0o644


def attributes_differ(path: str) -> bool:
    """Whether an existing file is not root:root 0644."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    return stat.S_IMODE(st.st_mode) != MODE or st.st_uid != 0 or st.st_gid != 0


class Fail2ban:
    def __init__(self, module: AnsibleModule):
        self.module = module
        self.systemctl = module.get_bin_path("systemctl", required=True)
        self.client = module.get_bin_path("fail2ban-client", required=True)
        self.service = module.params["service"]

    def state(self, what: str) -> str:
        return run(self.module, [self.systemctl, what, self.service])[1].strip()

    def bring_live(self, action: str) -> str | None:
        """Start or reload, then wait until the server answers; a problem or None."""
        rc, out, err = run(self.module, [self.systemctl, action, self.service])
        if rc != 0:
            return f"systemctl {action} {self.service} failed: {words(out, err)}"
        deadline, wait = time.monotonic() + 30, pauses()
        while time.monotonic() < deadline:
            if self.state("is-active") == "active" and run(self.module, [self.client, "ping"])[0] == 0:
                return None
            time.sleep(next(wait))
        return f"{self.service} does not answer 30 s after the {action} (systemctl says {self.state('is-active')})"


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/fail2ban/jail.d/mailops-mailhost.local"},
            "content": {"type": "str", "required": True},
            "config_dir": {"type": "path", "default": "/etc/fail2ban"},
            "service": {"type": "str", "default": "fail2ban"},
            "enabled": {"type": "bool", "default": True},
            "pending_mark": {"type": "path", "default": "/var/lib/mailops-mailhost/fail2ban-pending"},
        },
        supports_check_mode=True,
    )
    p = module.params
    if not inside(p["path"], p["config_dir"]):
        module.fail_json(msg=f"path must be a file inside config_dir ({p['config_dir']}): {p['path']}")
    if "\0" in p["content"]:
        module.fail_json(msg="content must not contain NUL")
    host = Fail2ban(module)
    before = read_text(p["path"], errors="replace")
    write = before != p["content"]
    fix_attributes = not write and attributes_differ(p["path"])
    pending = os.path.exists(p["pending_mark"])
    active = host.state("is-active") == "active"
    enable = p["enabled"] and host.state("is-enabled") != "enabled"
    action = live_action(active, write or pending)
    result = {
        "changed": write or fix_attributes or action != "none" or enable,
        "action": action,
        "written": write,
        "enabled_now": False,
        "mailhost_changes": changes(p, before, write, fix_attributes, active, action, pending, enable),
    }
    if module._diff and write:
        result["diff"] = file_diff(p["path"], before, p["content"])
    if write:
        problem = candidate_problem(
            lambda argv: run(module, argv), host.client, p["config_dir"], p["path"], p["content"]
        )
        if problem:
            module.fail_json(msg=f"fail2ban refused the new jails, nothing was written: {problem}", **result)
    if module.check_mode:
        module.exit_json(**result)
    try:
        if write:
            os.makedirs(os.path.dirname(p["pending_mark"]), mode=0o755, exist_ok=True)
            write_atomic(p["pending_mark"], "", 0o600)  # before the file: a kill after it still reloads
            write_atomic(p["path"], p["content"], MODE, 0, 0)
        elif fix_attributes:
            os.chown(p["path"], 0, 0)
            os.chmod(p["path"], MODE)
    except OSError as exc:
        module.fail_json(msg=f"writing {p['path']} failed: {exc}; the previous file is in place", **result)
    if action != "none":
        problem = host.bring_live(action)
        if problem:
            back = _put_back(module, host, p, before, write)
            module.fail_json(msg=f"the fail2ban change did not come live: {problem}. {back}", **result)
    if os.path.exists(p["pending_mark"]):
        os.unlink(p["pending_mark"])
    if enable:
        rc, out, err = run(module, [host.systemctl, "enable", p["service"]])
        if rc != 0:
            module.fail_json(msg=f"the jails are live, but systemctl enable {p['service']} failed: {words(out, err)}")
        result["enabled_now"] = True
    module.exit_json(**result)


def changes(p: dict, before, write: bool, fix_attributes: bool, active: bool, action: str, pending: bool, enable: bool):
    """The change item by item, in the change report's shape (module_utils/_changes)."""
    found = []
    if write:
        found.append(entry("fail2ban", "file", p["path"], "present" if before is not None else None, "changed"))
    elif fix_attributes:
        found.append(entry("fail2ban", "file", p["path"], "other mode or owner", "0644 root:root"))
    if action != "none":
        why = "the jails a killed run wrote" if pending and not write else ""
        found.append(entry("fail2ban", "unit", p["service"], "running" if active else "stopped", action, why))
    if enable:
        found.append(entry("fail2ban", "unit", p["service"], "disabled at boot", "enabled"))
    return found


def _put_back(module: AnsibleModule, host: Fail2ban, p: dict, before: str | None, written: bool) -> str:
    """The previous jail file back (or none, where there was none), and fail2ban live on it; what happened."""
    if not written:
        return "The jail file was not changed."
    try:
        if before is None:
            os.unlink(p["path"])
        else:
            write_atomic(p["path"], before, MODE, 0, 0)
    except OSError as exc:
        return f"Putting the previous jail file back failed: {exc}."
    again = host.bring_live("reload" if host.state("is-active") == "active" else "start")
    if again is None:
        os.unlink(p["pending_mark"])
        return "The previous jail file was put back and fail2ban runs on it."
    return f"The previous jail file was put back, but fail2ban did not come back: {again}."


if __name__ == "__main__":
    main()
