# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pre-flight of the mail stack, on the controller: see plugins/modules/mailhost_preflight.py."""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.module_utils._platform import vars_files
from ansible_collections.mailops.mailhost.plugins.module_utils._policy import violations
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import format_value, render_param
from ansible_collections.mailops.mailhost.plugins.module_utils._preflight import show, stack_problems, unknown_variables

try:  # ansible-core 2.19 and later: templates are rendered only from trusted sources
    from ansible.template import trust_as_template
except ImportError:  # older ansible-core renders every string

    def trust_as_template(value):
        return value


ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
# Facts the roles set for the roles after them: known names, although no argument spec lists them.
ROLE_OUTPUTS = ("certbot_postfix_chain_files", "certbot_failure", "opendkim_dns_records")
# What the postfix role derives from its variables (roles/postfix/vars/main.yml), checked here too.
POSTFIX_DERIVED = ("__postfix_params", "__postfix_services", "__postfix_policy_options", "__postfix_policy_names")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        roles = list(args.get("roles") or [])
        allow_unknown = bool(args.get("allow_unknown", False))
        overrides = dict(args.get("overrides") or {})
        data = {name: self._role_data(name) for name in sorted(os.listdir(ROLES_DIR))}
        unknown_roles = [r for r in roles if r not in data]
        if unknown_roles:
            raise AnsibleError(f"mailhost_preflight: no such role in mailops.mailhost: {', '.join(unknown_roles)}")

        known = {opt for d in data.values() for opt in d["options"]} | set(ROLE_OUTPUTS)
        present = [name for name in task_vars if isinstance(name, str)]
        available = {}
        for name in data:
            available.update(data[name]["defaults"])
        available.update(task_vars)
        available.update(overrides)
        available.setdefault("ansible_managed", "Ansible managed")

        problems: list[str] = []
        values: dict = {}
        templar = self._templar.copy_with_new_env(available_variables=available)
        for role in ["mailhost", *roles] if "mailhost" in data else roles:
            spec = data[role]["options"]
            raw, errors = self._resolve(templar, spec)
            problems += errors
            validated, spec_errors = self._validate(spec, raw)
            problems += spec_errors
            values.update(validated)
        rendered = {}
        if not problems:  # the rules read values of the right types only
            params: dict[str, str] = {}
            if "postfix" in roles:
                params, rendered, postfix_problems = self._postfix(templar, available, task_vars, args)
                problems += postfix_problems
            problems += stack_problems(values, roles, params)
        if not allow_unknown:
            problems += unknown_variables(present, known)

        result.update(changed=False, roles=roles, problems=problems)
        if args.get("render"):
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

    # --- the roles' own data --------------------------------------------------------------------

    def _load(self, path: str):
        if not os.path.isfile(path):
            return {}
        try:
            return self._loader.load_from_file(path, trusted_as_template=True) or {}
        except TypeError:  # ansible-core before 2.19 has no trust, and no such argument
            return self._loader.load_from_file(path) or {}

    def _role_data(self, role: str) -> dict:
        base = os.path.join(ROLES_DIR, role)
        specs = (self._load(os.path.join(base, "meta", "argument_specs.yml")) or {}).get("argument_specs", {})
        options: dict = {}
        for entry in specs.values():
            options.update(entry.get("options") or {})
        return {"options": options, "defaults": self._load(os.path.join(base, "defaults", "main.yml"))}

    # --- values ---------------------------------------------------------------------------------

    @staticmethod
    def _resolve(templar, spec: dict) -> tuple[dict, list[str]]:
        """The effective value of every option (inventory, then the role's default), templated."""
        values, errors = {}, []
        for name in spec:
            if name not in templar.available_variables:
                continue
            try:
                values[name] = templar.template(trust_as_template("{{ " + name + " }}"))
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

    def _postfix(self, templar, available: dict, task_vars: dict, args: dict):
        """What the postfix role will write: main.cf parameters, master.cf, and the policy's verdict."""
        base = os.path.join(ROLES_DIR, "postfix")
        facts = dict(task_vars.get("ansible_facts") or {})
        platform = args.get("platform") or ""
        if platform and not facts.get("os_family"):
            family, _sep, major = str(platform).partition("_")
            facts.update(os_family=family, distribution_major_version=major)
        try:
            files = vars_files(facts, str(available.get("mailhost_platform_profile") or ""))
        except ValueError as exc:
            return {}, {}, [str(exc)]
        role_vars = dict(self._load(os.path.join(base, "vars", "main.yml")))
        for name in files:
            role_vars.update(self._load(os.path.join(base, "vars", name)))
        scoped = templar.copy_with_new_env(available_variables={**available, **role_vars})
        try:
            derived = {name: scoped.template(trust_as_template("{{ " + name + " }}")) for name in POSTFIX_DERIVED}
        except Exception as exc:  # noqa: BLE001
            return (
                {},
                {},
                {},
                [f"postfix: the role's parameters cannot be computed: {' '.join(str(exc).split())[:300]}"],
            )
        params = {str(k): format_value(v) for k, v in derived["__postfix_params"].items()}
        services = {
            str(svc): {str(k): format_value(v) for k, v in (opts or {}).items()}
            for svc, opts in derived["__postfix_services"].items()
        }
        problems = violations(params, services, derived["__postfix_policy_options"], derived["__postfix_policy_names"])
        rendered = {}
        if args.get("render"):
            with open(os.path.join(base, "templates", "master.cf.j2"), encoding="utf-8") as handle:
                master = scoped.template(trust_as_template(handle.read()))
            main = [f"# main.cf parameters of mailops.mailhost.postfix for {task_vars.get('inventory_hostname')}"]
            main += ["# (the distribution's installation paths, which the role keeps, are not shown)"]
            for name in sorted(params):
                main += render_param(name, params[name])
            rendered = {"main.cf": "\n".join(main) + "\n", "master.cf": master}
        return params, rendered, problems


_TYPE = re.compile(
    r"argument '(?P<name>[^']+)' is of type (?P<got>\S+)(?: found in '(?P<parent>[^']+)'\.)? "
    r"and we were unable to convert to (?P<want>\w+)"
)
_ELEMENT = re.compile(r"Elements value for option '(?P<name>[^']+)' is of type (?P<got>\S+) .*convert to (?P<want>\w+)")
_CHOICES = re.compile(
    r"value of (?P<name>\S+) must be one of: (?P<choices>.+?), got: (?P<got>.*?)(?: found in '?(?P<parent>[^']+)'?)?$"
)
_REQUIRED = re.compile(r"missing required arguments: (?P<names>.+?)(?: found in (?P<parent>\S+))?$")
_UNSUPPORTED = re.compile(r"^(?P<name>\S+?)\. Supported parameters include: (?P<ok>.+?)\.?$")
_SECRET_NAMES = ("password", "private_key")


def _converts(value, want: str) -> bool:
    if want == "int":
        return isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
    if want == "bool":
        return isinstance(value, bool) or str(value).lower() in ("yes", "no", "true", "false", "1", "0", "on", "off")
    return isinstance(value, {"dict": dict, "list": list}.get(want, str))


def _bad_entry(entries, key: str, want: str):
    """(index, value) of the first entry of a list of dicts whose ``key`` is not of type ``want``."""
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and key in entry and not _converts(entry[key], want):
            return index, entry[key]
    return "", ""


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def short_error(error: Exception, values: dict) -> str | None:
    """One line, naming the variable and the rule, from an ArgumentSpecValidator error (None: a repeat)."""
    kind = type(error).__name__
    message = " ".join(str(getattr(error, "msg", error)).split())
    if kind == "NoLogError":
        return None  # the same bad value is reported by its type error
    match = _TYPE.search(message)
    if match:
        parent, name, want = match.group("parent"), match.group("name"), match.group("want")
        if parent:
            index, value = _bad_entry(values.get(parent), name, want)
            name = f"{parent}[{index}].{name}"
        else:
            value = values.get(name)
        shown = "(hidden)" if any(s in name for s in _SECRET_NAMES) else show(value)
        return f"{name}: {shown} is not {_article(want)} (it must be of type {want})"
    match = _ELEMENT.search(message)
    if match:
        return f"{match.group('name')}: every element must be {_article(match.group('want'))}, one is a {match.group('got')}"
    match = _CHOICES.search(message)
    if match:
        name = f"{match.group('parent')}[].{match.group('name')}" if match.group("parent") else match.group("name")
        return f"{name}: {match.group('got')!r} is not one of {match.group('choices')}"
    match = _REQUIRED.search(message)
    if match:
        return f"{match.group('parent') or 'the role'}: every entry needs {match.group('names')}"
    match = _UNSUPPORTED.search(message)
    if match:
        return f"{match.group('name')}: unknown key; the keys are {match.group('ok')}"
    return f"{message[:300]}"
