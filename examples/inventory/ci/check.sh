#!/usr/bin/env bash
# The verdict of a pull request without host access (safe for forks): lint the inventories,
# then the pre-flight of every host of both, with each host's candidate main.cf and master.cf
# written to mailhost-check/ (a reviewer can diff them between commits).
#   ci/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg
# vault.yml files are encrypted: not YAML to a linter.
yamllint --strict -d '{extends: default, ignore: "*/group_vars/*/vault.yml",
  rules: {line-length: {max: 160}, truthy: {allowed-values: ["true", "false"]}}}' production staging
for inventory in staging production; do
  ansible-inventory -i "$inventory" --list > /dev/null
  ansible-playbook -i "$inventory" mailops.mailhost.check -e "mailhost_check_dir=$PWD/mailhost-check/$inventory"
done
