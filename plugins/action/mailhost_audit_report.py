# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the audit report of a run (JSON, JUnit XML, Markdown) on the controller; fails when a check failed.

Each host's checks are read from the host variable the audit set (``checks_var``, built by the
mailhost_audit_checks filter); a host without it (the play lost it before) is reported as a failed
check. The files are written whole and renamed into place, so a scheduler or CI reading them never
sees half a report, even when two audits run at once.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.module_utils._files import write_atomic
from ansible_collections.mailops.mailhost.plugins.plugin_utils._action_args import check_known
from ansible_collections.mailops.mailhost.plugins.plugin_utils._audit_report import (
    as_json,
    as_junit,
    as_markdown,
    build,
    check,
    testcase_name,
)

FILES = {"json": "mailhost-audit.json", "junit": "mailhost-audit.xml", "markdown": "mailhost-audit.md"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dir", "hosts", "checks_var", "started"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        check_known(args, self._VALID_ARGS)
        directory = args.get("dir")
        hosts = args.get("hosts")
        if not isinstance(directory, str) or not directory.strip():
            raise AnsibleActionFail("dir: the directory the reports are written to is required (mailhost_audit_dir)")
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise AnsibleActionFail("hosts: a list of inventory host names is required")
        var = args.get("checks_var", "__mailhost_audit_checks")
        hostvars = task_vars.get("hostvars", {})
        per_host = {}
        for host in hosts:
            try:
                found = hostvars[host].get(var) if host in hostvars else None
            except Exception as exc:  # noqa: BLE001 - a host's variables that cannot be templated
                found = [check("audit", "fail", f"the host's checks cannot be read: {exc}")]
            if not isinstance(found, list):
                found = [check("audit", "fail", "the audit did not reach this host's report step (it failed earlier)")]
            per_host[host] = found
        try:
            started = datetime.fromisoformat(str(args.get("started", "")).replace("Z", "+00:00"))
        except ValueError:
            started = datetime.now(timezone.utc)
        report = build(per_host, started, datetime.now(timezone.utc))
        directory = os.path.abspath(os.path.expanduser(directory))
        try:
            os.makedirs(directory, exist_ok=True)
            for kind, text in (
                ("json", as_json(report)),
                ("junit", as_junit(report)),
                ("markdown", as_markdown(report)),
            ):
                write_atomic(os.path.join(directory, FILES[kind]), text, 0o644, os.getuid(), os.getgid())
        except OSError as exc:
            raise AnsibleActionFail(
                f"dir: cannot write the audit reports to {directory}: {exc.strerror or exc}"
            ) from exc
        paths = {kind: os.path.join(directory, name) for kind, name in FILES.items()}
        failures = [c for c in report["checks"] if c["status"] == "fail"]
        counts = report["counts"]
        result.update(
            changed=False,
            files=paths,
            counts=counts,
            failed_checks=[f"{c['host']}: {testcase_name(c)}" for c in failures],
        )
        summary = (
            f"{counts['fail']} failed, {counts['warn']} warning(s), {counts['skipped']} skipped,"
            f" {counts['pass']} passed on {len(hosts)} host(s); reports in {directory}"
        )
        if failures:
            result["failed"] = True
            result["msg"] = (
                "the audit failed: "
                + "; ".join(f"{c['host']}: {testcase_name(c)}: {c['message']}" for c in failures[:20])
                + f" ({summary})"
            )
        else:
            result["msg"] = summary
        return result
