"""Unit tests for plugins/module_utils/_postfix_runtime.py."""

from __future__ import annotations

import json

import pytest
from conftest import journal_entry

from ansible_collections.mailops.mailhost.plugins.module_utils import _postfix_runtime as rt


@pytest.mark.parametrize(
    "running,restart,action",
    [(False, False, "start"), (False, True, "start"), (True, False, "reload"), (True, True, "restart")],
)
def test_decide_action(running, restart, action):
    assert rt.decide_action(running, restart) == action


def _entry(ts, ident, prio, msg):
    return journal_entry(msg, ident, prio, ts)


def test_journal_errors_keeps_postfix_errors_since_the_action():
    lines = "\n".join(
        [
            _entry(100, "postfix/smtpd", 2, "fatal: old failure before the action"),
            _entry(200, "postfix/smtpd", 2, "fatal: bad boolean configuration: smtpd_helo_required = maybe"),
            _entry(201, "postfix/master", 6, "reload -- version 3.7.11"),
            _entry(202, "postfix/smtpd", 4, "warning: something minor"),
            _entry(203, "dovecot", 3, "error: not postfix"),
            _entry(204, "postfix/postfix-script", 6, "error: logged at info priority"),
            "-- No entries --",
        ]
    )
    assert rt.journal_errors(lines, since_us=150) == [
        "postfix/smtpd: fatal: bad boolean configuration: smtpd_helo_required = maybe",
        "postfix/postfix-script: error: logged at info priority",
    ]


def test_journal_message_as_byte_array():
    line = json.dumps(
        {
            "__REALTIME_TIMESTAMP": "5",
            "SYSLOG_IDENTIFIER": "postfix/smtpd",
            "PRIORITY": "3",
            "MESSAGE": list(b"error: x"),
        }
    )
    assert rt.journal_errors(line, 0) == ["postfix/smtpd: error: x"]


@pytest.mark.parametrize(
    "value,address",
    [
        ("all", "127.0.0.1"),
        ("loopback-only", "127.0.0.1"),
        ("192.0.2.10, 127.0.0.1", "127.0.0.1"),
        ("192.0.2.10", "192.0.2.10"),
        ("[::1]", "::1"),
        ("", "127.0.0.1"),
    ],
)
def test_probe_address(value, address):
    assert rt.probe_address(value) == address


def test_queue_size_counts_files_in_every_queue(tmp_path):
    for queue, n in (("deferred/A", 2), ("active", 1), ("hold", 1), ("corrupt", 5)):
        d = tmp_path / queue
        d.mkdir(parents=True)
        for i in range(n):
            (d / f"msg{i}").write_text("x")
    assert rt.queue_size(str(tmp_path)) == 4
