"""Static checks per platform: each role's variables rendered for AlmaLinux 9 and 10 and Debian 11, 12 and 13.

No host is involved: the roles' defaults, vars/main.yml and platform files are rendered with
Ansible's own templating, as a play would, and checked against data taken from the platforms'
packages (tests/unit/data/platforms, see its README).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.mailops.mailhost.plugins.action.mailhost_preflight import role_templates
from ansible_collections.mailops.mailhost.plugins.module_utils._firewalld import SERVICE_NAMES, resolve
from ansible_collections.mailops.mailhost.plugins.module_utils._platform import vars_files
from ansible_collections.mailops.mailhost.plugins.module_utils._postconf import format_value
from ansible_collections.mailops.mailhost.plugins.module_utils._postfix_derive import CONSTANTS, INPUTS, VARIABLES
from ansible_collections.mailops.mailhost.plugins.plugin_utils._stack import Stack, trust_as_template

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "unit" / "data" / "platforms"


def names(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


POSTFIX_PARAMS = {
    "3.5.25": names(DATA / "postconf-d-3.5.25.txt"),
    "3.7.11": names(DATA / "postconf-d-3.7.11.txt"),
    "3.10.13": names(DATA / "postconf-d-3.10.13.txt"),
}
# AlmaLinux 10's Postfix 3.8.5: the names both 3.7 and 3.10 know (see the data README).
POSTFIX_PARAMS["3.8.5"] = POSTFIX_PARAMS["3.7.11"] & POSTFIX_PARAMS["3.10.13"]
FIREWALLD_SERVICES = {v: names(DATA / f"firewalld-services-{v}.txt") for v in ("0.9.3", "1.3.3", "2.3.1")}

# Each platform: its facts, its Postfix and firewalld versions (AlmaLinux 9's firewalld 1.3.4
# has the service set of Debian 12's 1.3.3).
PLATFORMS = {
    "AlmaLinux 9": ({"os_family": "RedHat", "distribution_major_version": "9"}, "3.5.25", "1.3.3"),
    "AlmaLinux 10": ({"os_family": "RedHat", "distribution_major_version": "10"}, "3.8.5", "2.3.1"),
    "Debian 11": ({"os_family": "Debian", "distribution_major_version": "11"}, "3.5.25", "0.9.3"),
    "Debian 12": ({"os_family": "Debian", "distribution_major_version": "12"}, "3.7.11", "1.3.3"),
    "Debian 13": ({"os_family": "Debian", "distribution_major_version": "13"}, "3.10.13", "2.3.1"),
}
EL = ("AlmaLinux 9", "AlmaLinux 10")
EPEL_PACKAGES = {"certbot", "opendkim", "opendkim-tools", "fail2ban-server", "fail2ban-systemd", "fail2ban-firewalld"}
ROLES = ("postfix", "opendkim", "certbot", "dovecot_sasl", "fail2ban", "firewall")

# What a user typically sets: every optional part of main.cf and master.cf switched on.
USER_VARS = {
    "postfix_myhostname": "mx1.example.com",
    "postfix_sasl_enabled": True,
    "postfix_smtps_enabled": True,
    "postfix_milters": ["inet:localhost:8891"],
    "certbot_email": "postmaster@example.com",
    "opendkim_keys": [{"domain": "example.com", "selector": "s1"}],
    # Set here because its default uses this collection's own filter, which plain templating cannot load.
    "fail2ban_ignoreip": ["127.0.0.0/8", "::1"],
}


class RoleVars:
    """A role's variables for one platform (and profile), rendered as in a play on a fresh host."""

    def __init__(self, role: str, facts: dict, profile: str = "", extra: dict | None = None):
        self.path = ROOT / "roles" / role
        loader = DataLoader()
        variables: dict = {}
        files = [self.path / "defaults" / "main.yml", self.path / "vars" / "main.yml"]
        files += [self.path / "vars" / name for name in vars_files(facts, profile)]
        for path in files:
            if path.is_file():
                variables.update(Stack(loader).load(str(path)))
        paths = {"/var/log/mail.log": False, "/var/log/maillog": False}
        everything = {"missing_packages": [], "enabled_repos": [], "paths": paths, "services": {}}
        variables.update(
            {
                "ansible_facts": dict(facts, fqdn="mx1.example.com"),
                "role_path": str(self.path),
                "playbook_dir": "/tmp",
                "inventory_hostname": "mx1",
                "ansible_managed": "Ansible managed",
                f"__{role}_host": everything,
                **USER_VARS,
                **(extra or {}),
            }
        )
        self.templar = Templar(loader=loader, variables=variables)

    def render(self, expression):
        if isinstance(expression, str):
            expression = trust_as_template(expression)
        value = self.templar.template(expression)
        return yaml.safe_load(value) if isinstance(value, str) and value.lstrip().startswith(("{", "[")) else value

    def template(self, name: str) -> str:
        source = (self.path / "templates" / name).read_text()
        return self.templar.template(trust_as_template(source))

    def task_files(self, name: str = "main.yml") -> list[dict]:
        """The role's tasks in the order they run, includes and imports expanded."""
        tasks = []
        for task in yaml.safe_load((self.path / "tasks" / name).read_text()):
            include = task.get("ansible.builtin.include_tasks") or task.get("ansible.builtin.import_tasks")
            tasks += self.task_files(include) if include else [task]
        return tasks


@pytest.fixture(params=list(PLATFORMS), ids=list(PLATFORMS))
def platform(request):
    return request.param


def postfix_params(platform: str) -> dict[str, str]:
    facts = PLATFORMS[platform][0]
    params = RoleVars("postfix", facts).render("{{ __postfix_params }}")
    return {k: format_value(v) for k, v in params.items()}


def master_cf_options(platform: str) -> set[str]:
    master = RoleVars("postfix", PLATFORMS[platform][0]).template("master.cf.j2")
    return set(re.findall(r"^\s+-o\s+([a-z0-9_]+)=", master, re.MULTILINE))


def test_every_main_cf_parameter_exists_in_the_platforms_postfix(platform):
    known = POSTFIX_PARAMS[PLATFORMS[platform][1]]
    params = postfix_params(platform)
    # Restriction classes are parameters the configuration defines itself.
    classes = set(params.get("smtpd_restriction_classes", "").replace(",", " ").split())
    assert classes == {"mailhost_probe_hold"}, classes
    unknown = sorted(set(params) - known - classes)
    assert not unknown, f"{platform}: Postfix {PLATFORMS[platform][1]} has no parameter {unknown}"


def test_every_master_cf_option_exists_in_the_platforms_postfix(platform):
    known = POSTFIX_PARAMS[PLATFORMS[platform][1]]
    options = master_cf_options(platform)
    assert {"syslog_name", "smtpd_sasl_auth_enable", "smtpd_tls_wrappermode"} <= options
    assert not sorted(options - known), f"{platform}: unknown -o options {sorted(options - known)}"


@pytest.mark.parametrize("profile", ["", "RedHat_10"], ids=["host data", "EL10 profile"])
def test_almalinux_10_names_no_berkeley_db_table_or_cache(profile):
    facts = PLATFORMS["AlmaLinux 10" if not profile else "Debian 13"][0]
    role = RoleVars("postfix", facts, profile)
    params = {k: format_value(v) for k, v in role.render("{{ __postfix_params }}").items()}
    berkeley = {k: v for k, v in params.items() if re.search(r"\b(hash|btree):", v)}
    assert not berkeley, f"AlmaLinux 10 has no Berkeley DB: {berkeley}"
    assert params["default_database_type"] == "lmdb"
    assert params["smtpd_tls_session_cache_database"].startswith("lmdb:")
    assert "postfix-lmdb" in role.render("{{ __postfix_packages }}")
    for table in role.render("{{ __postfix_maps }}"):
        assert table["type"] == "lmdb", table


def test_almalinux_9_keeps_its_own_settings():
    params = postfix_params("AlmaLinux 9")
    assert params["compatibility_level"] == "2"
    assert params["smtp_tls_CAfile"] == "/etc/pki/tls/certs/ca-bundle.crt"
    assert params["virtual_alias_maps"].startswith("hash:")
    assert params["smtpd_tls_session_cache_database"].startswith("btree:")


def test_compatibility_level_exists_in_the_platforms_postfix(platform):
    level = postfix_params(platform)["compatibility_level"]
    version = tuple(int(x) for x in PLATFORMS[platform][1].split("."))
    # Postfix 3.5 knows levels 0-2; named levels such as 3.6 came with Postfix 3.6.
    assert level in ("0", "1", "2") or version >= (3, 6), f"{platform}: compatibility_level {level}"


def package_steps(role: str, platform: str) -> list[tuple[str, list[str]]]:
    """('install', packages) and ('enable-repo', repos) steps of a role, in the order they run."""
    rendered = RoleVars(role, PLATFORMS[platform][0])
    steps = []
    for task in rendered.task_files():
        if "ansible.builtin.package" in task:
            packages = rendered.render(task["ansible.builtin.package"]["name"])
            steps.append(("install", list(packages)))
        command = task.get("ansible.builtin.command", {})
        if isinstance(command, dict) and "config-manager" in command.get("argv", []):
            steps.append(("enable-repo", list(rendered.render(task["loop"]))))
    return steps


@pytest.mark.parametrize("platform_name", EL)
@pytest.mark.parametrize("role", ["certbot", "fail2ban", "opendkim"])
def test_epel_is_installed_in_a_step_before_any_epel_package(role, platform_name):
    steps = package_steps(role, platform_name)
    installs = [set(packages) for kind, packages in steps if kind == "install"]
    epel_step = next(i for i, packages in enumerate(installs) if "epel-release" in packages)
    uses = [i for i, packages in enumerate(installs) if packages & EPEL_PACKAGES]
    assert uses, f"{role} installs no EPEL package on {platform_name}: {steps}"
    assert all(i > epel_step for i in uses), (
        f"{role}: an EPEL package is installed with or before epel-release: {steps}"
    )
    together = [packages for packages in installs if "epel-release" in packages and packages & EPEL_PACKAGES]
    assert not together, f"{role}: epel-release and EPEL packages in one transaction: {together}"


@pytest.mark.parametrize("platform_name", EL)
def test_crb_is_enabled_before_opendkim_is_installed(platform_name):
    steps = package_steps("opendkim", platform_name)
    crb = next(i for i, (kind, items) in enumerate(steps) if kind == "enable-repo" and "crb" in items)
    opendkim = next(i for i, (kind, items) in enumerate(steps) if kind == "install" and "opendkim" in items)
    epel = next(i for i, (kind, items) in enumerate(steps) if kind == "install" and "epel-release" in items)
    assert epel < crb < opendkim, steps


@pytest.mark.parametrize("role", ["certbot", "fail2ban", "opendkim", "dovecot_sasl", "postfix", "firewall"])
def test_debian_installs_no_el_only_package(role):
    for platform_name in ("Debian 11", "Debian 12", "Debian 13"):
        for _kind, items in package_steps(role, platform_name):
            assert not set(items) & {"epel-release", "dnf-plugins-core", "crb", "sendmail"}, (role, items)


def test_firewalld_knows_every_service_the_stack_opens(platform):
    known = FIREWALLD_SERVICES[PLATFORMS[platform][2]]
    resolved = {service: resolve(service, known) for service in SERVICE_NAMES}
    expected = "submission" if PLATFORMS[platform][2].startswith("2.") else "smtp-submission"
    assert resolved["submission"] == expected, (platform, resolved)


@pytest.mark.parametrize("platform_name", EL)
def test_el_bans_through_firewalld_and_opens_the_stack(platform_name):
    fail2ban = RoleVars("fail2ban", PLATFORMS[platform_name][0])
    assert fail2ban.render("{{ __fail2ban_firewall }}") == "firewalld"
    assert "fail2ban-firewalld" in fail2ban.render("{{ __fail2ban_packages }}")
    jail = fail2ban.template("jail.local.j2")
    assert "banaction = firewallcmd-rich-rules" in jail
    firewall = RoleVars("firewall", PLATFORMS[platform_name][0])
    assert firewall.render("{{ __firewall_backend_resolved }}") == "firewalld"
    assert firewall.render("{{ __firewall_services }}") == ["smtp", "submission", "smtps"]


def test_firewall_opens_http_only_for_a_standalone_challenge_on_port_80():
    facts = PLATFORMS["AlmaLinux 10"][0]
    assert "http" in RoleVars("firewall", facts, extra={"firewall_acme_http_port": 80}).render(
        "{{ __firewall_services }}"
    )
    other = RoleVars("firewall", facts, extra={"firewall_acme_http_port": 8080})
    assert "http" not in other.render("{{ __firewall_services }}")
    assert other.render("{{ __firewall_ports }}") == ["8080/tcp"]
    assert RoleVars("firewall", facts).render("{{ __firewall_ports }}") == []


def test_debian_bans_through_nftables_unless_firewalld_is_asked_for():
    facts = PLATFORMS["Debian 12"][0]
    assert RoleVars("fail2ban", facts).render("{{ __fail2ban_firewall }}") == "nftables"
    chosen = RoleVars("fail2ban", facts, extra={"mailhost_firewall": "firewalld"})
    assert chosen.render("{{ __fail2ban_firewall }}") == "firewalld"
    assert "banaction = firewallcmd-rich-rules" in chosen.template("jail.local.j2")


@pytest.mark.parametrize("platform_name,syntax", [("Debian 12", "2.3"), ("Debian 13", "2.4"), ("AlmaLinux 10", "2.3")])
def test_dovecot_configuration_syntax_follows_the_hosts_dovecot(platform_name, syntax):
    role = RoleVars("dovecot_sasl", PLATFORMS[platform_name][0], extra={"dovecot_sasl_users": []})
    config = role.template("dovecot.conf.j2")
    assert ("dovecot_config_version = 2.4.0" in config) == (syntax == "2.4"), config
    assert ("disable_plaintext_auth = yes" in config) == (syntax == "2.3"), config


def test_every_role_loads_its_platform_data_through_the_same_rule():
    for role in ROLES:
        text = "".join(p.read_text() for p in (ROOT / "roles" / role / "tasks").glob("*.yml"))
        assert "mailops.mailhost.platform_vars_files(mailhost_platform_profile" in text, role
        leftovers = [p.name for p in (ROOT / "roles" / role / "vars").glob("*.yml")]
        assert all(re.match(r"^(main|(host_)?(Debian|RedHat)(_\d+)?)\.yml$", name) for name in leftovers), (
            role,
            leftovers,
        )


def test_the_postfix_role_hands_its_derivation_every_input_and_nothing_else():
    """vars/main.yml lists the inputs of module_utils/_postfix_derive.py by hand: the two lists agree,
    and each public variable it reads is an option of the role."""
    role_vars = yaml.safe_load((ROOT / "roles" / "postfix" / "vars" / "main.yml").read_text())
    assert list(role_vars["__postfix_inputs"]) == list(INPUTS)
    for name, value in role_vars["__postfix_inputs"].items():
        assert value == "{{ " + name + " }}", name
    spec = yaml.safe_load((ROOT / "roles" / "postfix" / "meta" / "argument_specs.yml").read_text())
    options = {name for entry in spec["argument_specs"].values() for name in entry["options"]}
    assert set(VARIABLES) <= options, sorted(set(VARIABLES) - options)
    for name in CONSTANTS:
        assert name in role_vars, name


@pytest.mark.parametrize("platform_name", ["Debian 12", "AlmaLinux 10"])
@pytest.mark.parametrize("role", ["postfix", "fail2ban", "opendkim", "certbot", "dovecot_sasl"])
def test_the_preflight_renders_each_role_template_as_the_template_lookup_does(role, platform_name):
    """The pre-flight renders the templates its roles' vars name (roles/*/vars/main.yml) itself; the
    text is the lookup's, so that the change it predicts is the one the role makes."""
    role_vars = yaml.safe_load((ROOT / "roles" / role / "vars" / "main.yml").read_text())
    templates = role_templates(role_vars)
    assert templates, f"{role}: no template variable found"
    rendered = RoleVars(role, PLATFORMS[platform_name][0])
    for name, file in templates.items():
        by_lookup = rendered.render("{{ " + name + " }}")
        assert by_lookup.startswith("#"), by_lookup[:80]
        assert rendered.template(file) == by_lookup, f"{role}: {file}"
