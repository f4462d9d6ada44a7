"""Role documentation from one source: each role's meta/argument_specs.yml.

For every role this checks (``--check``, run by ``make lint``) or rewrites (``--write``):
- every variable in defaults/main.yml is an option of the spec and every option has a default there;
- each option's ``default`` in the spec equals the value in defaults/main.yml, so ``ansible-doc -t role``
  shows the real defaults;
- the README's "## Role Variables" section is exactly the one generated from the spec (a heading per
  variable, its description, its default);
- every role variable the Japanese guide (README.ja.md) names is a variable of some role.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Role Variables"


def flow(value) -> str:
    """A default as the README shows it: YAML flow style on one line."""
    if isinstance(value, str) and value.strip() == value and "\n" not in value:
        return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def description(option: dict) -> str:
    text = option.get("description", "")
    text = " ".join(text) if isinstance(text, list) else str(text)
    return re.sub(r"\b[CIOV]\(([^)]*)\)", r"`\1`", text)  # ansible-doc markup as Markdown code


def section(spec: dict, defaults: dict) -> str:
    parts = [
        SECTION,
        "",
        "Checked by `meta/argument_specs.yml` before the role touches a host; this section is generated from it",
        "(`python tests/role_docs.py --write`, checked by `make lint`).",
        "",
    ]
    for name, option in spec.items():
        shown = (
            f"Default: `{flow(defaults[name])}`"
            if name in defaults
            else "No default: set it per host, or leave it unset."
        )
        parts += [f"### `{name}`", "", description(option), "", shown, ""]
    return "\n".join(parts) + "\n"


def replace_section(readme: str, new: str) -> str:
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    return readme[:start] + new + (readme[end + 1 :] if end != -1 else "")


def spec_with_defaults(text: str, spec: dict, defaults: dict) -> str:
    """Insert or correct ``default:`` lines under each option, keeping the file's own layout."""
    lines = text.splitlines()
    out: list[str] = []
    current = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if indent == 6 and stripped.endswith(":") and stripped[:-1] in spec:
            current = stripped[:-1]
            out.append(line)
            dumped = yaml.safe_dump(defaults[current], default_flow_style=True, width=10_000)
            default_line = " " * 8 + "default: " + dumped.strip().removesuffix("...").strip()
            if len(default_line) > 160:  # a value that YAML cannot fold (a cipher list has no spaces)
                out.append(" " * 8 + "# yamllint disable-line rule:line-length")
            out.append(default_line)
            continue
        if current and indent == 8 and stripped == "# yamllint disable-line rule:line-length":
            continue
        if current and indent == 8 and stripped.startswith("default:"):
            continue  # replaced by the line written above
        if current and indent == 8 and stripped.startswith("default: "):
            continue
        if indent < 8 and stripped:
            current = None if indent <= 6 and not (indent == 6 and stripped[:-1] in spec) else current
        out.append(line)
    return "\n".join(out) + "\n"


def templated_non_string(option: dict, default) -> bool:
    return option.get("type", "str") in ("bool", "int") and isinstance(default, str) and "{{" in default


def role_problems(role: Path, write: bool) -> list[str]:
    spec_path, defaults_path, readme_path = (
        role / "meta" / "argument_specs.yml",
        role / "defaults" / "main.yml",
        role / "README.md",
    )
    spec_text = spec_path.read_text()
    entry_points = yaml.safe_load(spec_text)["argument_specs"]
    spec = {}  # every entry point's options, main's first (the audit entry point has defaults of its own)
    optional = set()  # options of the other entry points without a default: set per host, or not at all
    for name in ["main", *sorted(set(entry_points) - {"main"})]:
        for option, value in (entry_points.get(name, {}).get("options") or {}).items():
            spec.setdefault(option, value)
            if name != "main" and "default" not in value:
                optional.add(option)
    defaults = yaml.safe_load(defaults_path.read_text()) or {}
    problems = [
        f"{role.name}: {n} is in defaults/main.yml but not in the argument spec" for n in defaults if n not in spec
    ]
    problems += [
        f"{role.name}: {n} has no default in defaults/main.yml" for n in spec if n not in defaults and n not in optional
    ]
    if problems:
        return problems
    # A bool or int option whose default is a template of another role's variable keeps that template
    # in defaults/main.yml only: documentation tools (antsibull-docs) require a default of the type.
    with_default = {n: v for n, v in spec.items() if n in defaults and not templated_non_string(v, defaults[n])}
    problems += [
        f"{role.name}: {n}'s default is a template: the spec must not repeat it (its description says it)"
        for n, v in spec.items()
        if n in defaults and templated_non_string(v, defaults[n]) and "default" in v
    ]
    wanted_spec = spec_with_defaults(spec_text, with_default, defaults)
    if yaml.safe_load(wanted_spec) != yaml.safe_load(spec_text) or wanted_spec != spec_text:
        if write:
            spec_path.write_text(wanted_spec)
        else:
            wrong = [n for n in with_default if spec[n].get("default", object()) != defaults[n]]
            problems.append(f"{role.name}: argument spec defaults differ from defaults/main.yml: {wrong or 'layout'}")
    readme = readme_path.read_text()
    wanted_readme = replace_section(readme, section(spec, defaults))
    if wanted_readme != readme:
        if write:
            readme_path.write_text(wanted_readme)
        else:
            problems.append(f"{role.name}: README.md's Role Variables section is not the one generated from the spec")
    return problems


def guide_problems() -> list[str]:
    """Every role variable README.ja.md (the Japanese guide) names is one the roles' specs know: it never goes stale."""
    known = set()
    for role in (ROOT / "roles").iterdir():
        spec_path = role / "meta" / "argument_specs.yml"
        if spec_path.exists():
            for entry in (yaml.safe_load(spec_path.read_text())["argument_specs"] or {}).values():
                known.update((entry.get("options") or {}).keys())
    guide = (ROOT / "README.ja.md").read_text()
    named = set(
        re.findall(r"`((?:postfix|opendkim|dovecot_sasl|certbot|fail2ban|mailhost|firewall)_[a-z0-9_]+)", guide)
    )
    return [f"README.ja.md: {name} is not a variable of any role" for name in sorted(named - known)]


def main(argv: list[str]) -> int:
    write = "--write" in argv
    problems = [p for role in sorted((ROOT / "roles").iterdir()) if role.is_dir() for p in role_problems(role, write)]
    problems += guide_problems()
    for problem in problems:
        print(problem)
    if problems and not write:
        print("run: python tests/role_docs.py --write", file=sys.stderr)
        return 1
    print(f"role docs: {len(list((ROOT / 'roles').iterdir()))} roles {'written' if write else 'match their specs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
