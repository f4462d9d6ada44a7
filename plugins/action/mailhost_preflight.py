# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-flight of the mail stack, on the controller: see plugins/modules/mailhost_preflight.py."""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.module_utils._platform import vars_files
from ansible_collections.mailops.mailhost.plugins.module_utils._policy import violations
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import format_value, render_param
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_derive import (
    CONSTANTS,
    PLATFORM,
    VARIABLES,
    derive,
)
from ansible_collections.mailops.mailhost.plugins.module_utils._preflight import stack_problems, unknown_variables
from ansible_collections.mailops.mailhost.plugins.plugin_utils._facts import learn, todo
from ansible_collections.mailops.mailhost.plugins.plugin_utils._spec_errors import short_error
from ansible_collections.mailops.mailhost.plugins.plugin_utils._stack import (
    ROLES_DIR,
    Stack,
    evaluate,
    evaluate_all,
    evaluate_together,
    render,
    role_names,
    scoped_templar,
)

# What a role hands the roles after it in the plan (its vars/main.yml), besides its changes.
HANDED = {"certbot": ("__certbot_chain_now",), "opendkim": ("__opendkim_records_now",)}


# A role variable that is one of the role's templates, rendered (roles/*/vars/main.yml).
TEMPLATE_VAR = re.compile(r"^\{\{ lookup\('ansible\.builtin\.template', '([\w.-]+)'\) \}\}$")


def role_templates(role_vars: dict) -> dict[str, str]:
    """The role's variables that are one of its templates, rendered: variable -> template file."""
    found = {}
    for name, value in role_vars.items():
        match = TEMPLATE_VAR.match(value) if isinstance(value, str) else None
        if match:
            found[name] = match.group(1)
    return found


def read_template(role_dir: str, name: str) -> str:
    with open(os.path.join(role_dir, "templates", name), encoding="utf-8") as handle:
        return handle.read()


def provisioned(host) -> bool:
    """Whether the facts call found a main.cf (the host was provisioned before)."""
    return isinstance(host, dict) and (host.get("texts") or {}).get("/etc/postfix/main.cf") is not None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        roles = list(args.get("roles") or [])
        unknown_roles = [r for r in roles if r not in role_names()]
        if unknown_roles:
            raise AnsibleError(f"mailhost_preflight: no such role in mailops.mailhost: {', '.join(unknown_roles)}")
        if args.get("learn") is not None and args.get("host") is not None:
            raise AnsibleError("mailhost_preflight: learn and host are mutually exclusive (learn makes the facts call)")
        stack = Stack(self._loader)
        overrides = dict(args.get("overrides") or {})
        host = args.get("host")
        if args.get("learn") is not None:
            # the one facts call (mailops.mailhost.mailhost_facts), in this task: one task per host
            host = learn(self, stack, task_vars, overrides, roles, dict(args["learn"] or {}))
            if host.get("failed") or host.get("unreachable"):
                return {**host, "msg": f"the facts call failed: {host.get('msg', '')}"}
            result["host"] = host
            if host.get("ansible_facts"):
                # the platform and fqdn it learned, seen by the values below (postfix_myhostname's
                # default is the host's fqdn) and set as the host's facts, as the facts module sets them
                result["ansible_facts"] = host["ansible_facts"]
                task_vars = {
                    **task_vars,
                    "ansible_facts": {**(task_vars.get("ansible_facts") or {}), **host["ansible_facts"]},
                }
        if boolean(args.get("require_provisioned", False), strict=False) and not provisioned(host):
            result.update(
                failed=True,
                msg=f"{task_vars.get('inventory_hostname', 'this host')} has no /etc/postfix/main.cf:"
                " provision it with playbooks/provision.yml first",
            )
            return result
        order = ["mailhost", *roles]

        def templar_for(role: str):
            available = stack.available(task_vars, overrides, role, tuple(order[: order.index(role)]))
            return available, scoped_templar(self._templar, self._loader, available)

        problems: list[str] = []
        values: dict = {}
        resolved: dict[str, dict] = {}
        for role in order:
            _available, templar = templar_for(role)
            resolved[role], errors = self._resolve(templar, stack.options(role))
            problems += errors
            validated, spec_errors = self._validate(stack.options(role), resolved[role])
            problems += spec_errors
            values.update(validated)
        rendered = {}
        changes, change_problems = None, []
        if not problems:  # the rules read values of the right types only
            params: dict[str, str] = {}
            derived = None
            if host:
                # what each role would change, and the postfix role's parameters, from one evaluation
                changes, change_problems, derived = self._changes(stack, task_vars, overrides, roles, host, resolved)
            if "postfix" in roles:
                available, templar = templar_for("postfix")
                available.update(resolved["postfix"])
                params, rendered, postfix_problems = self._postfix(stack, templar, available, task_vars, args, derived)
                problems += postfix_problems
            problems += stack_problems(values, roles, params)
        if not args.get("allow_unknown", False):
            present = [name for name in task_vars if isinstance(name, str)]
            problems += unknown_variables(present, stack.known_variables())

        if not problems and changes is not None:
            result["changes"] = changes
            problems += change_problems
            if isinstance(host.get("install"), dict):
                result["todo"] = todo(changes, host["install"])
        result.update(changed=False, roles=roles, problems=problems)
        if args.get("render") and not problems:
            result["files"] = rendered
        if problems:
            result["failed"] = True
            result["msg"] = (
                f"the pre-flight refused the configuration of {task_vars.get('inventory_hostname', 'this host')} "
                f"before any host was touched ({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n"
                + "\n".join(problems)
            )
        else:
            result["msg"] = f"pre-flight passed for {', '.join(roles)}"
        return result

    def _changes(self, stack: Stack, task_vars: dict, overrides: dict, roles: list[str], host: dict, resolved: dict):
        """What each role would change on the host, from the one facts call (its __ROLE_changes), and
        what the postfix role derives (None where it could not be computed).

        The roles are evaluated in the order they run, each with what the ones before hand it: the
        certificate certbot keeps in service and opendkim's signing keys as the host has them now.
        Each role sees its own options as the pre-flight resolved them (their templates are not
        rendered again), and not the 'vars' mapping, which no role reads and which each template
        lookup would copy.
        """
        facts = {**(task_vars.get("ansible_facts") or {}), **(host.get("ansible_facts") or {})}
        try:
            files = vars_files(facts, str(task_vars.get("mailhost_platform_profile") or ""))
        except ValueError as exc:  # an unknown profile: the postfix role's check names it too
            return {}, [str(exc)], None
        handed = {"mailhost_host": host, "ansible_facts": facts}
        changes, problems, derived = {}, [], None
        for index, role in enumerate(roles):
            role_dir = os.path.join(ROLES_DIR, role)
            available = stack.available(
                task_vars, {**overrides, **resolved.get(role, {}), **handed}, role, ("mailhost", *roles[:index])
            )
            available.pop("vars", None)
            role_vars = stack.role_vars(role, files)
            own = {**available, **role_vars, "role_path": role_dir, "ansible_search_path": [role_dir]}
            if f"__{role}_host" in role_vars:
                # the role's view of the facts call (mailhost_host when the stack hands it over), which
                # its templates would otherwise render again wherever one of its values reads it
                own[f"__{role}_host"] = host
            scoped = scoped_templar(self._templar, self._loader, own)
            # what a role hands the ones after it comes from the same values: one template for all
            names = [f"__{role}_changes", *HANDED.get(role, ())]
            try:
                if role == "postfix":
                    # computed in Python from the resolved values, then seen by the role's own templates
                    derived = self._derive_postfix(scoped, available)
                    own["__postfix_derived"] = derived
                    scoped = scoped_templar(self._templar, self._loader, own)
                # the role's templates rendered here, as the template lookup renders them, without
                # its deep copy of every variable (the largest cost of the pre-flight after Jinja's)
                templates = role_templates(role_vars)
                if templates:
                    own.update(
                        (name, render(scoped, read_template(role_dir, file))) for name, file in templates.items()
                    )
                    scoped = scoped_templar(self._templar, self._loader, own)
                found = evaluate_all(scoped, names)
                changes[role] = list(found[names[0]] or [])
                if role == "certbot":
                    handed["postfix_tls_chain_files"] = found["__certbot_chain_now"]
                if role == "opendkim":
                    handed["postfix_probe_dkim"] = [r for r in found["__opendkim_records_now"] if r.get("signing")]
            except Exception as exc:  # noqa: BLE001 - reported, naming the role
                problems.append(f"{role}: what would change cannot be computed: {' '.join(str(exc).split())[:300]}")
        return changes, problems, derived

    @staticmethod
    def _resolve(templar, spec: dict) -> tuple[dict, list[str]]:
        """The effective value of every option (inventory, then the role's default), templated."""
        names = [name for name in spec if name in templar.available_variables]
        together = evaluate_together(templar, names)
        if together is not None:
            return together, []
        values, errors = {}, []
        for name in names:
            try:
                values[name] = evaluate(templar, name)
            except Exception as exc:  # noqa: BLE001 - any templating error is reported, naming the variable
                message = " ".join(str(getattr(exc, "message", exc)).split())
                errors.append(f"{name}: cannot be evaluated ({message[:200]}); set it in the inventory")
        return values, errors

    @staticmethod
    def _validate(spec: dict, values: dict) -> tuple[dict, list[str]]:
        """The role's argument spec, as Ansible checks it when the role starts; one short line per error."""
        spec = {name: {k: v for k, v in option.items() if k != "default"} for name, option in spec.items()}
        validator = ArgumentSpecValidator(spec)
        try:
            outcome = validator.validate(values, validate_role_argument_spec=True)
        except TypeError:  # ansible-core before 2.15
            outcome = validator.validate(values)
        problems = [short_error(err, values) for err in outcome.errors]
        return outcome.validated_parameters, [p for p in problems if p]

    def _postfix(self, stack: Stack, templar, available: dict, task_vars: dict, args: dict, derived=None):
        """What the postfix role will write: main.cf parameters, master.cf, and the policy's verdict.

        available: what the role sees, its own options as resolved; derived: what _changes computed
        for the postfix role on this host (then not computed again)."""
        scoped = None
        if derived is None or args.get("render"):  # the role's own values: from its vars files
            facts = dict(task_vars.get("ansible_facts") or {})
            platform = args.get("platform") or ""
            if platform and not facts.get("os_family"):
                family, _sep, major = str(platform).partition("_")
                facts.update(os_family=family, distribution_major_version=major)
            try:
                files = vars_files(facts, str(available.get("mailhost_platform_profile") or ""))
            except ValueError as exc:
                return {}, {}, [str(exc)]
            scoped = scoped_templar(templar, self._loader, {**available, **stack.role_vars("postfix", files)})
        if derived is None:
            try:
                derived = self._derive_postfix(scoped, available)
            except Exception as exc:  # noqa: BLE001 - reported as the pre-flight's problem, naming the role
                return (
                    {},
                    {},
                    [f"postfix: the role's parameters cannot be computed: {' '.join(str(exc).split())[:300]}"],
                )
        params = {str(k): format_value(v) for k, v in derived["params"].items()}
        services = {
            str(svc): {str(k): format_value(v) for k, v in (opts or {}).items()}
            for svc, opts in derived["services"].items()
        }
        problems = violations(params, services, derived["policy_options"], derived["policy_names"])
        rendered = {}
        if args.get("render"):
            scoped = scoped_templar(scoped, self._loader, {**scoped.available_variables, "__postfix_derived": derived})
            master = render(scoped, read_template(os.path.join(ROLES_DIR, "postfix"), "master.cf.j2"))
            main = [f"# main.cf parameters of mailops.mailhost.postfix for {task_vars.get('inventory_hostname')}"]
            main += ["# (the distribution's installation paths, which the role keeps, are not shown)"]
            for name in sorted(params):
                main += render_param(name, params[name])
            rendered = {"main.cf": "\n".join(main) + "\n", "master.cf": master}
        return params, rendered, problems

    @staticmethod
    def _derive_postfix(scoped, available: dict) -> dict:
        """What the postfix role derives (module_utils/_postfix_derive.py): its constants and the
        platform's data from its vars files (one template), its variables as the pre-flight resolved them."""
        inputs = evaluate_all(scoped, CONSTANTS + PLATFORM)
        inputs.update((name, available[name]) for name in VARIABLES if name in available)
        return derive(inputs)
