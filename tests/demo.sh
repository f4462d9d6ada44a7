#!/usr/bin/env bash
# The demo mail host: a local systemd container from the test image, converged with
# playbooks/provision.yml through the podman connection.
#   tests/demo.sh up     create (or reuse) the container and converge it
#   tests/demo.sh down   remove it
set -euo pipefail
cd "$(dirname "$0")/.."
name=mailhost-demo
network=mailhost-demo
case "${1:-up}" in
  down)
    podman rm -f "$name" >/dev/null 2>&1 || true
    podman network rm -f "$network" >/dev/null 2>&1 || true
    echo "Demo host removed."
    exit 0
    ;;
  up) ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

: "${MAILHOST_IMAGE:?run through 'make demo', which builds the image}"
podman network exists "$network" || podman network create "$network" >/dev/null
if ! podman container exists "$name"; then
  podman run -d --name "$name" --hostname mail.example.test --network "$network" \
    --privileged --systemd=always "$MAILHOST_IMAGE" /sbin/init >/dev/null
fi
podman start "$name" >/dev/null
podman exec "$name" systemctl is-system-running --wait >/dev/null || true

mkdir -p .cache/demo-dkim
ansible-playbook -i tests/demo/inventory.yml playbooks/provision.yml "${@:2}"

ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$name")
cat <<INFO

Demo mail host '$name' is up at $ip (podman network '$network').
  Shell:          podman exec -it $name bash
  Postfix config: podman exec $name postconf -n
  Send a mail:    swaks --server $ip --helo client.example.org --to postmaster@example.test --from you@example.org
  DKIM record:    .cache/demo-dkim/example.test.zone (publish it in the zone of example.test)
  Drift check:    .venv/bin/ansible-playbook -i tests/demo/inventory.yml playbooks/drift.yml --check --diff
  Remove it:      make demo-clean
INFO
