"""The postfix_reload module: right action, journal gate, rollback, never left stopped."""

from __future__ import annotations

from pathlib import Path

from conftest import journal_entry

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback
from ansible_collections.mailops.mailhost.plugins.modules import postfix_reload

BASE = {"probe": False, "timeout": 5}


def systemctl_actions(env):
    return [c[1] for c in env.calls if c[0].endswith("systemctl")]


def test_running_postfix_is_reloaded(postfix_env, run_module):
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config)})
    assert not out.failed, out.result
    assert out.result["action"] == "reload" and systemctl_actions(postfix_env) == ["reload"]
    assert out.result["queue_before"] == 0 and out.result["queue_after"] == 0


def test_stopped_postfix_is_started_and_restart_honoured(postfix_env, run_module):
    postfix_env.running = False
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config)})
    assert out.result["action"] == "start"
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "restart": True})
    assert out.result["action"] == "restart"


def test_check_mode_runs_nothing(postfix_env, run_module):
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config)}, check_mode=True)
    assert out.result["action"] == "reload" and systemctl_actions(postfix_env) == []


def test_journal_error_rolls_back_and_fails(postfix_env, run_module):
    live = postfix_env.config / "main.cf"
    backup = postfix_env.tmp / "backup" / "gen1"
    backup.mkdir(parents=True)
    live.write_text("myhostname = previous.example.com\n")
    _rollback.save(str(backup), [str(live)], {})
    live.write_text("myhostname = broken.example.com\n")
    postfix_env.journal.append(journal_entry("fatal: bad"))
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "rollback_dir": str(backup)})
    assert out.failed and out.result["rolled_back"] is True
    assert "fatal: bad" in out.result["msg"] and "previous configuration was restored and is live" in out.result["msg"]
    assert Path(live).read_text() == "myhostname = previous.example.com\n"
    assert systemctl_actions(postfix_env) == ["reload", "restart"]


def test_failed_check_does_not_reload_and_restores(postfix_env, run_module):
    postfix_env.responses["postfix -c"] = (1, "", "postfix/postfix-script: fatal: broken\n")
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config)})
    assert out.failed and "postfix check failed" in out.result["msg"]
    assert systemctl_actions(postfix_env) == []


def test_state_started_leaves_a_running_postfix_alone(postfix_env, run_module):
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "state": "started"})
    assert out.result["changed"] is False and out.result["action"] == "none"
    assert systemctl_actions(postfix_env) == []


def test_state_started_starts_a_stopped_postfix(postfix_env, run_module):
    postfix_env.running = False
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "state": "started"})
    assert out.result["changed"] is True and systemctl_actions(postfix_env) == ["start"]


def test_enabled_only_when_not_enabled(postfix_env, run_module):
    postfix_env.responses["systemctl is-enabled"] = (1, "disabled\n", "")
    out = run_module(
        postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "state": "started", "enabled": True}
    )
    assert out.result["changed"] is True and out.result["enabled_changed"] is True
    assert systemctl_actions(postfix_env) == ["is-enabled", "enable"]
    postfix_env.calls.clear()
    postfix_env.responses["systemctl is-enabled"] = (0, "enabled\n", "")
    out = run_module(
        postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "state": "started", "enabled": True}
    )
    assert out.result["changed"] is False


def test_bad_arguments_are_refused_before_anything_is_done(postfix_env, run_module):
    for extra, expected in [
        ({"timeout": -1}, "timeout: -1.0 must be more than 0"),
        ({"keep_generations": 0}, "keep_generations: 0"),
        ({"probe_recipient": "no-at-sign"}, "probe_recipient"),
        ({"probe_dkim": [{"domain": "a b", "public_key": "MII"}]}, "probe_dkim[0].domain"),
        ({"probe_dkim": [{"domain": "example.com", "public_key": "not base64!"}]}, "probe_dkim[0].public_key"),
        ({"rollback_dir": str(postfix_env.tmp / "nowhere")}, "is not a rollback generation"),
    ]:
        out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config), **extra})
        assert out.failed and expected in out.result["msg"], (extra, out.result["msg"])
    assert systemctl_actions(postfix_env) == []


def test_success_clears_the_pending_mark_and_prunes_old_generations(postfix_env, run_module):
    backup_dir = postfix_env.tmp / "backup"
    generations = []
    for _attempt in range(4):
        generation = _rollback.new_generation(str(backup_dir))
        _rollback.save(generation, [], {})
        generations.append(generation)
    _rollback.mark_pending(str(backup_dir), generations[-1], "postfix")
    args = {**BASE, "config_dir": str(postfix_env.config), "rollback_dir": generations[-1], "keep_generations": 2}
    out = run_module(postfix_reload, args)
    assert not out.failed, out.result
    assert _rollback.pending(str(backup_dir)) is None
    assert sorted(str(p) for p in backup_dir.iterdir() if p.is_dir()) == sorted(generations[-2:])


def test_a_failure_restores_the_extra_generations_too_and_runs_their_commands(postfix_env, run_module):
    dkim_file = postfix_env.tmp / "KeyTable"
    dkim_file.write_text("previous\n")
    extra = _rollback.new_generation(str(postfix_env.tmp / "opendkim-rollback"))
    _rollback.save(extra, [str(dkim_file)], {}, [["/usr/bin/systemctl", "restart", "opendkim"]])
    dkim_file.write_text("new\n")
    postfix_env.journal.append(journal_entry("fatal: bad"))
    out = run_module(postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "rollback_extra": [extra]})
    assert out.failed and out.result["rolled_back"] is True
    assert dkim_file.read_text() == "previous\n"
    assert ["/usr/bin/systemctl", "restart", "opendkim"] in postfix_env.calls


def test_verify_probes_without_reloading(postfix_env, run_module):
    out = run_module(
        postfix_reload, {**BASE, "config_dir": str(postfix_env.config), "state": "started", "verify": True}
    )
    assert not out.failed and out.result["action"] == "none" and systemctl_actions(postfix_env) == []
