"""The postconf module: validate the whole candidate, write only what passed, keep a rollback copy."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from ansible.module_utils import basic

from ansible_collections.mailops.mailhost.plugins.module_utils import _rollback
from ansible_collections.mailops.mailhost.plugins.modules import postconf


def brought_live(env):
    """What postfix_reload does once the change is live and probed: the pending mark goes."""
    _rollback.clear_pending(str(env.tmp / "backup"))


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
    assert "myhostname = mx.example.com" in Path(manifest["files"][0]["backup"]).read_text()
    # Until postfix_reload has brought it live, the change is pending: a rerun brings it live.
    pending = run_module(postconf, a)
    assert pending.result["changed"] is True and pending.result["pending"] is True
    assert pending.result["backup"] == out.result["backup"] and pending.result["restart_required"] is True
    brought_live(postfix_env)
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
    brought_live(postfix_env)
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
    brought_live(postfix_env)
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


# --- arguments are checked before anything is read or written --------------------------------------


def test_hostile_arguments_are_refused_naming_the_argument(postfix_env, run_module):
    before = (postfix_env.config / "main.cf").read_text()
    etc = str(postfix_env.config)
    cases = [
        ({"params": {"myhostname": "mx.example.com\nalways_bcc = spy@evil.example"}}, "params.myhostname: the value"),
        ({"params": {"bad name": "1"}}, "is not a Postfix parameter name"),
        ({"params": {"x": "a\x00b"}}, "NUL"),
        ({"maps": [{"path": f"{etc}/../evil", "content": "a b"}]}, "maps[0].path"),
        ({"maps": [{"path": "/tmp/outside", "content": "a b"}]}, f"inside {etc}"),
        ({"maps": [{"path": f"{etc}/virtual", "content": "a b", "mode": "0666"}]}, "group or others write"),
        ({"maps": [{"path": f"{etc}/virtual", "content": "a b", "mode": "rw"}]}, "octal mode"),
        ({"maps": [{"path": f"{etc}/virtual", "entries": {"": "x"}}]}, "must be non-empty"),
        ({"maps": [{"path": f"{etc}/virtual", "entries": {"a b": "x"}}]}, "without whitespace"),
        ({"maps": [{"path": f"{etc}/virtual", "entries": {"a": "x\ny z"}}]}, "maps[0].entries.a"),
        ({"maps": [{"path": "/etc/../root/aliases", "content": "a: b", "alias": True}]}, "inside /etc"),
        ({"absent": ["../x"]}, "absent: '../x'"),
        ({"params": {"myhostname": "a"}, "absent": ["myhostname"]}, "both name myhostname"),
    ]
    for extra, expected in cases:
        out = run_module(postconf, args(postfix_env, **extra))
        assert out.failed and expected in out.result["msg"], (extra, out.result["msg"])
        assert out.result["msg"].startswith("invalid arguments, nothing was read or changed")
    assert (postfix_env.config / "main.cf").read_text() == before
    assert not (postfix_env.tmp / "backup").exists()


def test_a_master_cf_value_with_a_space_is_refused(postfix_env, run_module):
    master = "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o syslog_name=postfix/submission x\n"
    out = run_module(postconf, args(postfix_env, master_cf=master))
    assert out.failed and "'x' is not an option of smtpd" in out.result["msg"]


# --- interrupted runs ------------------------------------------------------------------------------


def test_a_killed_runs_files_are_replaced_by_the_last_live_ones_before_a_new_change(postfix_env, run_module):
    main = postfix_env.config / "main.cf"
    live = main.read_text()
    first = run_module(postconf, args(postfix_env, params={"myhostname": "broken.example.com"}))
    assert not first.failed
    # ... the run was killed here: the files are on disk, the pending mark too, nothing was live.
    out = run_module(postconf, args(postfix_env, params={"myhostname": "good.example.com"}))
    assert not out.failed, out.result
    assert out.result["restored"] is True and out.result["restart_required"] is True
    assert "myhostname = good.example.com" in main.read_text()
    manifest = json.loads(Path(out.result["backup"], "manifest.json").read_text())
    assert Path(manifest["files"][0]["backup"]).read_text() == live  # rolling back goes to what was live


def test_a_refused_change_after_a_killed_run_still_puts_the_last_live_files_back(postfix_env, run_module):
    main = postfix_env.config / "main.cf"
    live = main.read_text()
    run_module(postconf, args(postfix_env, params={"myhostname": "half.example.com"}))
    out = run_module(postconf, args(postfix_env, params={"bogus_param": "1"}))
    assert out.failed and out.result["restored"] is True and out.result["last_live"]
    assert "replaced by the last live configuration" in out.result["msg"]
    assert main.read_text() == live


def test_stale_temporary_files_are_removed(postfix_env, run_module):
    stale = postfix_env.config / ".mailhost-abc123"
    stale.write_text("")
    run_module(postconf, args(postfix_env, params={"myhostname": "mx.example.com"}))
    assert not stale.exists()


def test_the_candidate_is_dated_back_and_knows_the_live_table_types(postfix_env, run_module, monkeypatch):
    """Postfix re-reads a configuration file younger than about a second until it has cooled
    down (about 2 s per command on a candidate written just before): every file of the candidate
    is older than that when Postfix reads it. The candidate has the live dynamicmaps.cf and
    dynamicmaps.cf.d (table types of plugin packages). The live main.cf is renamed into place
    dated back as well (by MAIN_CF_DATED_BACK), so the reload right after does not wait either."""
    (postfix_env.config / "dynamicmaps.cf").write_text("lmdb /usr/lib/postfix/postfix-lmdb.so dict_lmdb_open\n")
    (postfix_env.config / "dynamicmaps.cf.d").mkdir()
    (postfix_env.config / "dynamicmaps.cf.d" / "pcre").write_text("pcre /usr/lib/postfix/postfix-pcre.so dict_pcre\n")
    seen = []

    def record(argv):
        argv = [str(a) for a in argv]
        if "-c" in argv and argv[argv.index("-c") + 1] != str(postfix_env.config):
            candidate = argv[argv.index("-c") + 1]
            # what Postfix reads as text (the indexes postmap writes into the candidate are new)
            read = [n for n in os.listdir(candidate) if not n.endswith((".db", ".lmdb", ".cdb"))]
            ages = [time.time() - os.stat(os.path.join(candidate, n)).st_mtime for n in read]
            seen.append(
                (
                    os.path.basename(argv[0]),
                    min(ages),
                    os.path.isfile(os.path.join(candidate, "dynamicmaps.cf")),
                    os.path.isfile(os.path.join(candidate, "dynamicmaps.cf.d", "pcre")),
                )
            )
        return postfix_env(argv)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: record(argv))
    virtual = str(postfix_env.config / "virtual")
    out = run_module(
        postconf,
        args(
            postfix_env,
            params={"virtual_alias_maps": f"hash:{virtual}"},
            maps=[{"path": virtual, "content": "info@example.com alice"}],
        ),
    )
    assert not out.failed, out.result
    assert {tool for tool, *_rest in seen} == {"postconf", "postmap"}, seen
    assert all(age >= 5 and dynamicmaps and plugin for _tool, age, dynamicmaps, plugin in seen), seen
    main = (postfix_env.config / "main.cf").stat()
    assert postconf.MAIN_CF_DATED_BACK - 1 < time.time() - main.st_mtime < 60
    assert time.time() - main.st_ctime < 60  # the change time is the true one


def with_real_openssl(postfix_env, monkeypatch):
    """The fake Postfix layer, with the real openssl for the self-signed pair."""

    def route(argv, **kw):
        if str(argv[0]) == "openssl":
            done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
            return done.returncode, done.stdout, done.stderr
        return postfix_env(argv, **kw)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: route(argv, **kw))


def selfsigned_args(env, **kw):
    key, cert = str(env.config / "selfsigned.key"), str(env.config / "selfsigned.crt")
    return args(
        env,
        params={"smtpd_tls_chain_files": [key, cert]},
        selfsigned={"key": key, "cert": cert, "name": "mx.example.com"},
        **kw,
    )


def test_the_missing_self_signed_pair_is_generated_before_the_candidate_that_names_it(
    postfix_env, run_module, monkeypatch
):
    with_real_openssl(postfix_env, monkeypatch)
    out = run_module(postconf, selfsigned_args(postfix_env))
    assert not out.failed, out.result
    assert out.result["selfsigned"] is True and out.result["changed"] is True
    key, cert = postfix_env.config / "selfsigned.key", postfix_env.config / "selfsigned.crt"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and oct(cert.stat().st_mode & 0o777) == "0o644"
    text = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-subject", "-ext", "subjectAltName"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "CN=mx.example.com" in text.replace(" ", "") and "DNS:mx.example.com" in text
    assert any(c["item"] == str(cert) and c["kind"] == "file" for c in out.result["mailhost_changes"])
    assert not list(postfix_env.config.glob(".mailhost-*"))  # no temporary file left
    # an existing certificate is never replaced, and nothing is to do
    brought_live(postfix_env)
    before = cert.read_bytes()
    again = run_module(postconf, selfsigned_args(postfix_env))
    assert again.result["selfsigned"] is False and again.result["changed"] is False
    assert cert.read_bytes() == before


def test_check_mode_says_the_pair_would_be_generated_and_writes_nothing(postfix_env, run_module, monkeypatch):
    with_real_openssl(postfix_env, monkeypatch)
    out = run_module(postconf, selfsigned_args(postfix_env), check_mode=True)
    assert not out.failed, out.result  # the candidate names files still to come: not refused for that
    assert out.result["selfsigned"] is True and out.result["changed"] is True
    assert not (postfix_env.config / "selfsigned.crt").exists() and not (postfix_env.config / "selfsigned.key").exists()


def test_bad_self_signed_arguments_are_refused_naming_them(postfix_env, run_module):
    bad = selfsigned_args(postfix_env)
    bad["selfsigned"] = {"key": "/tmp/k.pem", "cert": bad["selfsigned"]["cert"], "name": "mx.example.com/O=evil"}
    out = run_module(postconf, bad)
    assert out.failed
    assert "selfsigned.key: '/tmp/k.pem' must be an absolute path inside" in out.result["msg"]
    assert "selfsigned.name: 'mx.example.com/O=evil' is not a host name" in out.result["msg"]
    assert not (postfix_env.config / "selfsigned.crt").exists()
