#!/usr/bin/env bash
# ansible-test sanity's validate-modules: every module's DOCUMENTATION against its argument_spec
# (types, defaults, choices, undocumented options) and the documentation's own syntax.
# ansible-test needs the collection at ansible_collections/NAMESPACE/NAME and a git tree; the
# checkout's files (tracked and new, not ignored) are copied into one under .cache/sanity.
# ansible-test fetches pip's bootstrap script from a host this machine cannot reach; the
# stand-in in this directory (ensurepip) is put in its cache instead. Its requirements come from PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
tree=$PWD/.cache/sanity/ansible_collections/mailops/mailhost
rm -rf "$tree" && mkdir -p "$tree"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tree" 2>/dev/null || true
mkdir -p "$HOME/.ansible/test/cache"
cp tests/sanity/get_pip.py "$HOME/.ansible/test/cache/get_pip_24_2.py"
cd "$tree"
git init -q . && git add -A && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
ansible-test sanity --test validate-modules --python 3.11 2>&1 | { grep -v "^WARNING: Location" || true; }
