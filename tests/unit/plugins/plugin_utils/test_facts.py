"""The stack's facts call on the controller: merged requests and the run's list of changes."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.plugin_utils._facts import LEFTOVER_HOLD, merged, todo

NOTHING = {"prereq_packages": [], "repos": [], "packages": [], "leftover_hold": False}


def test_requests_are_merged_each_item_once_in_the_order_first_asked():
    out = merged([{"packages": ["postfix", "openssl"]}, {"packages": ["openssl", "opendkim"], "paths": ["/etc/a"]}])
    assert out["packages"] == ["postfix", "openssl", "opendkim"]
    assert out["paths"] == ["/etc/a"]
    assert out["contents"] == []


def test_nothing_to_change_is_an_empty_list():
    assert todo({"postfix": [], "opendkim": []}, NOTHING) == []


def test_every_reason_and_every_install_step_counts():
    changes = {"postfix": ["/etc/postfix/main.cf: message_size_limit differs"], "fail2ban": [], "opendkim": ["a", "b"]}
    install = {
        "prereq_packages": ["epel-release"],
        "repos": ["crb"],
        "packages": ["opendkim"],
        "leftover_hold": True,
    }
    assert todo(changes, install) == [
        "/etc/postfix/main.cf: message_size_limit differs",
        "a",
        "b",
        "epel-release",
        "crb",
        "opendkim",
        LEFTOVER_HOLD,
    ]
    assert "/usr/sbin/policy-rc.d" in LEFTOVER_HOLD
