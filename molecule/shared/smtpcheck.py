"""SMTP test client run inside the Molecule client containers; prints JSON.

smtpcheck talk HOST PORT STEP...      one conversation; a STEP is an SMTP command, or
                                      'STARTTLS' (TLS upgrade), 'EHLO' (records the keywords)
smtpcheck relay HOST PORT DOMAIN [--tls] [--helo NAME]
                                      the relay battery: every pattern must be refused at RCPT
smtpcheck send HOST PORT FROM TO SUBJECT [--tls | --ssl] [--auth USER:PASS]
                                      --ssl: TLS from the first byte (SMTPS, port 465)
"""

from __future__ import annotations

import base64
import contextlib
import json
import smtplib
import ssl
import sys

HELO = "client.example.net"


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test server's certificate is self-signed
    return context


def connect(host: str, port: int, timeout: float = 20, implicit_tls: bool = False) -> tuple[smtplib.SMTP, list]:
    conn = smtplib.SMTP_SSL(timeout=timeout, context=_tls_context()) if implicit_tls else smtplib.SMTP(timeout=timeout)
    conn._host = host  # smtplib needs it for the TLS server_hostname when constructed empty
    code, msg = conn.connect(host, port)
    return conn, [code, msg.decode("utf-8", "replace")]


def talk(host: str, port: int, steps: list[str]) -> dict:
    conn, banner = connect(host, port)
    replies = []
    for step in steps:
        if step.upper() == "STARTTLS":
            code, msg = conn.starttls(context=_tls_context())
            conn.ehlo_resp = None
        elif step.upper() == "EHLO":
            code, msg = conn.ehlo(HELO)
            replies.append({"step": step, "code": code, "text": msg.decode(), "features": sorted(conn.esmtp_features)})
            continue
        else:
            code, msg = conn.docmd(step)
        replies.append({"step": step, "code": code, "text": msg.decode("utf-8", "replace")})
    with contextlib.suppress(smtplib.SMTPException):
        conn.quit()
    return {"banner": banner, "replies": replies}


def relay_patterns(domain: str, host: str) -> list[tuple[str, str]]:
    """(MAIL FROM, RCPT TO) pairs that try to make ``host`` relay to example.org."""
    victim = "victim@relay-target.example.org"
    return [
        ("tester@example.net", victim),
        ("tester@example.net", "victim%relay-target.example.org@" + domain),
        ("tester@example.net", "victim%relay-target.example.org@" + host),
        ("tester@example.net", "relay-target.example.org!victim@" + domain),
        ("tester@example.net", "relay-target.example.org!victim"),
        ("tester@example.net", "@" + host + ":" + victim),
        ("tester@example.net", "@" + domain + ",@" + host + ":" + victim),
        ("tester@example.net", '"' + victim + '"'),
        ("tester@example.net", '"' + victim + '"@' + domain),
        ("tester@example.net", victim + "@" + domain),
        ("tester@example.net", "victim@[192.0.2.1]"),
        ("tester@example.net", "victim%relay-target.example.org@[192.0.2.1]"),
        ("", victim),
        ("postmaster@" + domain, victim),
        ("root@" + host, victim),
        ("tester@example.net", victim + "."),
        ("tester@example.net", victim.upper()),
        ("tester@example.net", "victim@relay-target.example.org%" + domain),
        ("tester@example.net", "relay-target.example.org!victim%" + domain + "@" + host),
        ("tester@example.net", '"victim%relay-target.example.org"@' + domain),
    ]


def relay(host: str, port: int, domain: str, tls: bool) -> list[dict]:
    results = []
    patterns = relay_patterns(domain, host)
    # A few patterns per connection: smtpd slows down and disconnects after many errors.
    for start in range(0, len(patterns), 4):
        conn, _banner = connect(host, port)
        conn.ehlo(HELO)
        if tls:
            conn.starttls(context=_tls_context())
            conn.ehlo(HELO)
        for sender, rcpt in patterns[start : start + 4]:
            mail_code, _reply = conn.docmd(f"MAIL FROM:<{sender}>")
            rcpt_code, rcpt_msg = conn.docmd(f"RCPT TO:<{rcpt}>")
            conn.docmd("RSET")
            results.append(
                {
                    "from": sender,
                    "rcpt": rcpt,
                    "mail_code": mail_code,
                    "rcpt_code": rcpt_code,
                    "rcpt_text": rcpt_msg.decode("utf-8", "replace"),
                }
            )
        conn.quit()
    return results


def auth_plain(conn: smtplib.SMTP, user: str, password: str) -> None:
    """Exactly one AUTH PLAIN attempt (smtplib.login would retry with the next mechanism)."""
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    code, text = conn.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def auth_failures(host: str, port: int, user: str, password: str, count: int) -> list[int]:
    """``count`` connections, each with one failed AUTH PLAIN after STARTTLS; the reply codes.

    The timeout is long: Dovecot delays its answer more after each failure from an address
    (its auth penalty), and a client that hangs up first leaves no failure in the log.
    """
    codes = []
    for _attempt in range(count):
        try:
            conn, _banner = connect(host, port, timeout=60)
            conn.ehlo(HELO)
            conn.starttls(context=_tls_context())
            conn.ehlo(HELO)
            auth_plain(conn, user, password)
            codes.append(235)
        except smtplib.SMTPAuthenticationError as exc:
            codes.append(exc.smtp_code)
            with contextlib.suppress(Exception):
                conn.quit()  # end the session cleanly: only the failed AUTH is left in the log
        except (OSError, smtplib.SMTPException):
            codes.append(0)  # refused or dropped
        with contextlib.suppress(Exception):
            conn.close()
    return codes


def send(
    host: str, port: int, sender: str, rcpt: str, subject: str, tls: bool, auth: str | None, ssl_: bool = False
) -> dict:
    conn, _banner = connect(host, port, implicit_tls=ssl_)
    conn.ehlo(HELO)
    if tls:
        conn.starttls(context=_tls_context())
        conn.ehlo(HELO)
    if auth:
        user, _sep, password = auth.partition(":")
        auth_plain(conn, user, password)
    message = f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n\r\nTest message {subject}.\r\n"
    try:
        refused = conn.sendmail(sender, [rcpt], message)
        result = {"ok": not refused, "refused": {k: list(v) for k, v in refused.items()}}
    except smtplib.SMTPResponseException as exc:
        result = {"ok": False, "code": exc.smtp_code, "text": exc.smtp_error.decode("utf-8", "replace")}
    except smtplib.SMTPRecipientsRefused as exc:
        result = {"ok": False, "refused": {k: [v[0], v[1].decode()] for k, v in exc.recipients.items()}}
    conn.quit()
    return result


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a in ("--tls", "--ssl")}
    args = [a for a in argv if a not in flags]
    auth = None
    if "--auth" in args:
        i = args.index("--auth")
        auth = args[i + 1]
        del args[i : i + 2]
    command, host, port = args[0], args[1], int(args[2])
    if command == "talk":
        out = talk(host, port, args[3:])
    elif command == "relay":
        out = relay(host, port, args[3], "--tls" in flags)
    elif command == "authfail":
        out = auth_failures(host, port, args[3], args[4], int(args[5]))
    elif command == "send":
        out = send(host, port, args[3], args[4], args[5], "--tls" in flags, auth, "--ssl" in flags)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
