# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a role would write, computed on the controller, to compare with what the host has.

The roles learn the host's files in one call (mailops.mailhost.mailhost_facts: digests, the text
of main.cf and master.cf, DKIM public keys); these filters compute, with the same functions the
modules use (module_utils/_state.py), what the modules would write, so that a run with nothing to
change calls no module.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mailops.mailhost.plugins.module_utils._dkim import key_path, record, signing_selectors
from ansible_collections.mailops.mailhost.plugins.module_utils._state import (
    dkim_reasons,
    file_reasons,
    passwd_reasons,
    postconf_reasons,
)


def _facts(value):
    if not isinstance(value, dict):
        raise AnsibleFilterError("expects the result of mailops.mailhost.mailhost_facts")
    return value


def postconf_changes(
    facts,
    params,
    absent,
    exclusive,
    keep,
    master_cf,
    maps,
    config_dir="/etc/postfix",
    backup_dir="/var/lib/mailops-mailhost/postfix-rollback",
):
    """Why the postconf module must run (empty: nothing to change)."""
    return postconf_reasons(_facts(facts), params, absent, exclusive, keep, master_cf, maps, config_dir, backup_dir)


def dkim_changes(
    facts,
    keys,
    private_keys,
    signing,
    hosts,
    key_dir,
    tables_dir,
    config,
    config_path,
    owner="opendkim",
    backup_dir="/var/lib/mailops-mailhost/opendkim-rollback",
):
    """Why the dkim_keys module must run (empty: nothing to change)."""
    return dkim_reasons(
        _facts(facts), keys, private_keys, signing, hosts, key_dir, tables_dir, config, config_path, owner, backup_dir
    )


def file_changes(facts, path, content=None, mode="", owner="", group=""):
    """Why a file must be written (empty: it is as wanted)."""
    return file_reasons(_facts(facts), path, content, mode, owner, group)


def passwd_changes(facts, path, content):
    """The users a passwd-file change adds, removes or gives another password (names only)."""
    return passwd_reasons(_facts(facts), path, str(content))


def dkim_records(keys, signing=None, public_keys=None, key_dir="/etc/opendkim/keys"):
    """The records to publish, from the public keys mailhost_facts read (the keys that exist)."""
    chosen, _problems = signing_selectors(list(keys or []), dict(signing or {}))
    records = []
    for key in keys or []:
        found = (public_keys or {}).get(key_path(key_dir, key["domain"], key["selector"])) or {}
        if found.get("public_key"):
            records.append(
                record(
                    key["domain"],
                    key["selector"],
                    found["public_key"],
                    found.get("bits", 0),
                    chosen.get(key["domain"]) == key["selector"],
                )
            )
    return records


def dkim_key_paths(keys, key_dir="/etc/opendkim/keys"):
    return [key_path(key_dir, k["domain"], k["selector"]) for k in keys or []]


class FilterModule:
    def filters(self):
        return {
            "postconf_changes": postconf_changes,
            "dkim_changes": dkim_changes,
            "file_changes": file_changes,
            "passwd_changes": passwd_changes,
            "dkim_records": dkim_records,
            "dkim_key_paths": dkim_key_paths,
        }
