# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: change_report
type: aggregate
short_description: Turn a run of the mail stack (check mode or real) into a plan a reviewer can read
version_added: 0.2.0
description:
  - Writes C(mailhost-plan.md) and C(mailhost-plan.json) at the end of a run - per host and component, every change item
    by item (main.cf parameters old and new, master.cf services by field and C(-o) option, lookup-table entries, DKIM
    keys and tables, the SASL users by name, the fail2ban jail file, packages, services and why, file modes, the action
    Postfix takes and why, DNS records to publish), what differs and why (the pre-flight's reasons), and the hosts that
    failed or could not be reached.
  - Security-relevant changes are listed first - relay permissions, mynetworks, SASL, TLS levels, protocols and ciphers,
    the banner, DKIM keys, the trusted signing hosts, the firewall, fail2ban, and the modes of secret files.
  - Secrets never reach either file - results of C(no_log) tasks are not read, and any private key or password hash
    that could slip into a value is replaced by a placeholder.
  - When C(GITHUB_STEP_SUMMARY) is set (GitHub Actions), the Markdown is appended to it.
  - The modules of mailops.mailhost return their changes in one documented shape (C(mailhost_changes)); other tasks are
    read from their results and diffs.
requirements:
  - Enable it, for example C(ANSIBLE_CALLBACKS_ENABLED=mailops.mailhost.change_report), or in C(ansible.cfg).
options:
  md_path:
    description: Where the Markdown plan is written.
    type: path
    default: mailhost-plan.md
    env:
      - name: MAILHOST_PLAN_MD
    ini:
      - section: mailhost_change_report
        key: md_path
  json_path:
    description: Where the JSON plan is written.
    type: path
    default: mailhost-plan.json
    env:
      - name: MAILHOST_PLAN_JSON
    ini:
      - section: mailhost_change_report
        key: json_path
  title:
    description: The title of the Markdown plan (for example the inventory it is for).
    type: str
    default: Mail host plan
    env:
      - name: MAILHOST_PLAN_TITLE
    ini:
      - section: mailhost_change_report
        key: title
"""

import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.mailops.mailhost.plugins.plugin_utils._report import Report, component_of, render_markdown

FILE_MODULES = ("template", "copy", "file", "lineinfile", "blockinfile")
UNIT_MODULES = ("systemd_service", "systemd", "service")
PACKAGE_MODULES = ("package", "apt", "dnf", "yum")


def _short(action: str) -> str:
    return action.rsplit(".", 1)[-1]


def generic_entries(task, result: dict) -> list[dict]:
    """The change of a task that is not one of the collection's modules, from its arguments and result."""
    if not result.get("changed"):
        return []
    role = task._role.get_name() if task._role else ""
    component = component_of(role)
    action = _short(task.action)
    args = task.args or {}
    hidden = bool(result.get("_ansible_no_log") or task.no_log)
    base = {"component": component, "before": None, "note": task.get_name()}
    if action in FILE_MODULES:
        path = result.get("dest") or result.get("path") or args.get("dest") or args.get("path") or "?"
        if task.delegate_to in ("localhost", "127.0.0.1"):
            base["note"] = "on the controller: " + base["note"]
        after = "(content hidden)" if hidden else "changed"
        return [dict(base, kind="file", item=str(path), after=after)]
    if action in UNIT_MODULES:
        state = ", ".join(f"{k}={args[k]}" for k in ("state", "enabled") if k in args)
        return [dict(base, kind="unit", item=str(args.get("name", "?")), after=state)]
    if action in PACKAGE_MODULES:
        names = args.get("name")
        names = ", ".join(names) if isinstance(names, list) else str(names)
        return [dict(base, kind="package", item=names, after=str(args.get("state", "present")))]
    if action in ("command", "shell"):
        argv = args.get("argv") or str(args.get("_raw_params", "")).split()
        return [dict(base, kind="command", item=" ".join(str(a) for a in argv[:2]), after="run")]
    return [dict(base, kind="task", item=task.get_name(), after="changed")]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "mailops.mailhost.change_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.report = Report(check_mode=bool(context.CLIARGS.get("check", False)))

    def v2_playbook_on_play_start(self, play):
        if getattr(play, "check_mode", False):
            self.report.check_mode = True

    def _collect(self, result, failed: bool = False) -> None:
        host = result._host.get_name()
        data = result._result
        self.report.host(host)
        items = data.get("results") if isinstance(data.get("results"), list) else [data]
        for item in items:
            if not isinstance(item, dict) or item.get("_ansible_no_log") or result._task.no_log:
                if item.get("changed") if isinstance(item, dict) else False:
                    self.report.add_entries(host, generic_entries(result._task, dict(item, _ansible_no_log=True)))
                continue
            if "mailhost_changes" in item:
                self.report.add_entries(host, item.get("mailhost_changes") or [])
            elif _short(result._task.action) == "mailhost_preflight":
                self.report.add_reasons(host, item.get("changes") or {})
            else:
                self.report.add_entries(host, generic_entries(result._task, item))
        if failed and not data.get("_ansible_ignore_errors") and "mailhost_verdict" not in (result._task.tags or []):
            self.report.add_failure(
                host,
                f"{result._task.get_name()}: {data.get('msg', '') if not data.get('_ansible_no_log') else '(hidden)'}",
            )

    def v2_runner_on_ok(self, result):
        self._collect(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._collect(result, failed=True)

    def v2_runner_item_on_ok(self, result):
        pass  # the loop's result (v2_runner_on_ok) carries every item

    def v2_runner_on_unreachable(self, result):
        self.report.add_unreachable(result._host.get_name(), result._result.get("msg", "unreachable"))

    def v2_playbook_on_stats(self, stats):
        md_path = self.get_option("md_path")
        json_path = self.get_option("json_path")
        markdown = render_markdown(self.report, self.get_option("title"))
        for path, text in (
            (md_path, markdown),
            (json_path, json.dumps(self.report.as_json(), indent=1, sort_keys=True) + "\n"),
        ):
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(markdown + "\n")
        self._display.display(f"mailops.mailhost.change_report: wrote {md_path} and {json_path}")
