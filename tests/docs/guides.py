"""The guides of the documentation site, from the Markdown the repository already has.

Writes into the Sphinx source directory (argument 1): ``index.rst`` (the site's front page),
``guides/*.rst`` (README sections and docs/*.md, converted by pandoc, links to other guides kept
inside the site and links to repository files pointed at the repository), and the Sphinx
inventory of the few pages of Ansible's own documentation the plugin pages refer to (argument 2),
so that the build is offline and every reference resolves.
"""

from __future__ import annotations

import re
import sys
import zlib
from pathlib import Path

import pypandoc
import yaml

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["repository"].rstrip("/")

# page name: (title, source file, the README sections it holds or None for the whole file)
GUIDES = {
    "quickstart": ("Quick start", "README.md", ["Installation", "Quick start"]),
    "change": ("How a change goes live", "README.md", ["How a change goes live"]),
    "review": ("Reviewable changes", "README.md", ["Reviewable changes"]),
    "inventory": ("The inventory repository: a change from pull request to host", "examples/inventory/README.md", None),
    "checklist": ("Daily checklist", "README.md", ["Daily checklist"]),
    "pull": ("Hosts that correct themselves", "README.md", ["Hosts that correct themselves (ansible-pull)"]),
    "migration": ("Migrating from sendmail", "docs/sendmail-migration.md", None),
    "quickstart-ja": ("クイックスタートと主な変数 (日本語)", "README.ja.md", None),
    "migration-ja": ("sendmail からの移行 (日本語)", "docs/sendmail-migration.ja.md", None),
}
PAGE_OF = {source: name for name, (_title, source, sections) in GUIDES.items() if sections is None}
PAGE_OF["README.md"] = "quickstart"
# Fenced code languages Pygments does not know.
PLAIN = {"cron", "console", "text", "", "conf"}

# The labels of Ansible's documentation the generated plugin pages refer to: (label, page#anchor, title).
ANSIBLE_LABELS = [
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    ("action_plugins", "plugins/action.html#action-plugins", "Action plugins"),
    ("callback_plugins", "plugins/callback.html#callback-plugins", "Callback plugins"),
    (
        "ansible_configuration_settings",
        "reference_appendices/config.html#ansible-configuration-settings",
        "Ansible Configuration Settings",
    ),
    (
        "ansible_collections.ansible.builtin.setup_module",
        "collections/ansible/builtin/setup_module.html#ansible-collections-ansible-builtin-setup-module",
        "ansible.builtin.setup module",
    ),
    (
        "ansible_collections.ansible.builtin.validate_argument_spec_module",
        "collections/ansible/builtin/validate_argument_spec_module.html"
        "#ansible-collections-ansible-builtin-validate-argument-spec-module",
        "ansible.builtin.validate_argument_spec module",
    ),
]


def sections(text: str, wanted: list[str]) -> str:
    """The README's level-2 sections of these titles, in this order, one heading level up."""
    parts = re.split(r"(?m)^(?=## )", text)
    found = {part.splitlines()[0][3:].strip(): part for part in parts if part.startswith("## ")}
    missing = [title for title in wanted if title not in found]
    if missing:
        raise SystemExit(f"guides.py: README.md has no section {missing}")
    return "\n".join(re.sub(r"(?m)^#(#+ )", r"\1", found[title]) for title in wanted)


def fix_links(text: str, source: str) -> str:
    """Links to other guides stay in the site; links to files and anchors of the repository go to it."""
    base = Path(source).parent

    def target(match: re.Match) -> str:
        label, href = match.group(1), match.group(2)
        if re.match(r"^[a-z]+:", href):
            return match.group(0)
        path, _hash, anchor = href.partition("#")
        if not path:
            return f"[{label}]({REPOSITORY}/blob/main/{source}#{anchor})"
        resolved = (base / path).as_posix().removeprefix("./")
        if resolved in PAGE_OF and not anchor:
            return f"[{label}]({PAGE_OF[resolved]}.html)"
        return f"[{label}]({REPOSITORY}/blob/main/{resolved}{'#' + anchor if anchor else ''})"

    return re.sub(r"\[([^\]]*)\]\(([^)\s]+)\)", target, text)


def plain_fences(text: str) -> str:
    """Code blocks in a language Pygments does not know are shown as plain text (Sphinx warns otherwise)."""

    def fence(match: re.Match) -> str:
        return "```text" if match.group(1) in PLAIN and match.group(1) else match.group(0)

    return re.sub(r"(?m)^```([A-Za-z0-9_+-]*)$", fence, text)


def guide(name: str) -> str:
    title, source, wanted = GUIDES[name]
    text = (ROOT / source).read_text(encoding="utf-8")
    if wanted is None:
        text = re.sub(r"\A# .*\n", "", text)  # the file's own title: the page gets its own
        text = re.sub(r"(?m)^#(#+ )", r"\1", text)
    else:
        text = sections(text, wanted)
    body = pypandoc.convert_text(plain_fences(fix_links(text, source)), "rst", format="gfm", extra_args=["--wrap=none"])
    rule = "=" * (len(title.encode("utf-8")) + 4)
    return f".. _guide_{name.replace('-', '_')}:\n\n{rule}\n{title}\n{rule}\n\n{body}"


def inventory() -> bytes:
    lines = "".join(f"{label} std:label -1 {uri} {title}\n" for label, uri, title in ANSIBLE_LABELS)
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
    header += "# The remainder of this file is compressed using zlib.\n"
    return header.encode() + zlib.compress(lines.encode())


def index() -> str:
    description = re.search(r"(?ms)^## Description\n\n(.*?)(?=^## )", (ROOT / "README.md").read_text(encoding="utf-8"))
    intro = pypandoc.convert_text(fix_links(description.group(1), "README.md"), "rst", format="gfm")
    toc = "\n".join(f"   guides/{name}" for name in GUIDES)
    return f""".. _docsite_root_index:

mailops.mailhost
================

{intro}

.. toctree::
   :maxdepth: 1
   :caption: Guides:

{toc}

.. toctree::
   :maxdepth: 2
   :caption: Reference (roles, modules, plugins):

   collections/mailops/mailhost/index

.. toctree::
   :maxdepth: 1
   :caption: Plugin indexes:
   :glob:

   collections/index_*
"""


def main() -> None:
    src, inv = Path(sys.argv[1]), Path(sys.argv[2])
    (src / "guides").mkdir(parents=True, exist_ok=True)
    for name in GUIDES:
        (src / "guides" / f"{name}.rst").write_text(guide(name), encoding="utf-8")
    (src / "index.rst").write_text(index(), encoding="utf-8")
    inv.write_bytes(inventory())


if __name__ == "__main__":
    main()
