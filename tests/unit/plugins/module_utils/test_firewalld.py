from __future__ import annotations

import pytest

from ansible_collections.mailops.mailhost.plugins.module_utils._firewalld import (
    check_port,
    parse_list_all,
    plan,
    resolve,
)

FIREWALLD_1 = {"smtp", "smtps", "smtp-submission", "http", "ssh"}
FIREWALLD_2 = FIREWALLD_1 | {"submission"}
STACK = ["smtp", "submission", "smtps", "http"]


def test_submission_name_follows_the_firewalld_version():
    assert resolve("submission", FIREWALLD_1) == "smtp-submission"
    assert resolve("submission", FIREWALLD_2) == "submission"


def test_unknown_service_and_missing_definition_are_refused():
    with pytest.raises(ValueError, match="not a service of the mail stack"):
        resolve("imap", FIREWALLD_2)
    with pytest.raises(ValueError, match="defines none of smtps"):
        resolve("smtps", {"smtp"})


def test_plan_opens_what_is_missing_and_leaves_other_services_alone():
    change = plan(["smtp", "submission"], STACK, [], [], FIREWALLD_2, {"ssh", "cockpit", "smtp"}, set())
    assert change.add_services == ["submission"]
    assert change.remove_services == []
    assert bool(change)


def test_plan_closes_stack_services_no_longer_wanted_and_the_other_submission_name():
    current = {"ssh", "smtp", "smtp-submission", "smtps", "http"}
    change = plan(["smtp", "submission"], STACK, [], [], FIREWALLD_2, current, set())
    assert change.add_services == ["submission"]
    assert change.remove_services == ["http", "smtp-submission", "smtps"]


def test_plan_is_empty_when_the_zone_is_right():
    change = plan(
        ["smtp", "submission", "smtps"], STACK, [], [], FIREWALLD_1, {"smtp", "smtp-submission", "smtps"}, set()
    )
    assert not change


def test_ports_opened_earlier_are_closed_when_no_longer_asked_for_and_others_are_kept():
    change = plan(["smtp"], STACK, ["8081/tcp"], ["8080/tcp"], FIREWALLD_2, {"smtp"}, {"8080/tcp", "9000/tcp"})
    assert change.add_ports == ["8081/tcp"]
    assert change.remove_ports == ["8080/tcp"]


@pytest.mark.parametrize("port", ["80", "0/tcp", "65536/tcp", "80/sctp", "80/tcp\n", "-1/tcp", "http/tcp"])
def test_bad_ports_are_refused(port):
    assert "is not a port" in check_port(port)


def test_good_port():
    assert check_port("8080/tcp") is None


def test_parse_list_all():
    text = "public (active)\n  target: default\n  services: dhcpv6-client smtp ssh\n  ports: 8080/tcp\n  protocols: \n"
    assert parse_list_all(text) == ({"dhcpv6-client", "smtp", "ssh"}, {"8080/tcp"})
