#!/usr/bin/python
# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sendmail_queue
short_description: Keep sendmail's configuration and queue through a cutover - save, restore, hand the queue to Postfix
version_added: 0.3.0
description:
  - V(save) copies sendmail's configuration (O(config_paths)) and its queue directories (O(queue_dirs)) to
    O(backup_dir), as a new copy renamed into place whole, so a killed run leaves the previous copy or the new one,
    never half of one. Run it with sendmail stopped, so the queue does not change while it is copied.
  - V(restore) puts the saved configuration and the messages not yet handed over back where they were, with their
    modes and owners (the rollback of a cutover).
  - V(handover) gives every saved message that is not yet handed over to Postfix's C(sendmail) command with its
    envelope - the sender and the recipients sendmail still had to deliver - and the message as sendmail queued it,
    then moves its files to C(handed/) under O(backup_dir) and removes them from sendmail's queue. A message is
    handed over at least once - a run killed between Postfix accepting it and the move hands it again (a duplicate,
    never a loss).
  - Check mode reports what would be done and changes nothing.
author:
  - mailops.mailhost contributors (@mailops)
options:
  state:
    description: What to do.
    type: str
    choices: [save, restore, handover]
    required: true
  backup_dir:
    description: Where the copy is kept.
    type: path
    default: /var/lib/mailops-mailhost/sendmail-migration
  config_paths:
    description: sendmail's configuration files and directories.
    type: list
    elements: path
    default: [/etc/mail, /etc/aliases, /etc/aliases.db]
  queue_dirs:
    description: sendmail's queue directories.
    type: list
    elements: path
    default: [/var/spool/mqueue, /var/spool/mqueue-client, /var/spool/clientmqueue]
  hostname:
    description: The host name that qualifies a bare local recipient (C(bob) becomes C(bob@hostname)).
    type: str
    required: true
  postfix_sendmail:
    description: Postfix's sendmail command, for V(handover).
    type: path
    default: /usr/sbin/sendmail
extends_documentation_fragment:
  - mailops.mailhost.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Hand the messages sendmail still held to Postfix
  mailops.mailhost.sendmail_queue:
    state: handover
    hostname: mail.example.org
"""

RETURN = r"""
messages:
  description: The messages concerned (id, queue, sender, recipients) - saved, restored or handed over.
  returned: always
  type: list
  elements: dict
problems:
  description: Messages that could not be handed over, with the reason (they stay saved and queued).
  returned: always
  type: list
  elements: str
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailops.mailhost.plugins.module_utils._host import run
from ansible_collections.mailops.mailhost.plugins.module_utils._sendmail_queue import (
    message_text,
    parse_qf,
    qualify,
    queue_ids,
)

SAVED = "saved"
HANDED = "handed"


def saved_name(path: str) -> str:
    return path.strip("/").replace("/", "__")


def copy_tree(source: str, target: str) -> None:
    if os.path.isdir(source) and not os.path.islink(source):
        shutil.copytree(source, target, symlinks=True, copy_function=shutil.copy2)
        stat = os.lstat(source)
        os.chown(target, stat.st_uid, stat.st_gid)
        for root, dirs, files in os.walk(source):
            for name in dirs + files:
                original = os.path.join(root, name)
                copied = os.path.join(target, os.path.relpath(original, source))
                st = os.lstat(original)
                os.lchown(copied, st.st_uid, st.st_gid)
    elif os.path.lexists(source):
        shutil.copy2(source, target, follow_symlinks=False)
        st = os.lstat(source)
        os.lchown(target, st.st_uid, st.st_gid)


def save(module: AnsibleModule) -> dict:
    p = module.params
    present = [path for path in p["config_paths"] + p["queue_dirs"] if os.path.lexists(path)]
    messages = [{"id": q, "queue": d} for d in p["queue_dirs"] for q in queue_ids(d)]
    if module.check_mode:
        return {"changed": True, "messages": messages, "saved": present}
    os.makedirs(p["backup_dir"], mode=0o700, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".saving-", dir=p["backup_dir"])
    for path in present:
        copy_tree(path, os.path.join(staging, saved_name(path)))
    final = os.path.join(p["backup_dir"], SAVED)
    old = None
    if os.path.exists(final):
        old = tempfile.mkdtemp(prefix=".old-", dir=p["backup_dir"])
        os.rename(final, os.path.join(old, SAVED))
    os.rename(staging, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return {"changed": True, "messages": messages, "saved": present}


def restore(module: AnsibleModule) -> dict:
    p = module.params
    final = os.path.join(p["backup_dir"], SAVED)
    if not os.path.isdir(final):
        module.fail_json(msg=f"backup_dir: {final} holds no saved copy to restore")
    handed_dir = os.path.join(p["backup_dir"], HANDED)
    handed = set(os.listdir(handed_dir)) if os.path.isdir(handed_dir) else set()
    restored, messages = [], []
    for path in p["config_paths"] + p["queue_dirs"]:
        copy = os.path.join(final, saved_name(path))
        if not os.path.lexists(copy):
            continue
        restored.append(path)
        if module.check_mode:
            continue
        if path in p["queue_dirs"]:
            os.makedirs(path, exist_ok=True)
            st = os.lstat(copy)
            os.chown(path, st.st_uid, st.st_gid)
            os.chmod(path, st.st_mode & 0o7777)
            handed_ids = {h[2:] for h in handed}
            for name in os.listdir(copy):
                if name[2:] in handed_ids or os.path.lexists(os.path.join(path, name)):
                    continue  # handed to Postfix already (restoring it would deliver it twice), or still there
                copy_tree(os.path.join(copy, name), os.path.join(path, name))
            messages += [{"id": q, "queue": path} for q in queue_ids(path)]
        elif os.path.isdir(copy) and not os.path.islink(copy):
            aside = path + ".mailhost-restore"
            shutil.rmtree(aside, ignore_errors=True)
            copy_tree(copy, aside)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.unlink(path)
            os.rename(aside, path)
        else:
            temp = path + ".mailhost-restore"
            if os.path.lexists(temp):
                os.unlink(temp)
            copy_tree(copy, temp)
            os.replace(temp, path)
    return {"changed": bool(restored), "messages": messages, "restored": restored}


def handover(module: AnsibleModule) -> dict:
    p = module.params
    final = os.path.join(p["backup_dir"], SAVED)
    handed_dir = os.path.join(p["backup_dir"], HANDED)
    if not os.path.isdir(final):
        return {"changed": False, "messages": [], "problems": []}
    messages, problems = [], []
    for queue in p["queue_dirs"]:
        copy = os.path.join(final, saved_name(queue))
        for queue_id in queue_ids(copy):
            if os.path.exists(os.path.join(handed_dir, "qf" + queue_id)):
                continue
            try:
                with open(os.path.join(copy, "qf" + queue_id), "rb") as handle:
                    parsed = parse_qf(handle.read())
                with open(os.path.join(copy, "df" + queue_id), "rb") as handle:
                    body = handle.read()
            except OSError as exc:
                problems.append(f"{queue_id}: cannot be read: {exc}")
                continue
            recipients = [qualify(r, p["hostname"]) for r in parsed["recipients"]]
            entry = {"id": queue_id, "queue": queue, "sender": parsed["sender"], "recipients": recipients}
            if parsed["problems"] or not recipients:
                problems.append(f"{queue_id}: " + ("; ".join(parsed["problems"]) or "no recipient left to deliver"))
                continue
            messages.append(entry)
            if module.check_mode:
                continue
            rc, _out, err = run(
                module,
                [p["postfix_sendmail"], "-i", "-f", parsed["sender"], "--", *recipients],
                data=message_text(parsed["headers"], body),
                binary_data=True,
            )
            if rc != 0:
                problems.append(f"{queue_id}: Postfix's sendmail refused it (exit {rc}): {err.strip()}")
                messages.pop()
                continue
            os.makedirs(handed_dir, mode=0o700, exist_ok=True)
            for kind in ("qf", "df"):
                shutil.copy2(os.path.join(copy, kind + queue_id), os.path.join(handed_dir, kind + queue_id))
                spooled = os.path.join(queue, kind + queue_id)
                if os.path.exists(spooled):
                    os.unlink(spooled)
    return {"changed": bool(messages), "messages": messages, "problems": problems}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["save", "restore", "handover"], "required": True},
            "backup_dir": {"type": "path", "default": "/var/lib/mailops-mailhost/sendmail-migration"},
            "config_paths": {
                "type": "list",
                "elements": "path",
                "default": ["/etc/mail", "/etc/aliases", "/etc/aliases.db"],
            },
            "queue_dirs": {
                "type": "list",
                "elements": "path",
                "default": ["/var/spool/mqueue", "/var/spool/mqueue-client", "/var/spool/clientmqueue"],
            },
            "hostname": {"type": "str", "required": True},
            "postfix_sendmail": {"type": "path", "default": "/usr/sbin/sendmail"},
        },
        supports_check_mode=True,
    )
    p = module.params
    if not p["hostname"].strip() or "@" in p["hostname"]:
        module.fail_json(msg=f"hostname: {p['hostname']!r} must be a host name")
    if p["state"] == "save":
        result = save(module)
    elif p["state"] == "restore":
        result = restore(module)
    else:
        result = handover(module)
        if result["problems"]:
            module.fail_json(
                msg="not every message could be handed to Postfix (they stay saved; run again): "
                + "; ".join(result["problems"]),
                **result,
            )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
