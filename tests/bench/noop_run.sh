#!/usr/bin/env bash
# Benchmark: a provision run that changes nothing, against the demo container.
# Prints figures (wall time, tasks, slowest tasks); never passes or fails on time.
# The public postfix roles take 12 to 21 s here for such a run; ours should take less
# for the whole mail stack.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${MAILHOST_IMAGE:?run through 'make bench'}"
tests/demo.sh up > /tmp/mailhost-bench-first.log 2>&1   # converge first (creates the container if needed)
runs=3
total=0
for i in $(seq "$runs"); do
  start=$(date +%s%3N)
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks ansible-playbook -i tests/demo/inventory.yml \
    playbooks/provision.yml > /tmp/mailhost-bench-noop.log 2>&1
  ms=$(( $(date +%s%3N) - start ))
  total=$(( total + ms ))
  printf '  no-change provision run %d: %d.%03d s\n' "$i" $((ms / 1000)) $((ms % 1000))
done
recap=$(grep -E "^mailhost-demo +:" /tmp/mailhost-bench-noop.log | tr -s ' ')
mean=$(( total / runs ))
printf 'no-change run benchmark (provision playbook: the mail stack, podman connection): mean %d.%03d s over %d runs\n' \
  $((mean / 1000)) $((mean % 1000)) "$runs"
echo "  recap: ${recap}"
echo "  slowest tasks of the last run:"
grep -E -- "-{3,} [0-9.]+s$" /tmp/mailhost-bench-noop.log | sed -E 's/^(.*) -+ ([0-9.]+)s$/\2 s  \1/' \
  | sort -rn | head -n 6 | sed 's/^/    /'
echo "  reference: public postfix roles take 12 to 21 s for a no-change run here (figures only)"
