"""SASL brute force is banned by fail2ban; trusted networks are not; a correct login relays."""

from __future__ import annotations

import re

import pytest
from conftest_common import container_ip, run_json, run_playbook, wait_for

MX = "mx1.example.test"
GOOD = "alice:correct horse"


def banned(mx1, jail: str) -> str:
    return mx1.check_output(f"fail2ban-client status {jail}")


def can_connect(client) -> bool:
    return client.run(f"smtpcheck talk {MX} 587").rc == 0


def test_jails_read_the_journal_of_the_postfix_unit(mx1):
    jail = mx1.check_output("cat /etc/fail2ban/jail.d/mailops-mailhost.local")
    assert "backend = systemd" in jail and "journalmatch = _SYSTEMD_UNIT=postfix@-.service" in jail
    assert "maxretry = 5" in jail and "findtime = 600" in jail and "bantime = 3600" in jail
    assert "banaction = nftables-multiport" in jail
    status = mx1.check_output("fail2ban-client status")
    assert "postfix-sasl" in status and "postfix" in status


def test_correct_login_relays(outside):
    sent = run_json(
        outside, f"smtpcheck send {MX} 587 alice@example.test ext@relay-target.example.org ok-1 --tls --auth '{GOOD}'"
    )
    assert sent["ok"], sent


def test_fail2ban_regex_matches_real_failed_auth_lines(mx1, trusted):
    # Failures from the trusted client: logged like any other, never banned.
    since = mx1.check_output("date '+%Y-%m-%d %H:%M:%S'")
    codes = run_json(trusted, f"smtpcheck authfail {MX} 587 alice wrong 3")
    assert codes == [535, 535, 535]
    wait_for(
        lambda: (
            mx1.run(f"journalctl -q --since '{since}' -u postfix@- | grep -c 'authentication failed'").stdout.strip()
            == "3"
        )
    )
    mx1.check_output(f"journalctl -q --since '{since}' -u postfix@- -o short > /tmp/auth-failures.log")
    out = mx1.check_output("fail2ban-regex /tmp/auth-failures.log 'postfix[mode=auth]'")
    lines = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched", out)
    assert lines, out
    assert int(lines.group(3)) == 3, out


def test_trusted_network_is_never_banned(mx1, trusted):
    codes = run_json(trusted, f"smtpcheck authfail {MX} 587 alice wrong 6")
    assert codes.count(535) == 6
    assert container_ip("trusted") not in banned(mx1, "postfix-sasl")
    assert can_connect(trusted)


def total_failed(mx1, jail: str) -> int:
    return int(re.search(r"Total failed:\s*(\d+)", banned(mx1, jail)).group(1))


def test_five_failed_logins_ban_the_client_and_unban_works(mx1, outside):
    address = container_ip("outside")
    assert can_connect(outside)
    postfix_jail_failures = total_failed(mx1, "postfix")
    codes = run_json(outside, f"smtpcheck authfail {MX} 587 alice wrong 5")
    # Not banned before the 5th failure; the ban that the 5th triggers may drop that very
    # connection's 535 reply (0: no reply), as fail2ban acts within a second of the log line.
    assert codes[:4] == [535] * 4 and codes[4] in (535, 0), codes
    assert wait_for(lambda: address in banned(mx1, "postfix-sasl"), timeout=30), banned(mx1, "postfix-sasl")
    assert address not in banned(mx1, "postfix"), "authentication failures were counted by the postfix jail too"
    assert total_failed(mx1, "postfix") == postfix_jail_failures, banned(mx1, "postfix")
    assert "f2b" in mx1.check_output("nft list ruleset")
    assert not can_connect(outside), "the banned client can still connect"
    assert not can_connect(outside)  # dropped on every port listed, 587 and 25 alike
    assert outside.run(f"smtpcheck talk {MX} 25").rc != 0
    mx1.check_output(f"fail2ban-client set postfix-sasl unbanip {address}")
    assert wait_for(lambda: can_connect(outside), timeout=10)


@pytest.mark.parametrize("jail", ["postfix", "postfix-sasl"])
def test_jail_limits(mx1, jail):
    assert mx1.check_output(f"fail2ban-client get {jail} maxretry") == "5"
    assert mx1.check_output(f"fail2ban-client get {jail} findtime") == "600"
    assert mx1.check_output(f"fail2ban-client get {jail} bantime") == "3600"
    ignored = mx1.check_output(f"fail2ban-client get {jail} ignoreip")
    assert "127.0.0.0/8" in ignored and container_ip("trusted") in ignored


JAIL_FILE = "/etc/fail2ban/jail.d/mailops-mailhost.local"


def test_a_jail_change_is_reloaded_keeping_the_server_and_its_bans(mx1, converge):
    pid = mx1.check_output("systemctl show -p MainPID --value fail2ban")
    mx1.check_output("fail2ban-client set postfix banip 192.0.2.7")
    try:
        run = converge({"fail2ban_maxretry": 7})
        assert run.returncode == 0, run.failures
        assert mx1.check_output("fail2ban-client get postfix maxretry") == "7"
        assert "192.0.2.7" in banned(mx1, "postfix")  # reloaded, never restarted: the ban stays
        assert mx1.check_output("systemctl show -p MainPID --value fail2ban") == pid
    finally:
        assert converge().returncode == 0
        mx1.run("fail2ban-client set postfix unbanip 192.0.2.7")
    assert mx1.check_output("fail2ban-client get postfix maxretry") == "5"


def test_jails_fail2ban_refuses_are_never_written(mx1, tmp_path):
    before = mx1.file(JAIL_FILE).content_string
    playbook = tmp_path / "broken.yml"
    playbook.write_text(
        "- hosts: mx1\n  gather_facts: false\n  tasks:\n"
        "    - mailops.mailhost.fail2ban_jails:\n"
        '        content: "[postfix]\\nenabled = true\\nfilter = no-such-filter\\nbackend = systemd\\n"\n'
    )
    run = run_playbook(str(playbook), limit="mx1")
    assert run.returncode != 0
    assert "nothing was written" in run.failures[0] and "no-such-filter" in run.failures[0], run.failures
    assert mx1.file(JAIL_FILE).content_string == before
    assert "postfix-sasl" in mx1.check_output("fail2ban-client status")


def test_a_run_killed_between_the_jails_and_the_reload_is_finished_by_the_next_run(mx1, converge):
    """What a killed run leaves: the jails on disk as wanted, fail2ban still on other values, the mark."""
    mx1.check_output("fail2ban-client set postfix maxretry 9")  # fail2ban not on the file's values
    mx1.check_output("install -d /var/lib/mailops-mailhost && touch /var/lib/mailops-mailhost/fail2ban-pending")
    check = converge(check=True)
    assert check.returncode == 0 and check.stats["mx1"]["changed"] >= 1  # the drift check sees it
    run = converge()
    assert run.returncode == 0, run.failures
    assert mx1.check_output("fail2ban-client get postfix maxretry") == "5"
    assert not mx1.file("/var/lib/mailops-mailhost/fail2ban-pending").exists
    assert converge().stats["mx1"]["changed"] == 0
