# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the zone snippet of each domain's DKIM records on the controller, in the worker itself.

No module is sent anywhere: a delegated copy to localhost cost two module runs (about 2 s) and
a second task for the directory. A snippet is written when it is missing, or with ``force`` (the
host's keys changed in this run), so that hosts sharing a domain and a directory do not rewrite
each other's snippet on every run. Check mode reports and writes nothing.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.module_utils._files import write_atomic
from ansible_collections.mailops.mailhost.plugins.plugin_utils._action_args import check_known
from ansible_collections.mailops.mailhost.plugins.plugin_utils._dkim_zone_files import record_problems, zone_snippets


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the host is never contacted
    _VALID_ARGS = frozenset(("dir", "records", "host", "force"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        check_known(args, self._VALID_ARGS)
        directory = args.get("dir")
        if not isinstance(directory, str) or not directory.strip():
            raise AnsibleActionFail("dir: the directory on the controller for the snippets is required")
        problems = record_problems(args.get("records"))
        if problems:
            raise AnsibleActionFail("; ".join(problems))
        host = str(args.get("host") or task_vars.get("inventory_hostname", ""))
        try:
            force = boolean(args.get("force", False), strict=True)
        except TypeError as exc:
            raise AnsibleActionFail(f"force: {exc}") from exc
        directory = os.path.abspath(os.path.expanduser(directory))
        written, diffs = [], []
        try:
            for domain, text in zone_snippets(host, args["records"]).items():
                path = os.path.join(directory, f"{domain}.zone")
                before = None
                if os.path.isfile(path):
                    with open(path, encoding="utf-8") as handle:
                        before = handle.read()
                if before == text or (before is not None and not force):
                    continue
                written.append(path)
                diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": text})
                if not self._task.check_mode:
                    os.makedirs(directory, mode=0o755, exist_ok=True)
                    write_atomic(path, text, 0o644, os.getuid(), os.getgid())
        except OSError as exc:
            raise AnsibleActionFail(
                f"dir: cannot write the DKIM zone snippets to {directory}: {exc.strerror or exc}"
            ) from exc
        result.update(changed=bool(written), files=written)
        if self._task.diff and diffs:
            result["diff"] = diffs
        return result
