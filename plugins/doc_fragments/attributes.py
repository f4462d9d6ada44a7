# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # For modules that only read: check mode and diff mode have nothing to change.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
"""

    # For action plugins that run on the controller alone (their module file is documentation).
    CONTROLLER = r"""
options: {}
attributes:
  action:
    description: Runs on the controller as an action plugin; no host is contacted.
    support: full
"""
