#!/usr/bin/env bash
# The collection as it is packaged: the tarball `ansible-galaxy collection build` makes passes
# galaxy-importer (Galaxy's and Automation Hub's import checks, ansible-doc and ansible-lint
# included) with no warning; and the execution environment definition (ee/execution-environment.yml)
# produces a valid ansible-builder build context from it, with the collection declaring its own
# controller-side dependencies, not the development toolchain in requirements.txt. The image
# itself is not built: its base image comes from a container registry this machine cannot reach.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.cache/ee
rm -rf "$out" && mkdir -p "$out"
ansible-galaxy collection build --force --output-path "$out" >/dev/null
tarball=$(ls "$out"/mailops-mailhost-*.tar.gz)   # galaxy-importer reads the version from the name
cp "$tarball" "$out/mailops-mailhost.tar.gz"      # the name ee/execution-environment.yml expects

# galaxy-importer: any WARNING or ERROR line is a failure.
# It writes importer_result.json into its working directory: run it in the output directory.
(cd "$out" && python -m galaxy_importer.main "$(basename "$tarball")") > "$out/galaxy-importer.log" 2>&1 \
  || { cat "$out/galaxy-importer.log"; echo "package: galaxy-importer failed"; exit 1; }
if grep -E "WARNING|ERROR" "$out/galaxy-importer.log"; then
  echo "package: galaxy-importer warns about the tarball (above; full log $out/galaxy-importer.log)"; exit 1
fi
grep -q "Importer processing completed successfully" "$out/galaxy-importer.log"

# What ansible-builder will install for the collection: introspect it as installed.
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-galaxy collection install -p "$out/installed" "$out/mailops-mailhost.tar.gz" >/dev/null
deps=$(ansible-builder introspect --sanitize "$out/installed")
for want in dnspython dkimpy pyspf publicsuffix2 openssh-client; do
  grep -q -- "$want" <<<"$deps" || { echo "package: the collection does not declare $want:"; echo "$deps"; exit 1; }
done
for unwanted in molecule ansible-lint pytest; do
  if grep -q -- "$unwanted" <<<"$deps"; then
    echo "package: the development tool $unwanted would go into the execution environment:"; echo "$deps"; exit 1
  fi
done

ansible-builder create -f ee/execution-environment.yml -c "$out/context" >/dev/null
test -s "$out/context/Containerfile"
test -s "$out/context/_build/collections/mailops-mailhost.tar.gz"
grep -q "ansible-galaxy collection install" "$out/context/Containerfile"
echo "package: galaxy-importer passed with no warning; ee build context at $out/context"
