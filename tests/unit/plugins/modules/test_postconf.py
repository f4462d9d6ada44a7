"""The postconf module: validate the whole candidate, write only what passed, keep a rollback copy."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.mailops.mailhost.plugins.modules import postconf


def args(env, **kw):
    return {"config_dir": str(env.config), "backup_dir": str(env.tmp / "backup"), **kw}


def test_check_mode_reports_change_with_diff_and_writes_nothing(postfix_env, run_module):
    before = (postfix_env.config / "main.cf").read_text()
    out = run_module(postconf, args(postfix_env, params={"disable_vrfy_command": True}), check_mode=True, diff=True)
    assert not out.failed, out.result
    assert out.result["changed"] is True
    assert out.result["changed_params"] == ["disable_vrfy_command"]
    assert out.result["diff"][0]["after"] == "disable_vrfy_command = yes\n"
    assert (postfix_env.config / "main.cf").read_text() == before
    assert not (postfix_env.tmp / "backup").exists()


def test_apply_writes_keeps_backup_then_second_run_changes_nothing(postfix_env, run_module):
    a = args(postfix_env, params={"myhostname": "new.example.com", "disable_vrfy_command": "yes"})
    out = run_module(postconf, a)
    assert not out.failed, out.result
    assert out.result["changed_params"] == ["disable_vrfy_command", "myhostname"]
    assert out.result["restart_required"] is False and out.result["reload_required"] is True
    main = (postfix_env.config / "main.cf").read_text()
    assert "myhostname = new.example.com" in main and "disable_vrfy_command = yes" in main
    manifest = json.loads(Path(out.result["backup"], "manifest.json").read_text())
    assert "myhostname = mx.example.com" in Path(manifest[0]["backup"]).read_text()
    again = run_module(postconf, a)
    assert again.result["changed"] is False


def test_inet_interfaces_change_requires_restart(postfix_env, run_module):
    out = run_module(postconf, args(postfix_env, params={"inet_interfaces": "loopback-only"}), check_mode=True)
    assert out.result["restart_required"] is True


def test_unknown_parameter_refused_and_nothing_written(postfix_env, run_module):
    before = (postfix_env.config / "main.cf").read_text()
    out = run_module(postconf, args(postfix_env, params={"bogus_param": "1"}))
    assert out.failed
    assert "unused parameter: bogus_param=1" in out.result["msg"]
    assert "nothing was changed" in out.result["msg"]
    assert (postfix_env.config / "main.cf").read_text() == before


def test_warnings_allowed_when_not_fatal(postfix_env, run_module):
    out = run_module(postconf, args(postfix_env, params={"bogus_param": "1"}, fail_on_warnings=False), check_mode=True)
    assert not out.failed
    assert out.result["findings"][0]["severity"] == "warning"


def test_policy_violation_names_the_variable(postfix_env, run_module):
    out = run_module(
        postconf,
        args(postfix_env, params={"mynetworks": "0.0.0.0/0"}, policy_names={"mynetworks": "postfix_mynetworks"}),
        check_mode=True,
    )
    assert out.failed and "postfix_mynetworks: '0.0.0.0/0'" in out.result["msg"]


def test_missing_certificate_refused(postfix_env, run_module):
    out = run_module(postconf, args(postfix_env, params={"smtpd_tls_chain_files": "/nonexistent/key.pem"}))
    assert out.failed and "/nonexistent/key.pem, which does not exist" in out.result["msg"]


def test_master_cf_command_must_exist(postfix_env, run_module):
    master = "smtp inet n - y - - smtpdd\n"
    out = run_module(postconf, args(postfix_env, master_cf=master), check_mode=True)
    assert out.failed and "runs 'smtpdd'" in out.result["msg"]


def test_map_written_and_compiled_in_same_change_and_referenced(postfix_env, run_module):
    virtual = str(postfix_env.config / "virtual")
    a = args(
        postfix_env,
        params={"virtual_alias_maps": f"hash:{virtual}"},
        maps=[{"path": virtual, "content": "info@example.com alice"}],
    )
    out = run_module(postconf, a)
    assert not out.failed, out.result
    assert out.result["changed_maps"] == [virtual]
    assert Path(virtual).read_text() == "info@example.com alice\n"
    assert Path(virtual + ".db").exists()
    compiles = [c for c in postfix_env.calls if c[0].endswith("postmap")]
    assert len(compiles) == 2  # once in the candidate directory, once live
    postfix_env.calls.clear()
    assert run_module(postconf, a).result["changed"] is False
    assert not [c for c in postfix_env.calls if c[0].endswith("postmap")]


def test_map_written_from_entries_and_unchanged_on_the_second_run(postfix_env, run_module):
    virtual = str(postfix_env.config / "virtual")
    entries = {"info@example.com": "alice", "all@example.com": ["alice", "bob"]}
    a = args(postfix_env, maps=[{"path": virtual, "entries": entries, "source": "postfix_virtual_aliases"}])
    out = run_module(postconf, a)
    assert not out.failed, out.result
    assert Path(virtual).read_text() == (
        "# Managed by Ansible (mailops.mailhost.postfix): postfix_virtual_aliases\n"
        "all@example.com alice, bob\ninfo@example.com alice\n"
    )
    assert run_module(postconf, a).result["changed"] is False


def test_map_with_both_content_and_entries_is_refused(postfix_env, run_module):
    virtual = str(postfix_env.config / "virtual")
    out = run_module(postconf, args(postfix_env, maps=[{"path": virtual, "content": "a b", "entries": {"a": "b"}}]))
    assert out.failed and "mutually exclusive" in out.result["msg"]


def test_map_recompiled_when_index_missing(postfix_env, run_module):
    virtual = postfix_env.config / "virtual"
    virtual.write_text("a b\n")
    out = run_module(postconf, args(postfix_env, maps=[{"path": str(virtual), "content": "a b\n"}]))
    assert out.result["changed_maps"] == [str(virtual)]
    assert Path(str(virtual) + ".db").exists()


def test_map_that_does_not_compile_is_refused(postfix_env, run_module):
    postfix_env.responses["postmap"] = (1, "", "postmap: fatal: bad entry")
    virtual = str(postfix_env.config / "virtual")
    out = run_module(postconf, args(postfix_env, maps=[{"path": virtual, "content": "broken"}]))
    assert out.failed and "does not compile" in out.result["msg"]
    assert not Path(virtual).exists()


def test_set_and_absent_together_is_an_error(postfix_env, run_module):
    out = run_module(postconf, args(postfix_env, params={"relayhost": ""}, absent=["relayhost"]))
    assert out.failed and "relayhost" in out.result["msg"]
