"""Unit tests for plugins/module_utils/_fail2ban.py."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.module_utils import _fail2ban


def test_fail2ban_errors_are_said_without_their_prefix_and_warnings():
    err = (
        "2026-12-02 20:21:36,179 fail2ban.configreader   [1654]: WARNING 'allowipv6' not defined in 'Definition'.\n"
        "2026-12-02 20:21:36,182 fail2ban.configreader   [1654]: ERROR   Found no accessible config files for"
        " 'filter.d/no-such-filter' under /etc/fail2ban\n"
        "2026-12-02 20:21:36,182 fail2ban.jailreader     [1654]: ERROR   Unable to read the filter 'no-such-filter'\n"
        "2026-12-02 20:21:36,183 fail2ban                [1654]: ERROR   ERROR: test configuration failed\n"
    )
    assert _fail2ban.errors_of(err, "") == (
        "Found no accessible config files for 'filter.d/no-such-filter' under /etc/fail2ban; "
        "Unable to read the filter 'no-such-filter'"
    )
    assert _fail2ban.errors_of("", "something else\n") == "something else"


def test_only_a_file_inside_the_directory_is_inside():
    assert _fail2ban.inside("/etc/fail2ban/jail.d/x.local", "/etc/fail2ban")
    assert not _fail2ban.inside("/etc/fail2ban/../passwd", "/etc/fail2ban")
    assert not _fail2ban.inside("/etc/fail2banx/jail.local", "/etc/fail2ban")
    assert not _fail2ban.inside("/etc/fail2ban", "/etc/fail2ban")


def test_a_stopped_fail2ban_starts_a_running_one_reloads_only_for_a_change():
    assert _fail2ban.live_action(False, False) == "start"
    assert _fail2ban.live_action(True, True) == "reload"
    assert _fail2ban.live_action(True, False) == "none"
