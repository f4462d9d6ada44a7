#!/usr/bin/env bash
# make docs: the collection's documentation site - the roles with their argument specs, the
# modules and plugins (antsibull-docs, from the collection under its FQCN) and the guides (from
# README.md and docs/, guides.py) - built by Sphinx with every warning an error, then every link
# inside the site checked (linkcheck.py). Output: .cache/docs/build/html.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/.cache/docs
venv=$root/.cache/docs-venv
stamp=$venv/.installed-$(sha256sum "$here/requirements.txt" | cut -c1-12)
if [ ! -e "$stamp" ]; then
  rm -rf "$venv" && python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
  touch "$stamp"
fi
rm -rf "$out" && mkdir -p "$out/rst"
chmod og-w "$out/rst"  # antsibull-docs wants the directory writable by itself only
# antsibull-docs runs ansible-doc from the project's toolchain (PATH) on the collection as installed.
"$venv/bin/antsibull-docs" --config-file "$here/antsibull-docs.cfg" collection \
  --use-current --fail-on-error --dest-dir "$out/rst" mailops.mailhost
"$venv/bin/python" "$here/guides.py" "$out/rst" "$out/ansible_devel.inv"
MAILHOST_DOCS_INVENTORY=$out/ansible_devel.inv "$venv/bin/sphinx-build" -q -W --keep-going -b html -c "$here" "$out/rst" "$out/build/html"
"$venv/bin/python" "$here/linkcheck.py" "$out/build/html"
