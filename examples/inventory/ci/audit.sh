#!/usr/bin/env bash
# The daily checklist (queue, journal, certificate, bans, DNS) of every host.
#   ci/audit.sh staging|production
. "$(dirname "$0")/common.sh"
export MAILHOST_AUDIT_DIR=$REPORTS
ansible-playbook "${INVENTORY[@]}" mailops.mailhost.audit -e "mailhost_audit_dir=$REPORTS"
