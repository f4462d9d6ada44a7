#!/usr/bin/env bash
# Every module's DOCUMENTATION/EXAMPLES/RETURN must render with ansible-doc, and every
# role's argument specs must load. Fails on the first one that does not.
set -euo pipefail
cd "$(dirname "$0")/.."
n=0
for f in plugins/modules/*.py; do
  [ -e "$f" ] || continue
  m=$(basename "$f" .py)
  ansible-doc -t module "mailops.mailhost.$m" > /dev/null
  ansible-doc -t module --json "mailops.mailhost.$m" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
(entry,) = doc.values()
for key in ("doc", "examples", "return"):
    assert entry.get(key), f"{key} is empty"
assert entry["doc"].get("attributes", {}).get("check_mode"), "attributes.check_mode missing"
'
  n=$((n + 1))
done
for r in roles/*/; do
  [ -e "$r/meta/argument_specs.yml" ] || { [ -d "$r" ] && { echo "missing $r/meta/argument_specs.yml"; exit 1; }; continue; }
  ansible-doc -t role "mailops.mailhost.$(basename "$r")" > /dev/null
  n=$((n + 1))
done
echo "docs: $n module/role documentation blocks render"
