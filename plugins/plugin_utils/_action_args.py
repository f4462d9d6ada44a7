# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller-only action plugins check of their arguments before anything else."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail


def check_known(args, known: frozenset) -> None:
    """Refuse an argument the action does not know, naming it and every known one."""
    unknown = sorted(set(args) - known)
    if unknown:
        raise AnsibleActionFail(f"unknown argument(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
