#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_zone_files
short_description: Write the DKIM records to publish as one zone snippet per domain, on the controller
version_added: 0.3.0
description:
  - Runs on the controller only (an action plugin); the host is never contacted and no module is sent to it.
  - Writes C(<domain>.zone) in O(dir) for every domain of O(records) (the RV(mailops.mailhost.dkim_keys#module:records)
    of M(mailops.mailhost.dkim_keys)), with a comment line per selector (size, whether it signs) and the record in zone
    file syntax, ready to add to the domain's zone.
  - A snippet is written when it is missing, or with O(force) (the keys changed in this run); an existing snippet is
    otherwise left as it is, so that several hosts that sign for one domain and share O(dir) do not rewrite each
    other's snippet on every run.
  - Files are written whole and renamed into place (mode 0644); O(dir) is created (mode 0755) when missing.
author:
  - mailops.mailhost contributors (@mailops)
options:
  dir:
    description: The directory on the controller.
    type: path
    required: true
  records:
    description:
      - The records, each with C(domain), C(selector), C(bits), C(signing) and C(zone_line), as
        M(mailops.mailhost.dkim_keys) returns them.
    type: list
    elements: dict
    required: true
  host:
    description: The host named in the snippet's first line; the inventory host name when omitted.
    type: str
  force:
    description: Write every snippet whose content differs, not only the missing ones.
    type: bool
    default: false
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.controller
attributes:
  check_mode:
    support: full
    details: Reports the snippets it would write and writes nothing.
  diff_mode:
    support: full
seealso:
  - module: mailops.mailhost.dkim_keys
"""

EXAMPLES = r"""
- name: Write a zone snippet per domain on the controller (the opendkim role does this)
  mailops.mailhost.dkim_zone_files:
    dir: "{{ inventory_dir }}/dkim-records"
    records: "{{ dkim_result.records }}"
    force: "{{ dkim_result is changed }}"
"""

RETURN = r"""
files:
  description: The snippets written (in check mode, the ones that would be).
  returned: always
  type: list
  elements: str
  sample: [/srv/inventory/dkim-records/example.com.zone]
"""

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dir": {"type": "path", "required": True},
            "records": {"type": "list", "elements": "dict", "required": True},
            "host": {"type": "str"},
            "force": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    module.fail_json(msg="mailops.mailhost.dkim_zone_files runs on the controller as an action plugin only")


if __name__ == "__main__":
    main()
