#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postfix_reload
short_description: Bring a Postfix configuration live safely - check, reload or restart, probe, roll back
version_added: 0.1.0
description:
  - Runs C(postfix check) first (Postfix's own words are carried into any failure), then reloads a running Postfix,
    starts a stopped one, or restarts it when asked (a reload does not apply C(inet_interfaces), C(inet_protocols)
    or new listeners), and waits until the master logs that it is done.
  - "Then probes what only shows when mail flows: every smtpd listener of master.cf (25, 587, 465 and any other)
    must greet, start TLS where it requires it and offer AUTH where SASL is on; with O(probe_delivery), a message is
    submitted on loopback, held until its DKIM signatures (O(probe_dkim)) have been checked against the host's own
    public keys, released to a local alias that delivers to C(/dev/null), and must be delivered within O(timeout)."
  - The journal gate reads Postfix's log from a cursor taken before the action to the end of the probes; any
    C(error), C(fatal) or C(panic) line fails the change.
  - When any step fails and O(rollback_dir) is given (the RV(mailops.mailhost.postconf#module:backup) of the
    change), the previous files are put back (also those of O(rollback_extra), for example opendkim's), maps are
    recompiled, Postfix (and the services those generations name) restarted on that configuration and probed again;
    the task still fails, with the probe's own evidence. A running Postfix is never left stopped; queued mail is
    never touched (the probe removes only its own message).
  - On success the pending mark of the change (see M(mailops.mailhost.postconf)) is cleared, so that a later run
    knows the files on disk are live, and old rollback generations beyond O(keep_generations) are removed.
author:
  - mailops.mailhost contributors (@mailops)
options:
  state:
    description:
      - V(reloaded) brings a changed configuration live (reload, or start when stopped, or restart with O(restart)).
      - V(started) only makes sure Postfix runs. A stopped Postfix is started (with the same checks), a running
        one is left alone (probed only with O(verify)) and nothing is reported changed.
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
    description: The rollback generation of the change, to restore when bringing it live fails.
    type: path
  rollback_extra:
    description:
      - Further rollback generations restored with O(rollback_dir) when the probes fail, for example the opendkim
        change of the same run (its manifest names the service to restart).
    type: list
    elements: path
    default: []
  verify:
    description: Run the probes even when there is nothing to reload (another component of the mail path changed).
    type: bool
    default: false
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
    description: After acting, probe every smtpd listener of master.cf (greeting, TLS, AUTH).
    type: bool
    default: true
  probe_delivery:
    description: After acting, send a probe message through the mail path and expect it delivered.
    type: bool
    default: false
  probe_recipient:
    description:
      - Local address of the probe; it must be an alias delivering to C(/dev/null) (the postfix role writes one).
        Default C(mailhost-probe@) followed by C(myhostname).
    type: str
  probe_dkim:
    description:
      - Signing domains whose DKIM signature the probe must carry and verify, each with the public key it must verify
        against (the base64 C(p=) value, as M(mailops.mailhost.dkim_keys) returns it). A probe is sent from
        C(mailhost-probe@DOMAIN) for each.
    type: list
    elements: dict
    default: []
    suboptions:
      domain:
        description: The signing domain.
        type: str
        required: true
      public_key:
        description: The public key, base64 (the C(p=) value of the DKIM record).
        type: str
        required: true
  timeout:
    description: Seconds to wait for the master's completion line and for the probe message's delivery.
    type: float
    default: 30
  keep_generations:
    description: Rollback generations kept in the backup directory (the newest); older ones are removed after a success.
    type: int
    default: 10
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
- name: Reload Postfix after a change, probing listeners and delivery, rolling back on failure
  mailops.mailhost.postfix_reload:
    restart: "{{ __postfix_conf.restart_required }}"
    rollback_dir: "{{ __postfix_conf.backup }}"
    probe_delivery: true

- name: Make sure Postfix runs and starts at boot, without reloading it
  mailops.mailhost.postfix_reload:
    state: started
    enabled: true
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
  description: Postfix error, fatal and panic lines logged from the action to the end of the probes.
  returned: always
  type: list
  elements: str
probes:
  description: What was probed (each listener, each probe message) and the outcome.
  returned: always
  type: list
  elements: dict
findings:
  description: Findings of C(postfix check).
  returned: always
  type: list
  elements: dict
enabled_changed:
  description: Whether the boot-time state of the unit was changed.
  returned: always
  type: bool
mailhost_changes:
  description: The action taken (or to take, in check mode) in the change report's shape (see M(mailops.mailhost.postconf)).
  returned: always
  type: list
  elements: dict
rolled_back:
  description: Whether the previous configuration was restored and brought live.
  returned: always
  type: bool
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback
from ansible_collections.mailops.mailhost.plugins.module_utils._changes import action_entry, entry
from ansible_collections.mailops.mailhost.plugins.module_utils._dkim_verify import (
    DkimError,
    public_key_pem,
    signed_data,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._host import pauses, run
from ansible_collections.mailops.mailhost.plugins.module_utils._names import hostname_problem, single_line_problem
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import parse_master_cf
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_runtime import (
    decide_action,
    errors_in,
    journal_entries,
    parse_cursor,
    probe_address,
    queue_size,
    went_live,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_validate import postfix_check
from ansible_collections.mailops.mailhost.plugins.module_utils._probe import (
    PROBE_LOCAL_PART,
    delivery_outcome,
    listeners,
    new_token,
    probe_listener,
    probe_message,
    stale_probes,
    submit,
)


class Postfix:
    """The Postfix commands, systemd and the journal on the host."""

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

    def params(self, *names: str) -> dict[str, str]:
        rc, out, _err = self.run([self.postconf, "-c", self.p["config_dir"], "-x", *names])
        values = {}
        for line in out.splitlines() if rc == 0 else []:
            name, _sep, value = line.partition("=")
            values[name.strip()] = value.strip()
        return values

    def tool(self, name: str) -> str:
        return self.module.get_bin_path(name, required=True)

    # --- the journal ------------------------------------------------------------------------

    def cursor(self) -> str:
        if not self.journalctl:
            return ""
        return parse_cursor(self.run([self.journalctl, "-n", "0", "--show-cursor", "-q", "--no-pager"])[1])

    def since(self, cursor: str) -> list[tuple[str, int, str]]:
        """Postfix's journal entries after the cursor."""
        if not self.journalctl or not cursor:
            return []
        rc, out, _err = self.run([self.journalctl, "--after-cursor", cursor, "-o", "json", "-q", "--no-pager"])
        return journal_entries(out) if rc == 0 else []

    # --- acting -----------------------------------------------------------------------------

    def act(self, action: str, cursor: str) -> str | None:
        """Run the action and wait until the master says it is done; a problem or None."""
        rc, out, err = self.run([self.systemctl, action, self.p["service"]])
        if rc != 0:
            return f"systemctl {action} {self.p['service']} failed: {err.strip() or out.strip()}"
        deadline, wait = time.monotonic() + self.p["timeout"], pauses(most=0.3)
        verb = "reload" if action == "reload" else "start"
        while time.monotonic() < deadline:
            if self.running() and (not cursor or went_live(self.since(cursor), verb)):
                return None
            time.sleep(next(wait))
        if not self.running():
            return f"Postfix is not running after systemctl {action} {self.p['service']}"
        return f"the Postfix master did not log that the {action} was done within {self.p['timeout']:g} s"

    def set_enabled(self, enabled: bool, result: dict) -> None:
        verb = "enable" if enabled else "disable"
        rc, out, err = self.run([self.systemctl, verb, self.p["service"]])
        if rc != 0:
            self.module.fail_json(
                msg=f"systemctl {verb} {self.p['service']} failed: {err.strip() or out.strip()}", **result
            )


# --- probes ----------------------------------------------------------------------------------


def probe_listeners(pf: Postfix, result: dict) -> str | None:
    """Every smtpd listener greets, speaks TLS where required and offers AUTH where SASL is on."""
    if not pf.p["probe"]:
        return None
    with open(os.path.join(pf.p["config_dir"], "master.cf"), encoding="utf-8") as handle:
        services = parse_master_cf(handle.read())
    params = pf.params("inet_interfaces", "myhostname", "smtpd_tls_security_level", "smtpd_sasl_auth_enable")
    host = probe_address(params.get("inet_interfaces", "all"))
    for listener in listeners(services, params, host):
        problem = probe_listener(listener, params.get("myhostname", "localhost"), timeout=min(10.0, pf.p["timeout"]))
        result["probes"].append({"probe": listener.label, "ok": problem is None, "problem": problem or ""})
        if problem:
            return problem
    return None


def queue_command(pf: Postfix, tool: str, *args: str) -> None:
    pf.run([pf.tool(tool), "-c", pf.p["config_dir"], *args])


def message_text(pf: Postfix, queue_id: str) -> bytes:
    rc, out, _err = pf.run([pf.tool("postcat"), "-c", pf.p["config_dir"], "-bh", "-q", queue_id])
    return out.encode("utf-8", "surrogateescape") if rc == 0 else b""


def rsa_verifies(pf: Postfix, public_key: str, signature: bytes, data: bytes) -> bool:
    with tempfile.TemporaryDirectory(prefix="mailhost-probe-") as work:
        paths = {name: os.path.join(work, name) for name in ("key.pem", "sig", "data")}
        for name, content in (("key.pem", public_key_pem(public_key).encode()), ("sig", signature), ("data", data)):
            with open(paths[name], "wb") as handle:
                handle.write(content)
        argv = [
            pf.tool("openssl"),
            "dgst",
            "-sha256",
            "-verify",
            paths["key.pem"],
            "-signature",
            paths["sig"],
            paths["data"],
        ]
        rc, out, _err = pf.run(argv)
    return rc == 0 and "Verified OK" in out


def remove_stale_probes(pf: Postfix) -> None:
    """Probe messages of a run or an audit killed while they were held (a young one may still be read)."""
    rc, out, _err = pf.run([pf.tool("postqueue"), "-c", pf.p["config_dir"], "-j"])
    for queue_id in stale_probes(out, time.time()) if rc == 0 else []:
        pf.run([pf.tool("postsuper"), "-c", pf.p["config_dir"], "-d", queue_id, "hold"])


def probe_delivery(pf: Postfix, cursor: str, result: dict) -> str | None:
    """A message per signing domain (or one plain one), held, checked, released and delivered."""
    if not pf.p["probe_delivery"]:
        return None
    remove_stale_probes(pf)
    params = pf.params("myhostname", "inet_interfaces")
    helo = params.get("myhostname", "localhost")
    recipient = pf.p["probe_recipient"] or f"{PROBE_LOCAL_PART}@{helo}"
    host = probe_address(params.get("inet_interfaces", "all"))
    with open(os.path.join(pf.p["config_dir"], "master.cf"), encoding="utf-8") as handle:
        smtp = [lst for lst in listeners(parse_master_cf(handle.read()), {}, host) if lst.service == "smtp/inet"]
    if not smtp:
        result["probes"].append(
            {"probe": "delivery", "ok": True, "problem": "skipped: master.cf has no smtp/inet service"}
        )
        return None
    plan = [(d["domain"], d["public_key"]) for d in pf.p["probe_dkim"]] or [(helo, "")]
    queued = []
    try:
        for domain, key in plan:
            token = new_token()
            sender = f"{PROBE_LOCAL_PART}@{domain}"
            queue_id, refusal = submit(
                smtp[0].host, smtp[0].port, helo, sender, recipient, probe_message(sender, recipient, token, helo)
            )
            label = f"delivery from {sender}"
            if refusal:
                result["probes"].append({"probe": label, "ok": False, "problem": refusal})
                return f"the probe message from {sender} was not accepted: {refusal}"
            queued.append(queue_id)
            problem = check_signature(pf, queue_id, domain, key) if key else None
            if problem:
                result["probes"].append({"probe": label, "ok": False, "problem": problem, "queue_id": queue_id})
                return f"the probe message {queue_id} from {sender}: {problem}"
            queue_command(pf, "postsuper", "-H", queue_id)
            queue_command(pf, "postqueue", "-i", queue_id)
            result["probes"].append({"probe": label, "ok": True, "problem": "", "queue_id": queue_id})
        return wait_delivered(pf, cursor, queued, result)
    finally:
        for queue_id in queued:  # only the probe's own messages; a delivered one is gone already
            pf.run([pf.tool("postsuper"), "-c", pf.p["config_dir"], "-d", queue_id])


def check_signature(pf: Postfix, queue_id: str, domain: str, public_key: str) -> str | None:
    deadline, wait = time.monotonic() + pf.p["timeout"], pauses(most=0.2)
    text = message_text(pf, queue_id)
    while not text and time.monotonic() < deadline:  # cleanup may still be writing the queue file
        time.sleep(next(wait))
        text = message_text(pf, queue_id)
    if not text:
        return "the held probe message cannot be read from the queue (was it held? is the HOLD rule in place?)"
    try:
        data, signature, tags = signed_data(text, domain)
    except DkimError as exc:
        return f"DKIM: {exc}"
    if not rsa_verifies(pf, public_key, signature, data):
        return (
            f"DKIM: the signature of d={domain}, s={tags.get('s', '?')} does not verify against the host's public key"
        )
    return None


def wait_delivered(pf: Postfix, cursor: str, queued: list[str], result: dict) -> str | None:
    deadline, wait = time.monotonic() + pf.p["timeout"], pauses(most=0.3)
    pending = list(queued)
    while pending:
        entries = pf.since(cursor)
        lines = [f"{i}: {m}" for i, _p, m in entries]
        for queue_id in list(pending):
            status, evidence = delivery_outcome(lines, queue_id)
            if status == "sent":
                pending.remove(queue_id)
            elif status is not None or time.monotonic() >= deadline:
                fatal = [line for line in errors_in(entries) if queue_id not in line]
                shown = "; ".join((evidence + fatal)[-6:]) or "no log line for it"
                reason = f"was {status}" if status else f"was not delivered within {pf.p['timeout']:g} s"
                return f"the probe message {queue_id} {reason}: {shown}"
        if pending:
            time.sleep(next(wait))
    return None


# --- the change ------------------------------------------------------------------------------


def bring_live(pf: Postfix, action: str, result: dict) -> str | None:
    """Check, act, probe, read the journal; the first problem, or None when the change is live and sound."""
    cursor = pf.cursor()
    problem = None
    if pf.p["check"] and action != "none":
        findings = postfix_check(pf.module, pf.p["config_dir"])
        result["findings"] = [f.as_dict() for f in findings]
        blocking = [f.message for f in findings if f.severity in ("error", "fatal", "panic")]
        if blocking:
            return "postfix check failed: " + "; ".join(blocking)
    if action != "none":
        problem = pf.act(action, cursor)
    problem = problem or probe_listeners(pf, result) or probe_delivery(pf, cursor, result)
    result["journal_errors"] = errors_in(pf.since(cursor))
    if problem is None and result["journal_errors"]:
        problem = "Postfix logged errors: " + "; ".join(result["journal_errors"][:5])
    elif problem is not None and result["journal_errors"]:
        logged = [line for line in result["journal_errors"] if line not in problem]
        problem += ("; Postfix logged: " + "; ".join(logged[:3])) if logged else ""
    return problem


def recover(pf: Postfix, was_running: bool, result: dict) -> str:
    """Put the previous configuration back and bring it live; what happened, for the failure message."""
    generations = [g for g in [pf.p["rollback_dir"], *pf.p["rollback_extra"]] if _rollback.has_manifest(g)]
    if generations:
        after = []
        for generation in generations:
            after += _rollback.restore(generation, pf.run)
        for argv in after:
            pf.run(argv)
        result["rolled_back"] = True
        # Restart, not reload: the master keeps throttling a daemon that failed to start
        # across a reload, so only a restart serves the restored configuration at once.
        cursor = pf.cursor()
        again = pf.act("restart" if pf.running() else "start", cursor) or probe_listeners(pf, {"probes": []})
        if again is None:
            if pf.p["rollback_dir"]:
                _rollback.clear_pending(os.path.dirname(os.path.normpath(pf.p["rollback_dir"])))
            return " The previous configuration was restored and is live."
        return f" The previous configuration was restored, but bringing it live failed too: {again}."
    if was_running and not pf.running():
        again = pf.act("start", pf.cursor())
        return " Postfix was started again." if again is None else f" Starting Postfix again failed: {again}."
    return ""


def check_arguments(module: AnsibleModule) -> None:
    """Refuse bad arguments before anything on the host is touched."""
    p = module.params
    if p["timeout"] <= 0 or p["timeout"] > 3600:
        module.fail_json(msg=f"timeout: {p['timeout']} must be more than 0 and at most 3600 seconds")
    if p["keep_generations"] < 1:
        module.fail_json(msg=f"keep_generations: {p['keep_generations']} must be at least 1")
    if p["probe_recipient"] is not None:
        local, _at, domain = p["probe_recipient"].rpartition("@")
        if not local or single_line_problem(p["probe_recipient"]) or hostname_problem(domain, require_dot=False):
            module.fail_json(msg=f"probe_recipient: {p['probe_recipient']!r} must be an address local@domain")
    for index, signer in enumerate(p["probe_dkim"]):
        problem = hostname_problem(signer["domain"])
        if problem:
            module.fail_json(msg=f"probe_dkim[{index}].domain: {signer['domain']!r} {problem}")
        if not signer["public_key"] or not all(c.isalnum() or c in "+/=" for c in signer["public_key"]):
            module.fail_json(msg=f"probe_dkim[{index}].public_key must be the base64 p= value of the DKIM record")
    named = [("rollback_dir", p["rollback_dir"])] + [
        (f"rollback_extra[{i}]", g) for i, g in enumerate(p["rollback_extra"])
    ]
    for name, path in named:
        if path and not _rollback.has_manifest(path):
            module.fail_json(msg=f"{name}: {path} is not a rollback generation (no manifest.json)")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["reloaded", "started"], "default": "reloaded"},
            "enabled": {"type": "bool"},
            "restart": {"type": "bool", "default": False},
            "rollback_dir": {"type": "path"},
            "rollback_extra": {"type": "list", "elements": "path", "default": []},
            "verify": {"type": "bool", "default": False},
            "service": {"type": "str", "default": "postfix"},
            "config_dir": {"type": "path", "default": "/etc/postfix"},
            "check": {"type": "bool", "default": True},
            "probe": {"type": "bool", "default": True},
            "probe_delivery": {"type": "bool", "default": False},
            "probe_recipient": {"type": "str"},
            "probe_dkim": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "domain": {"type": "str", "required": True},
                    "public_key": {"type": "str", "required": True},
                },
            },
            "timeout": {"type": "float", "default": 30.0},
            "keep_generations": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    check_arguments(module)
    pf = Postfix(module)
    queue_dir = pf.params("queue_directory").get("queue_directory") or "/var/spool/postfix"
    was_running = pf.running()
    p = module.params
    action = "none" if p["state"] == "started" and was_running else decide_action(was_running, p["restart"])
    enable = p["enabled"] is not None and pf.is_enabled() != p["enabled"]
    result = {"changed": action != "none" or enable, "action": action, "enabled_changed": enable}
    # postconf names the reload or restart of a change and why; only a start is this module's own news.
    result["mailhost_changes"] = (
        [action_entry("postfix", "start", "Postfix was not running")] if action == "start" else []
    )
    if enable:
        result["mailhost_changes"].append(
            entry("postfix", "unit", p["service"], "disabled", "enabled", "starts at boot")
        )
    result.update(queue_before=queue_size(queue_dir), journal_errors=[], findings=[], probes=[], rolled_back=False)
    if enable and not module.check_mode:
        pf.set_enabled(p["enabled"], result)
    problem = None
    if not module.check_mode and (action != "none" or p["verify"]):
        problem = bring_live(pf, action, result)
    if problem is not None:
        recovery = recover(pf, was_running, result)
        result["queue_after"] = queue_size(queue_dir)
        module.fail_json(msg=problem + recovery, **result)
    if not module.check_mode and p["rollback_dir"]:
        backup_dir = os.path.dirname(os.path.normpath(p["rollback_dir"]))
        _rollback.clear_pending(backup_dir)
        _rollback.prune(backup_dir, p["keep_generations"], protect=(p["rollback_dir"],))
    result["queue_after"] = queue_size(queue_dir)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
