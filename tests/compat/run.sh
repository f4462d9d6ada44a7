#!/usr/bin/env bash
# make compat: the collection under each older ansible-core it supports (versions.txt), each in
# its own virtualenv (.cache/compat/ansible-core-X): every plugin imported through Ansible's
# collection loader, every module's and role's documentation read by that ansible-doc, the unit
# tests, then the whole stack converged on a fresh container twice (the second run changes
# nothing), a drift check that finds nothing, and a message delivered. The whole behaviour suite
# runs under the pinned ansible-core only (make test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
image=$(cat .cache/image)
work=$root/.cache/compat
mkdir -p "$work"
# From the pinned toolchain's ansible package, alone on the path: containers.podman (the
# connection) and ansible.posix (the json callback the unit tests read plays with).
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for collection in containers/podman ansible/posix; do
  mkdir -p "$work/collections/ansible_collections/${collection%/*}"
  ln -sfn "$site/ansible_collections/$collection" "$work/collections/ansible_collections/$collection"
done
name=mailhost-compat
network=mailhost-compat
podman network exists "$network" || podman network create "$network" >/dev/null
trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT

recap() {  # "changed failed" of the host in a default-callback run's recap
  sed -n "s/^$name *: ok=[0-9]* *changed=\([0-9]*\) *unreachable=[0-9]* *failed=\([0-9]*\).*/\1 \2/p" "$1" | tail -1
}

for version in $(grep -v '^#' "$here/versions.txt"); do
  echo "=== compat: ansible-core $version ==="
  venv=$work/ansible-core-$version
  stamp=$venv/.installed-$(cat "$here/requirements.txt" | sha256sum | cut -c1-12)
  if [ ! -e "$stamp" ]; then
    rm -rf "$venv" && python3 -m venv "$venv"
    "$venv/bin/pip" install -q "ansible-core==$version" -r "$here/requirements.txt" 2>&1 | { grep -v "^WARNING: Location" || true; }
    touch "$stamp"
  fi
  export PATH=$venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$root/.venv/collections:$work/collections
  "$venv/bin/ansible" --version | head -1 | grep -qF "$version" || { echo "compat: $venv does not run ansible-core $version"; exit 1; }

  "$venv/bin/python" "$here/import_plugins.py"
  modules=$(for f in plugins/modules/*.py; do echo "mailops.mailhost.$(basename "$f" .py)"; done)
  roles=$(for r in roles/*/meta/argument_specs.yml; do r=${r#roles/}; echo "mailops.mailhost.${r%%/*}"; done)
  # shellcheck disable=SC2086
  ansible-doc -t module --json $modules > "$work/doc-modules-$version.json"
  # shellcheck disable=SC2086
  ansible-doc -t role --json $roles > "$work/doc-roles-$version.json"
  echo "compat: ansible-doc read $(wc -w <<<"$modules") modules and $(wc -w <<<"$roles") roles"

  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit 2>&1 | tail -1

  podman rm -f "$name" >/dev/null 2>&1 || true
  podman run -d --name "$name" --hostname mail.example.test --network "$network" \
    --privileged --systemd=always "$image" /sbin/init >/dev/null
  podman exec "$name" systemctl is-system-running --wait >/dev/null 2>&1 || true
  cat > "$work/inventory.yml" <<INVENTORY
all:
  hosts:
    $name:
      ansible_connection: containers.podman.podman
      ansible_python_interpreter: /usr/bin/python3
      postfix_myhostname: mail.example.test
      postfix_mydestination: ["\$myhostname", localhost, example.test]
      opendkim_keys:
        - {domain: example.test, selector: compat}
      opendkim_record_dir: $work/dkim-records
INVENTORY
  for run in first second; do
    ansible-playbook -i "$work/inventory.yml" playbooks/provision.yml > "$work/$run-$version.log" 2>&1 \
      || { tail -40 "$work/$run-$version.log"; echo "compat: the $run converge under $version failed"; exit 1; }
    echo "compat: $run converge: changed failed = $(recap "$work/$run-$version.log")"
  done
  [ "$(recap "$work/second-$version.log")" = "0 0" ] \
    || { grep -E "^(changed|TASK)" "$work/second-$version.log" | grep -B1 "^changed" || true; echo "compat: the second run under $version changed something"; exit 1; }
  ansible-playbook -i "$work/inventory.yml" playbooks/drift.yml --check --diff > "$work/drift-$version.log" 2>&1 \
    || { tail -40 "$work/drift-$version.log"; echo "compat: the drift check under $version failed"; exit 1; }
  [ "$(recap "$work/drift-$version.log")" = "0 0" ] || { echo "compat: the drift check under $version found drift"; exit 1; }
  podman exec "$name" swaks --server 127.0.0.1 --from someone@example.net --to root@mail.example.test \
    --header "Subject: compat-$version" --timeout 30 >/dev/null
  for _ in $(seq 30); do
    podman exec "$name" grep -qs "Subject: compat-$version" /var/mail/root && break
    sleep 1
  done
  podman exec "$name" grep -qs "Subject: compat-$version" /var/mail/root \
    || { podman exec "$name" postqueue -p; echo "compat: the message was not delivered under $version"; exit 1; }
  echo "compat: ansible-core $version: converged twice (second changed nothing), no drift, mail delivered"
done
