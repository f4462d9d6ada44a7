#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mailhost_audit_report
short_description: Write the daily audit's reports - JSON, JUnit XML and Markdown - and fail when a check failed
version_added: 0.3.0
description:
  - Runs on the controller only (an action plugin), once per run.
  - "Writes, under O(dir): C(mailhost-audit.json) (every check of every host: host, check, subject, status pass, warn,
    fail or skipped, message, evidence, records to publish), C(mailhost-audit.xml) (JUnit: a testsuite per host and a
    testcase per check, failures as failures, skipped as skipped, warnings in the testcase's system-out) and
    C(mailhost-audit.md) (a table per host, failures first, then the zone-file lines to publish)."
  - Each file is written whole and renamed into place.
  - Fails (a non-zero exit status of ansible-playbook) when any check failed; warnings do not fail.
author:
  - mailops.mailhost contributors (@mailops)
options:
  dir:
    description: The directory the reports are written to (created when missing).
    type: path
    required: true
  hosts:
    description: The hosts of the audit; usually C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  checks_var:
    description: The host variable holding each host's checks (set with the M(mailops.mailhost.mailhost_audit) results
      through the C(mailops.mailhost.mailhost_audit_checks) filter).
    type: str
    default: __mailhost_audit_checks
  started:
    description: When the audit started (ISO 8601), for the report.
    type: str
extends_documentation_fragment:
  - mailops.mailhost.attributes
  - mailops.mailhost.attributes.controller
attributes:
  check_mode:
    support: full
    details: Writes the reports in check mode too; it changes no host.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Write the reports and fail on any failed check
  mailops.mailhost.mailhost_audit_report:
    dir: "{{ mailhost_audit_dir }}"
    hosts: "{{ ansible_play_hosts_all }}"
  run_once: true
"""

RETURN = r"""
files:
  description: The paths written, by kind (json, junit, markdown).
  returned: success and failure on a check
  type: dict
counts:
  description: How many checks failed, warned, were skipped and passed.
  returned: success and failure on a check
  type: dict
  sample: {fail: 1, warn: 2, skipped: 0, pass: 14}
failed_checks:
  description: "C(host: check (subject)) of each failed check."
  returned: success and failure on a check
  type: list
  elements: str
"""
