# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No service started by Debian's package scripts while the stack installs its packages.

On Debian, a package's maintainer scripts start its service at install (through invoke-rc.d or
deb-systemd-invoke): Postfix, opendkim and fail2ban would run for a moment with the
distribution's default configuration, and opendkim, started with its default socket, then takes
about 4 s to stop for the restart on the stack's configuration. Both tools first ask
/usr/sbin/policy-rc.d (Debian Policy, invoke-rc.d(8)); exit code 101 means "action not allowed".
The stack writes such a file while it holds the host's lock and installs, and removes it when
it gives the lock back. It holds only the services whose packages this run installs and that the
stack configures and starts itself, through systemctl, which does not ask policy-rc.d; every
other action runs as it would without the file (a dependency started, dbus reloaded for a new
bus policy). EL's packages never start services at install: there is nothing to hold.

A file the administrator put there is never touched (the stack then holds nothing). A file of
ours that a killed run left is recognised by its marker line: the facts call reports it, so the
next run, a drift check included, sees it and removes it.
"""

from __future__ import annotations

import os
import re

from ansible_collections.mailops.mailhost.plugins.module_utils._files import read_text, remove, write_atomic

POLICY_RC_D = "/usr/sbin/policy-rc.d"
INVOKE_RC_D = "/usr/sbin/invoke-rc.d"
MARK = "# mailops.mailhost: service starts held during the stack's package transaction"
# A service name as invoke-rc.d (init script) or deb-systemd-invoke (unit) passes it: nothing a shell reads.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


def text(services: list[str]) -> str:
    """The policy-rc.d that denies every action on these services (exit 101) and allows all else.

    Only the services the stack configures and starts itself are held: a dependency's own
    actions (dbus's reload for a new bus policy, which firewalld needs) run as without the file.
    """
    bad = [name for name in services if not NAME.fullmatch(name)]
    if bad or not services:
        raise ValueError(f"service names must match {NAME.pattern}: {', '.join(bad) or '(none given)'}")
    patterns = "|".join(f"{name}|{name}@*" for name in services)
    return (
        "#!/bin/sh\n"
        f"{MARK}\n"
        "# (the stack's roles start them on the stack's configuration). Removed when the run gives the\n"
        "# host's lock back; if a killed run left it, the next run of the stack removes it.\n"
        "# invoke-rc.d passes the init script's name, deb-systemd-invoke the unit's.\n"
        f'case "${{1%.service}}" in\n  {patterns}) exit 101 ;;\nesac\nexit 0\n'
    )


def is_ours(text: str | None) -> bool:
    """Whether this text of policy-rc.d is the stack's hold (a whole file or one cut short)."""
    return text is not None and MARK in text


def held(path: str = POLICY_RC_D) -> bool:
    """Whether the stack's policy-rc.d is in place (this run's, or one a killed run left)."""
    return is_ours(read_text(path, errors="replace"))


def hold(services: list[str], path: str = POLICY_RC_D, invoke: str = INVOKE_RC_D) -> bool:
    """Hold these services' starts: write the stack's policy-rc.d where the host has none. Whether held.

    Nothing is held on a host without invoke-rc.d (EL), nor where policy-rc.d is the
    administrator's own. A new file appears whole or not at all (write_atomic, exclusive) and
    never replaces one that appeared meanwhile; one of ours (a killed run's) is replaced.
    """
    content = text(services)
    if not os.path.exists(invoke):
        return False
    current = read_text(path, errors="replace")
    if current is not None:
        if is_ours(current) and current != content:
            write_atomic(path, content, 0o755)
        return is_ours(current)
    try:
        write_atomic(path, content, 0o755, exclusive=True)
    except FileExistsError:
        return is_ours(read_text(path, errors="replace"))
    return True


def release(path: str = POLICY_RC_D) -> bool:
    """Remove the stack's policy-rc.d (never another one). Whether one was removed."""
    return held(path) and remove(path)
