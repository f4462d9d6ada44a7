# Shared by the ci/ scripts: the inventory to use, where the reports go, the collection's path.
# Usage (from the repository root): ci/<step>.sh staging|production
set -euo pipefail
cd "$(dirname "$0")/.."
ENVIRONMENT=${1:?usage: $0 staging|production}
[ -d "$ENVIRONMENT" ] || { echo "no inventory '$ENVIRONMENT'" >&2; exit 2; }
export ANSIBLE_CONFIG=$PWD/ansible.cfg
REPORTS=${MAILHOST_REPORTS:-$PWD/reports}/$ENVIRONMENT
mkdir -p "$REPORTS"
export MAILHOST_PLAN_MD=$REPORTS/mailhost-plan.md MAILHOST_PLAN_JSON=$REPORTS/mailhost-plan.json
export MAILHOST_PLAN_TITLE="Mail host plan for $ENVIRONMENT"
# A directory of inventory files layered over each environment's, <env>.yml (the collection's tests
# point the hosts at containers with it); unset in CI.
INVENTORY=(-i "$ENVIRONMENT")
if [ -n "${MAILHOST_INVENTORY_OVERLAY:-}" ]; then INVENTORY+=(-i "$MAILHOST_INVENTORY_OVERLAY/$ENVIRONMENT.yml"); fi
