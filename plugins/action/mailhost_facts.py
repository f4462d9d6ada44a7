# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One call learns what the roles need from the host: see plugins/modules/mailhost_facts.py.

With ``roles``, each role's request (``__ROLE_facts`` in its vars/main.yml: packages, services,
paths, files to describe...) is read on the controller and merged, so that the whole stack asks
in one module call and each role keeps its list in one place (plugins/plugin_utils/_facts.py).
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.mailops.mailhost.plugins.plugin_utils._facts import learn
from ansible_collections.mailops.mailhost.plugins.plugin_utils._stack import Stack, role_names


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
        return learn(self, Stack(self._loader), task_vars, overrides, roles, args)
