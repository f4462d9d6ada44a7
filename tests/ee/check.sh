#!/usr/bin/env bash
# The execution environment definition (ee/execution-environment.yml) produces a valid
# ansible-builder build context from the collection as users install it (the built tarball),
# and the collection declares its own controller-side dependencies, not the development
# toolchain in requirements.txt. The image itself is not built: its base image comes from a
# container registry, which this machine cannot reach.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.cache/ee
rm -rf "$out" && mkdir -p "$out"
ansible-galaxy collection build --force --output-path "$out" >/dev/null
mv "$out"/mailops-mailhost-*.tar.gz "$out/mailops-mailhost.tar.gz"

# What ansible-builder will install for the collection: introspect it as installed.
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-galaxy collection install -p "$out/installed" "$out/mailops-mailhost.tar.gz" >/dev/null
deps=$(ansible-builder introspect --sanitize "$out/installed")
for want in dnspython dkimpy pyspf publicsuffix2 openssh-client; do
  grep -q -- "$want" <<<"$deps" || { echo "ee: the collection does not declare $want:"; echo "$deps"; exit 1; }
done
for unwanted in molecule ansible-lint pytest; do
  if grep -q -- "$unwanted" <<<"$deps"; then
    echo "ee: the development tool $unwanted would go into the execution environment:"; echo "$deps"; exit 1
  fi
done

ansible-builder create -f ee/execution-environment.yml -c "$out/context" >/dev/null
test -s "$out/context/Containerfile"
test -s "$out/context/_build/collections/mailops-mailhost.tar.gz"
grep -q "ansible-galaxy collection install" "$out/context/Containerfile"
echo "ee: build context at $out/context (collection, Python and system dependencies)"
