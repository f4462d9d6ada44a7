"""Unit tests for plugins/module_utils/_probe.py: which listeners are probed, how a delivery is read."""

from __future__ import annotations

import smtplib
import socket
import threading

from ansible_collections.mailops.mailhost.plugins.module_utils import _probe
from ansible_collections.mailops.mailhost.plugins.module_utils._master_cf import parse_master_cf

MASTER = (
    "smtp inet n - y - - smtpd\n"
    "submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes\n"
    "smtps inet n - y - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes\n"
    "127.0.0.1:10025 inet n - n - - smtpd\n"
    "pickup unix n - y 60 1 pickup\n"
    "relay inet n - y - - smtp\n"
)


def test_every_smtpd_listener_with_what_it_must_offer():
    found = _probe.listeners(parse_master_cf(MASTER), {"smtpd_tls_security_level": "may"}, "127.0.0.1")
    assert [(x.service, x.host, x.port, x.wrapper, x.tls_required, x.sasl) for x in found] == [
        ("smtp/inet", "127.0.0.1", 25, False, False, False),
        ("submission/inet", "127.0.0.1", 587, False, True, True),
        ("smtps/inet", "127.0.0.1", 465, True, False, True),
        ("127.0.0.1:10025/inet", "127.0.0.1", 10025, False, False, False),
    ]


def test_service_ports():
    assert _probe.service_port("2525") == ("", 2525)
    assert _probe.service_port("[::1]:2525") == ("::1", 2525)
    assert _probe.service_port("no-such-service-name") is None


def test_delivery_outcome_reads_the_probe_messages_lines_only():
    lines = [
        "postfix/qmgr: ABC123: from=<mailhost-probe@example.test>, size=664, nrcpt=1 (queue active)",
        "postfix/local: OTHER1: to=<x@y>, status=deferred (whatever)",
        "postfix/local: ABC123: to=<mailhost-probe@mx.example.test>, relay=local, "
        "status=sent (delivered to file: /dev/null)",
    ]
    status, evidence = _probe.delivery_outcome(lines, "ABC123")
    assert status == "sent" and len(evidence) == 2
    assert _probe.delivery_outcome(lines[:1], "ABC123")[0] is None
    assert _probe.delivery_outcome(lines, "OTHER1")[0] == "deferred"


def test_probe_message_carries_its_token_and_says_where_it_goes():
    text = _probe.probe_message("mailhost-probe@example.test", "mailhost-probe@mx.example.test", "t0k3n", "mx").decode()
    assert "X-Mailhost-Probe: t0k3n" in text and "/dev/null" in text and text.count("\r\n\r\n") == 1


def test_a_listener_that_closes_at_once_is_reported():
    """What a 587 listener without SASL mechanisms does: smtpd dies at the first connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def close_at_once():
        conn, _addr = server.accept()
        conn.close()

    thread = threading.Thread(target=close_at_once)
    thread.start()
    try:
        listener = _probe.Listener("submission/inet", "127.0.0.1", port, False, True, True)
        problem = _probe.probe_listener(listener, "mx.example.test", timeout=5)
    finally:
        thread.join()
        server.close()
    assert problem.startswith(f"submission/inet (127.0.0.1:{port}) does not greet"), problem


def test_submit_reports_the_servers_refusal(monkeypatch):
    class Refusing:
        def __init__(self, *args, **kwargs):
            pass

        def ehlo(self):
            return 250, b"ok"

        def mail(self, sender):
            return 250, b"ok"

        def rcpt(self, recipient):
            return 250, b"ok"

        def data(self, message):
            raise smtplib.SMTPDataError(451, b"4.7.0 resource unavailable")

        def quit(self):
            pass

    monkeypatch.setattr(_probe.smtplib, "SMTP", Refusing)
    queue_id, refusal = _probe.submit("127.0.0.1", 25, "mx", "a@example.test", "b@mx.example.test", b"x")
    assert queue_id is None and refusal == "the message was refused: 451 4.7.0 resource unavailable"
