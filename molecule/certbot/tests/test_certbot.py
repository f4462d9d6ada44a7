"""Real ACME certificates from Pebble served by Postfix; renewal reloads; failures keep the old one."""

from __future__ import annotations

from conftest_common import wait_for

LIVE = "/etc/letsencrypt/live/mailhost"


def served(mx1) -> dict:
    """Issuer, names and serial of the certificate Postfix serves on STARTTLS."""
    out = mx1.check_output(
        "openssl s_client -starttls smtp -connect 127.0.0.1:25 -servername mx1.example.test </dev/null 2>/dev/null"
        " | openssl x509 -noout -issuer -serial -ext subjectAltName"
    )
    return {
        "issuer": next(line for line in out.splitlines() if line.startswith("issuer")),
        "serial": next(line for line in out.splitlines() if line.startswith("serial")),
        "names": out,
    }


def archive_count(mx1) -> int:
    return int(mx1.check_output("ls /etc/letsencrypt/archive/mailhost | wc -l"))


def test_postfix_serves_the_pebble_certificate(mx1):
    cert = served(mx1)
    assert "Pebble" in cert["issuer"], cert
    assert "DNS:mx1.example.test" in cert["names"]
    assert mx1.check_output("postconf -h smtpd_tls_chain_files") == f"{LIVE}/privkey.pem, {LIVE}/fullchain.pem"


def test_renewal_uses_the_packaged_timer_and_no_cron(mx1):
    assert mx1.service("certbot.timer").is_enabled
    assert (
        mx1.run(
            "grep -rl certbot /etc/cron.d /etc/crontab /var/spool/cron 2>/dev/null | grep -v '^/etc/cron.d/certbot$'"
        ).rc
        != 0
    )


def test_second_run_requests_nothing(mx1, converge):
    before, serial = archive_count(mx1), served(mx1)["serial"]
    run = converge()
    assert run.returncode == 0, run.messages
    assert run.changed("mx1") == 0
    assert archive_count(mx1) == before and served(mx1)["serial"] == serial


def test_forced_renewal_runs_the_hook_and_keeps_queued_mail(mx1):
    # Over SMTP the sender access table puts this message on hold: it stays queued.
    mx1.run("postsuper -d ALL hold")
    sent = mx1.run(
        "swaks --server 127.0.0.1 --helo mx1.example.test --from hold-me@example.net --to alice@example.test"
        " --header 'Subject: renew-held' --body 'queued before renewal'"
    )
    assert sent.rc == 0, sent.stdout
    assert wait_for(lambda: '"queue_name": "hold"' in mx1.run("postqueue -j").stdout)
    before = served(mx1)["serial"]
    out = mx1.run("certbot renew --force-renewal --cert-name mailhost --no-random-sleep-on-renew")
    assert out.rc == 0, out.stdout + out.stderr
    assert wait_for(lambda: served(mx1)["serial"] != before), "Postfix still serves the old certificate"
    log = mx1.check_output("journalctl -q -t mailops-certbot-hook --no-pager")
    assert "reloaded Postfix with the renewed certificate" in log
    mx1.check_output("postsuper -H ALL")
    mx1.run("postqueue -f")
    assert wait_for(lambda: "Subject: renew-held" in mx1.run("cat /var/mail/alice").stdout), mx1.run("mailq").stdout


def test_acme_server_down_reports_failure_and_keeps_the_certificate(mx1, converge, acme):
    before = served(mx1)["serial"]
    acme("stop-pebble")
    try:
        run = converge({"certbot_domains": ["mx1.example.test", "smtp.example.test"]})
    finally:
        acme("start-pebble")
    assert run.returncode != 0
    assert "the certificate in service stays in place" in run.messages, run.messages
    assert served(mx1)["serial"] == before
    assert mx1.run("postfix status").rc == 0
