# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probes that follow a Postfix change: every SMTP listener answers, and a message goes through.

A listener probe connects to each inet smtpd service of master.cf (25, 587, 465 and any other),
expects the 220 greeting, says EHLO, starts TLS where the service requires it (or is wrapped in
TLS, as 465 is), and, where the service enables SASL, expects AUTH to be offered: the 587/465
listeners die at the first connection with "no SASL authentication mechanisms" when Dovecot's
socket is missing, and only a connection shows it.

The delivery probe submits a message over SMTP on loopback (so the milters sign it, as they sign
the host's own mail); a HOLD rule for loopback clients keeps it in the queue until its signature
has been read, then it is released to a local alias that delivers to /dev/null. Runs on the host,
with the standard library only.
"""

from __future__ import annotations

import json
import re
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass

from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import MasterService

PROBE_LOCAL_PART = "mailhost-probe"
HOLD_CLASS = "mailhost_probe_hold"
# A held probe younger than this may belong to a run or an audit still reading it.
STALE_PROBE_AGE = 60
_QUEUED = re.compile(r"queued as ([0-9A-Za-z]+)")


@dataclass
class Listener:
    service: str
    host: str
    port: int
    wrapper: bool
    tls_required: bool
    sasl: bool

    @property
    def label(self) -> str:
        return f"{self.service} ({self.host}:{self.port})"


def service_port(name: str) -> tuple[str, int] | None:
    """(host, port) of a master.cf inet service name ('smtp', '587', '127.0.0.1:2525'), or None."""
    host, sep, port = name.rpartition(":")
    if not sep:
        host, port = "", name
    host = host.strip("[]")
    if port.isdigit():
        return host, int(port)
    try:
        return host, socket.getservbyname(port, "tcp")
    except OSError:
        return None


def listeners(services: list[MasterService], params: dict[str, str], default_host: str) -> list[Listener]:
    """The smtpd listeners of master.cf, with what each must offer."""
    found = []
    for svc in services:
        if svc.type != "inet" or svc.command != "smtpd":
            continue
        where = service_port(svc.name)
        if where is None:
            continue
        host, port = where
        opts = svc.options

        def value(name: str, opts: dict = opts) -> str:
            return opts.get(name, params.get(name, "")).strip().lower()

        found.append(
            Listener(
                service=svc.key,
                host=host or default_host,
                port=port,
                wrapper=value("smtpd_tls_wrappermode") == "yes",
                tls_required=value("smtpd_tls_security_level") == "encrypt",
                sasl=value("smtpd_sasl_auth_enable") == "yes",
            )
        )
    return found


def _context() -> ssl.SSLContext:
    # The probe checks that TLS works at all; the certificate's trust is the audit's concern.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def probe_listener(listener: Listener, helo: str, timeout: float = 10.0) -> str | None:
    """What is wrong with a listener, or None when it greets, speaks TLS as required and offers AUTH."""
    try:
        if listener.wrapper:
            client = smtplib.SMTP_SSL(
                listener.host, listener.port, local_hostname=helo, timeout=timeout, context=_context()
            )
        else:
            client = smtplib.SMTP(listener.host, listener.port, local_hostname=helo, timeout=timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{listener.label} does not greet: {exc or type(exc).__name__}"
    try:
        code, _msg = client.ehlo()
        if code != 250:
            return f"{listener.label} answered EHLO with {code}"
        if not listener.wrapper and (listener.tls_required or listener.sasl):
            if not client.has_extn("starttls"):
                return f"{listener.label} does not offer STARTTLS, although it requires TLS"
            client.starttls(context=_context())
            code, _msg = client.ehlo()
            if code != 250:
                return f"{listener.label} answered EHLO after STARTTLS with {code}"
        if listener.sasl and not client.has_extn("auth"):
            return f"{listener.label} does not offer AUTH after TLS, although SASL is enabled on it"
        return None
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return f"{listener.label} failed during the conversation: {exc or type(exc).__name__}"
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def probe_message(sender: str, recipient: str, token: str, helo: str) -> bytes:
    """The probe message: a plain text message from ``sender`` naming its token."""
    return (
        f"From: <{sender}>\r\n"
        f"To: <{recipient}>\r\n"
        f"Subject: mailops.mailhost delivery probe {token}\r\n"
        f"Message-ID: <{token}@{helo}>\r\n"
        f"X-Mailhost-Probe: {token}\r\n"
        f"\r\n"
        f"This message checks that mail flows after a configuration change.\r\n"
        f"It is delivered to /dev/null and never reaches a mailbox.\r\n"
    ).encode("ascii")


def new_token() -> str:
    return uuid.uuid4().hex


def submit(host: str, port: int, helo: str, sender: str, recipient: str, message: bytes, timeout: float = 30.0):
    """Submit one message over SMTP; (queue id, None) or (None, the server's refusal)."""
    try:
        client = smtplib.SMTP(host, port, local_hostname=helo, timeout=timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return None, f"cannot connect to {host}:{port}: {exc or type(exc).__name__}"
    try:
        client.ehlo()
        for step, call in (("MAIL FROM", lambda: client.mail(sender)), ("RCPT TO", lambda: client.rcpt(recipient))):
            code, text = call()
            if code >= 400:
                return (
                    None,
                    f"{step} <{sender if step == 'MAIL FROM' else recipient}> refused: "
                    f"{code} {text.decode('utf-8', 'replace')}",
                )
        code, text = client.data(message)
        reply = text.decode("utf-8", "replace")
        match = _QUEUED.search(reply)
        if code >= 400 or not match:
            return None, f"the message was refused at DATA: {code} {reply}"
        return match.group(1), None
    except smtplib.SMTPResponseException as exc:
        return None, f"the message was refused: {exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}"
    except (OSError, smtplib.SMTPException) as exc:
        return None, f"the SMTP conversation failed: {exc or type(exc).__name__}"
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def stale_probes(postqueue_json: str, now: float, min_age: float = STALE_PROBE_AGE) -> list[str]:
    """Queue ids of held probe messages older than ``min_age`` seconds (``postqueue -j`` output).

    Those are left by a run or an audit killed while its probe was held; a younger one may be
    another run's, still being read.
    """
    ids = []
    for line in postqueue_json.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("queue_name") != "hold":
            continue
        if not str(entry.get("sender", "")).startswith(PROBE_LOCAL_PART + "@"):
            continue
        try:
            arrived = float(entry.get("arrival_time", 0))
        except (TypeError, ValueError):
            arrived = 0.0
        if now - arrived >= min_age and entry.get("queue_id"):
            ids.append(str(entry["queue_id"]))
    return ids


def delivery_outcome(lines: list[str], queue_id: str) -> tuple[str | None, list[str]]:
    """From the log lines since the probe: ('sent' | 'deferred' | 'bounced' | None, the lines of that message)."""
    mine = [line for line in lines if f"{queue_id}:" in line]
    for line in mine:
        match = re.search(r"\bstatus=(sent|deferred|bounced|expired)\b", line)
        if match:
            return ("bounced" if match.group(1) == "expired" else match.group(1)), mine
    return None, mine
