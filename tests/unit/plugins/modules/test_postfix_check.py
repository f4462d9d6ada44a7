"""The postfix_check module: findings with severities; read-only in check mode."""

from __future__ import annotations

from ansible_collections.mailops.mailhost.plugins.modules import postfix_check


def test_clean_configuration_passes_and_runs_postfix_check(postfix_env, run_module):
    out = run_module(postfix_check, {"config_dir": str(postfix_env.config)})
    assert not out.failed, out.result
    assert out.result["counts"] == {"warning": 0, "error": 0, "fatal": 0, "panic": 0}
    assert any(c[-1] == "check" for c in postfix_env.calls)


def test_check_mode_skips_postfix_check(postfix_env, run_module):
    run_module(postfix_check, {"config_dir": str(postfix_env.config)}, check_mode=True)
    assert not any(c[-1] == "check" for c in postfix_env.calls)


def test_warnings_fail_only_when_asked(postfix_env, run_module):
    (postfix_env.config / "main.cf").write_text("bogus_x = 1\n")
    out = run_module(postfix_check, {"config_dir": str(postfix_env.config)})
    assert not out.failed and out.result["counts"]["warning"] == 1
    out = run_module(postfix_check, {"config_dir": str(postfix_env.config), "fail_on_warnings": True})
    assert out.failed and "unused parameter: bogus_x=1" in out.result["msg"]


def test_fatal_from_postfix_check_fails(postfix_env, run_module):
    postfix_env.responses["postfix -c"] = (1, "", "postfix/postfix-script: fatal: cannot execute /usr/sbin/postconf!\n")
    out = run_module(postfix_check, {"config_dir": str(postfix_env.config)})
    assert out.failed and out.result["counts"]["fatal"] == 1
