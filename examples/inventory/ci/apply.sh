#!/usr/bin/env bash
# Apply the merged inventory (after the plan was reviewed): the report says what was done.
#   ci/apply.sh staging|production
. "$(dirname "$0")/common.sh"
ansible-playbook "${INVENTORY[@]}" mailops.mailhost.provision
