#!/usr/bin/env bash
# What a change would do, host by host, without changing anything (check mode): the plan a
# reviewer reads on the pull request (reports/<env>/mailhost-plan.md and .json).
#   ci/plan.sh staging|production
. "$(dirname "$0")/common.sh"
ansible-playbook "${INVENTORY[@]}" mailops.mailhost.provision --check --diff
