# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One call learns what the roles need from the host: see plugins/modules/mailhost_facts.py.

With ``roles``, each role's request (``__ROLE_facts`` in its vars/main.yml: packages, services,
paths, files to describe...) is read on the controller and merged, so that the whole stack asks
in one module call and each role keeps its list in one place.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.module_utils._platform import vars_files
from ansible_collections.mailops.mailhost.plugins.module_utils._service_hold import POLICY_RC_D, is_ours
from ansible_collections.mailops.mailhost.plugins.plugin_utils._stack import Stack, evaluate, role_names, scoped_templar

MODULE = "mailops.mailhost.mailhost_facts"
LISTS = ("packages", "paths", "services", "repos", "x509", "digests", "contents", "dkim_keys", "passwd_files")


def merged(requests: list[dict]) -> dict[str, list]:
    """The lists of several requests, each item once, in the order first asked."""
    out: dict[str, list] = {key: [] for key in LISTS}
    for request in requests:
        for key in LISTS:
            for item in request.get(key) or []:
                if item not in out[key]:
                    out[key].append(item)
    return out


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        super().run(tmp, task_vars)
        args = dict(self._task.args)
        roles = list(args.pop("roles", None) or [])
        overrides = dict(args.pop("overrides", None) or {})
        unknown = [r for r in roles if r not in role_names()]
        if unknown:
            raise AnsibleError(f"mailhost_facts: no such role in mailops.mailhost: {', '.join(unknown)}")
        requests = [args]
        stack = Stack(self._loader)
        available = stack.available(task_vars, overrides)
        for index, role in enumerate(roles):
            seen = stack.available(task_vars, overrides, role, tuple(roles[:index]))
            scoped = scoped_templar(self._templar, self._loader, {**seen, **stack.role_vars(role)})
            requests.append(evaluate(scoped, f"__{role}_facts") or {})
        result = self._execute_module(MODULE, module_args=merged(requests), task_vars=task_vars)
        if roles and not result.get("failed"):
            result["install"] = self._install_plan(stack, available, roles, result)
        return result

    def _install_plan(self, stack: Stack, available: dict, roles: list[str], facts: dict) -> dict:
        """What the stack installs in one transaction on this platform: repositories first, then packages."""
        host_facts = {**(available.get("ansible_facts") or {}), **facts.get("ansible_facts", {})}
        files = vars_files(host_facts, str(available.get("mailhost_platform_profile") or ""))
        plans = []
        for index, role in enumerate(roles):
            seen = stack.available(available, {}, role, tuple(roles[:index]))
            variables = {**seen, "ansible_facts": host_facts, **stack.role_vars(role, files)}
            scoped = scoped_templar(self._templar, self._loader, variables)
            plans.append(evaluate(scoped, f"__{role}_install") or {})
        installed = {name for name, present in (facts.get("packages") or {}).items() if present}
        enabled = set(facts.get("enabled_repos") or [])
        plan = {"prereq_packages": [], "repos": [], "packages": []}
        for one in plans:
            for key, wanted in plan.items():
                for item in one.get(key) or []:
                    done = item in enabled if key == "repos" else item in installed
                    if not done and item not in wanted:
                        wanted.append(item)
        # the hold on service starts that a killed run left (module_utils/_service_hold.py), when asked
        plan["leftover_hold"] = is_ours((facts.get("texts") or {}).get(POLICY_RC_D))
        return plan
