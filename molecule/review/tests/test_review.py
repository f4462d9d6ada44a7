"""The reviewable change process, end to end, with the example repository's own ci/ commands.

Applied first (the merge of the initial inventory), then: a change proposed in production's
group_vars is checked without host access and planned exactly; applied, after which both plans
are empty; hand-made drift is caught; a change that opens a relay is refused offline; a listener
change is planned as a restart, with the reason.
"""

from __future__ import annotations

import re

import pytest

PRODUCTION, STAGING = "mx1.example.com", "mx1.staging.example.com"


def entries(plan_json: dict, host: str) -> list[dict]:
    return plan_json["hosts"][host]["entries"]


def items(plan_json: dict, host: str) -> set[tuple[str, str]]:
    return {(e["kind"], e["item"]) for e in entries(plan_json, host)}


def assert_no_secret(repo, inventory: str, text: str) -> None:
    secrets = repo.secrets(inventory)
    key_lines = [line for line in secrets["vault_dkim_mail2026"].splitlines() if not line.startswith("-----")]
    for needle in [secrets["vault_alice_hash"], secrets["vault_alice_hash"].split("$")[-1][:30], *key_lines[1:4]]:
        assert needle not in text, "a secret is in the plan"


def test_the_initial_inventory_is_applied_to_both_hosts(repo, staging, production):
    for inventory in ("staging", "production"):
        run = repo.ci("apply", inventory)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert production.check_output("postconf -h myhostname") == PRODUCTION
    assert staging.check_output("postconf -h myhostname") == STAGING


def test_a_change_to_production_is_checked_offline_and_planned_exactly(repo, production):
    repo.edit(
        "production",
        postfix_message_size_limit=36700160,
        postfix_virtual_aliases={
            "postmaster@example.com": "root",
            "abuse@example.com": "root",
            "sales@example.com": "root",
        },
        opendkim_keys=[
            {"domain": "example.com", "selector": "mail2026", "private_key": "{{ vault_dkim_mail2026 }}"},
            {"domain": "example.com", "selector": "mail2027"},
        ],
    )
    check = repo.ci("check")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert (repo.root / "mailhost-check" / "production" / PRODUCTION / "main.cf").exists()
    for inventory in ("staging", "production"):
        run = repo.ci("plan", inventory)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    markdown, plan = repo.plan("production")
    found = items(plan, PRODUCTION)
    assert ("parameter", "message_size_limit") in found
    assert ("table", "/etc/postfix/virtual: sales@example.com") in found
    assert ("key", "example.com/mail2027") in found
    assert ("record", "mail2027._domainkey.example.com") in found
    assert plan["hosts"][PRODUCTION]["postfix_action"]["action"] == "reload"
    expected_components = {"postfix", "opendkim"}
    assert {e["component"] for e in entries(plan, PRODUCTION)} == expected_components, entries(plan, PRODUCTION)
    # The Markdown says what the JSON says.
    for entry in entries(plan, PRODUCTION):
        assert str(entry["item"])[:60] in markdown, entry
    assert "**reload**" in markdown
    assert_no_secret(repo, "production", markdown + repo.plan("production")[0])
    # Staging is not affected.
    staging_md, staging_plan = repo.plan("staging")
    assert staging_plan["hosts"][STAGING]["changes"] == 0 and "No changes." in staging_md
    assert production.check_output("postconf -h message_size_limit") == "26214400", "the plan changed the host"


def test_after_the_apply_both_plans_are_empty(repo, production):
    run = repo.ci("apply", "production")
    assert run.returncode == 0, run.stdout[-3000:]
    assert production.check_output("postconf -h message_size_limit") == "36700160"
    assert production.check_output("postmap -q sales@example.com hash:/etc/postfix/virtual") == "root"
    for inventory, host in (("staging", STAGING), ("production", PRODUCTION)):
        assert repo.ci("plan", inventory).returncode == 0
        markdown, plan = repo.plan(inventory)
        assert plan["hosts"][host]["changes"] == 0, plan["hosts"][host]
        assert "No changes." in markdown
    zones = list(repo.root.glob("**/dkim-records/example.com.zone"))
    assert zones and "mail2027._domainkey.example.com." in zones[0].read_text(), zones


def test_hand_made_drift_fails_the_drift_check_and_is_reported_security_first(repo, production):
    production.check_output("postconf -e mynetworks=0.0.0.0/0 && postfix reload")
    production.check_output("systemctl stop fail2ban")
    production.check_output("chmod 644 /etc/opendkim/keys/example.com/mail2026.private")
    run = repo.ci("drift", "production")
    assert run.returncode != 0, "the drift check passed although the host drifted"
    assert "drift on 1 host(s): mx1.example.com" in run.stdout
    markdown, plan = repo.plan("production")
    security = plan["security"]
    assert any(
        e["kind"] == "parameter" and e["item"] == "mynetworks" and e["before"] == "0.0.0.0/0" for e in security
    ), security
    assert any(e["component"] == "fail2ban" for e in security), security
    assert any(e["kind"] == "key" and "mail2026" in e["item"] for e in security), security
    first = markdown.index("### Security-relevant")
    assert first < markdown.index("| Host |") and "mynetworks" in markdown[first : markdown.index("| Host |")]
    fix = repo.ci("apply", "production")
    assert fix.returncode == 0
    assert production.check_output("postconf -h mynetworks").startswith("127.0.0.0/8")
    assert repo.ci("drift", "production").returncode == 0


def test_a_pull_request_that_opens_a_relay_is_refused_offline(repo, production):
    cursor = production.check_output("journalctl -n 0 --show-cursor -q --no-pager").split("cursor: ", 1)[1].strip()
    repo.edit("production", postfix_mynetworks=["0.0.0.0/0"])
    try:
        run = repo.ci("check")
        assert run.returncode != 0
        assert "postfix_mynetworks: '0.0.0.0/0' trusts every address on the Internet" in run.stdout
        logged = production.run(f"journalctl -q --no-pager --after-cursor '{cursor}'").stdout
        assert "ansible-" not in logged, "the offline check contacted the host"
    finally:
        repo.edit("production", postfix_mynetworks=["127.0.0.0/8", "[::1]/128", "192.0.2.0/28"])


@pytest.mark.parametrize("inventory,host", [("production", PRODUCTION)])
def test_a_new_listener_is_planned_as_a_restart_with_the_reason(repo, inventory, host):
    repo.edit(inventory, postfix_smtps_enabled=True)
    run = repo.ci("plan", inventory)
    assert run.returncode == 0, run.stdout[-3000:]
    markdown, plan = repo.plan(inventory)
    action = plan["hosts"][host]["postfix_action"]
    assert action["action"] == "restart" and "new listener smtps" in action["why"], action
    assert re.search(r"\| restart \| new listener smtps", markdown), markdown
    assert ("service", "smtps/inet") in items(plan, host)
