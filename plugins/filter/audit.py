# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's audit checks, from the registered results of mailhost_audit and mail_dns."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.plugin_utils._audit_report import host_checks


def mailhost_audit_checks(host_result, dns_result=None, dns_skipped=""):
    return host_checks(host_result, dns_result, dns_skipped or "")


class FilterModule:
    def filters(self):
        return {"mailhost_audit_checks": mailhost_audit_checks}
