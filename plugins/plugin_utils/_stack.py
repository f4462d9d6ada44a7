# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's roles as data, on the controller: their argument specs, defaults and vars.

The action plugins that see the whole stack at once (the pre-flight, the one facts call of the
stack) read the roles' own files, so that each rule and each list lives in one place: a role's
meta/argument_specs.yml, defaults/main.yml and vars/*.yml. Values are templated the way Ansible
templates them when the role runs: role defaults lowest, then everything the task sees.
"""

from __future__ import annotations

import os

import yaml
from ansible.template import Templar

try:  # libyaml's parser, where PyYAML was built with it
    from yaml import CSafeLoader as PlainLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as PlainLoader

try:  # ansible-core 2.19 and later: templates are rendered only from trusted sources
    from ansible.template import trust_as_template

    DATA_TAGGING = True
except ImportError:  # older ansible-core renders every string
    DATA_TAGGING = False

    def trust_as_template(value):
        return value


def scoped_templar(templar, loader, variables: dict):
    """A templar that sees exactly these variables, in its lookups too.

    Before ansible-core 2.19, a copy made by copy_with_new_env keeps the lookup function of the
    templar it was copied from, which sees that templar's variables: a template lookup then
    searches the wrong role. A new Templar binds its own."""
    if DATA_TAGGING:
        return templar.copy_with_new_env(available_variables=variables)
    return Templar(loader=loader, variables=variables)


ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
# Facts the roles set for the roles after them: known names, although no argument spec lists them.
ROLE_OUTPUTS = ("certbot_postfix_chain_files", "certbot_failure", "opendkim_dns_records", "opendkim_rollback_dir")
# The roles the mailhost role includes with public: true (their defaults are seen by the roles after them).
PUBLIC_ROLES = ("certbot", "opendkim")


def role_names() -> list[str]:
    return sorted(n for n in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, n)))


class Stack:
    """Loads the roles' files through Ansible's own loader (so their templates are trusted)."""

    def __init__(self, loader):
        self.loader = loader
        self._cache: dict[str, object] = {}

    def load(self, path: str):
        if path not in self._cache:
            if not os.path.isfile(path):
                self._cache[path] = {}
            else:
                # unsafe: no deep copy of what was parsed (the loader's default, which cost about
                # 0.1 s per host in the pre-flight); nothing here changes the loaded data
                try:
                    self._cache[path] = self.loader.load_from_file(path, unsafe=True, trusted_as_template=True) or {}
                except TypeError:  # ansible-core before 2.19 has no trust, and no such argument
                    self._cache[path] = self.loader.load_from_file(path, unsafe=True) or {}
        return self._cache[path]

    def load_plain(self, path: str):
        """A file that holds no template (an argument spec): plain YAML, about 3 times faster to read
        than through Ansible's loader, which marks every string with its origin and trust."""
        key = "plain:" + path
        if key not in self._cache:
            if not os.path.isfile(path):
                self._cache[key] = {}
            else:
                with open(path, encoding="utf-8") as handle:
                    self._cache[key] = yaml.load(handle, Loader=PlainLoader) or {}
        return self._cache[key]

    def options(self, role: str) -> dict:
        """Every option of every entry point of the role's argument spec."""
        specs = self.load_plain(os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")).get("argument_specs", {})
        options: dict = {}
        for entry in specs.values():
            options.update(entry.get("options") or {})
        return options

    def defaults(self, role: str) -> dict:
        return dict(self.load(os.path.join(ROLES_DIR, role, "defaults", "main.yml")))

    def role_vars(self, role: str, platform_files: list[str] = ()) -> dict:
        """vars/main.yml, then the platform files that exist (vars/<family>.yml, host_<family>.yml, ...)."""
        merged = dict(self.load(os.path.join(ROLES_DIR, role, "vars", "main.yml")))
        for name in platform_files:
            merged.update(self.load(os.path.join(ROLES_DIR, role, "vars", name)))
        return merged

    def known_variables(self) -> set[str]:
        return {opt for role in role_names() for opt in self.options(role)} | set(ROLE_OUTPUTS)

    def available(self, task_vars: dict, overrides: dict | None = None, role: str = "", before: tuple = ()) -> dict:
        """What a role's tasks see, layered as Ansible does: the defaults of the public roles included
        before it and its own defaults, under what the task sees, under the composing role's overrides."""
        merged = {}
        for earlier in before:
            if earlier in PUBLIC_ROLES and earlier != role:
                merged.update(self.defaults(earlier))
        if role:
            merged.update(self.defaults(role))
        merged.update(task_vars)
        merged.update(overrides or {})
        merged.setdefault("ansible_managed", "Ansible managed")
        return merged


def evaluate(templar, name: str):
    """The value of a variable, templated (its templates resolved, lazily, as a task would see it)."""
    return templar.template(trust_as_template("{{ " + name + " }}"))


def evaluate_together(templar, names: list[str]) -> dict | None:
    """The values of several variables, as evaluate() gives each, from one template; None when
    that fails or cannot be used (the caller then evaluates each, so that an error names its variable).

    ansible-core 2.19 renders every variable a template uses again for each top-level template
    (its lazy variables live as long as one template call): the roles' vars/main.yml values that
    many others build on were rendered, and compiled, once per variable asked for, 23 times for
    one of them in the pre-flight of a host. One template for all the names renders each once.
    ansible-core before 2.19 turns the result of such a template into text first: not used there."""
    names = list(names)
    if not DATA_TAGGING or not names:
        return None
    try:
        values = templar.template(trust_as_template("{{ [" + ", ".join(names) + "] }}"))
    except Exception:  # noqa: BLE001 - the caller evaluates each, for the message
        return None
    if not isinstance(values, list) or len(values) != len(names):
        return None
    return dict(zip(names, values))


def evaluate_all(templar, names) -> dict:
    """The values of these variables: from one template where it can, else one by one (the first
    error then raised is the one evaluate() gives for its variable)."""
    together = evaluate_together(templar, names)
    return together if together is not None else {name: evaluate(templar, name) for name in names}


def render(templar, text: str):
    return templar.template(trust_as_template(text))
