# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack's one facts call, on the controller: what each role asks of the host, merged, and
what the stack installs in one transaction (used by the mailhost_facts and mailhost_preflight
action plugins; the module that runs on the host is plugins/modules/mailhost_facts.py).

Each role keeps its request (``__ROLE_facts`` in its vars/main.yml: packages, services, paths,
files to describe...) and its install step (``__ROLE_install``) in one place.
"""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.module_utils._platform import vars_files
from ansible_collections.mailops.mailhost.plugins.module_utils._service_hold import POLICY_RC_D, is_ours
from ansible_collections.mailops.mailhost.plugins.plugin_utils._stack import Stack, evaluate, scoped_templar

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


def request(stack: Stack, templar, loader, task_vars: dict, overrides: dict, roles: list[str], extra: dict) -> dict:
    """The module arguments of the one facts call: each role's request and the extra lists, merged."""
    requests = [extra]
    for index, role in enumerate(roles):
        seen = stack.available(task_vars, overrides, role, tuple(roles[:index]))
        scoped = scoped_templar(templar, loader, {**seen, **stack.role_vars(role)})
        requests.append(evaluate(scoped, f"__{role}_facts") or {})
    return merged(requests)


def install_plan(stack: Stack, templar, loader, available: dict, roles: list[str], facts: dict) -> dict:
    """What the stack installs in one transaction on this platform: repositories first, then packages."""
    host_facts = {**(available.get("ansible_facts") or {}), **facts.get("ansible_facts", {})}
    files = vars_files(host_facts, str(available.get("mailhost_platform_profile") or ""))
    plans = []
    for index, role in enumerate(roles):
        seen = stack.available(available, {}, role, tuple(roles[:index]))
        variables = {**seen, "ansible_facts": host_facts, **stack.role_vars(role, files)}
        scoped = scoped_templar(templar, loader, variables)
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


LEFTOVER_HOLD = f"remove the hold on service starts ({POLICY_RC_D}) that a killed run left"


def todo(changes: dict, install: dict) -> list[str]:
    """Everything a run would change: each role's reasons, then what the one package transaction
    installs (prerequisites, repositories, packages) and a hold a killed run left; empty: nothing."""
    found = [reason for reasons in changes.values() for reason in reasons or []]
    for key in ("prereq_packages", "repos", "packages"):
        found += list(install.get(key) or [])
    if install.get("leftover_hold"):
        found.append(LEFTOVER_HOLD)
    return found


def learn(action, stack: Stack, task_vars: dict, overrides: dict, roles: list[str], extra: dict) -> dict:
    """The one facts call for these roles, from an action plugin, with the install plan (result 'install')."""
    args = request(stack, action._templar, action._loader, task_vars, overrides, roles, extra)
    result = action._execute_module(MODULE, module_args=args, task_vars=task_vars)
    if roles and not result.get("failed"):
        available = stack.available(task_vars, overrides)
        result["install"] = install_plan(stack, action._templar, action._loader, available, roles, result)
    return result
