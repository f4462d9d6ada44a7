#!/usr/bin/env bash
# Nightly: has any host drifted from the inventory? Exits non-zero when one has; the report
# (reports/<env>/mailhost-plan.md) lists what differs, security-relevant first.
#   ci/drift.sh staging|production
. "$(dirname "$0")/common.sh"
ansible-playbook "${INVENTORY[@]}" mailops.mailhost.drift --check --diff
