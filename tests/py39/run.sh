#!/usr/bin/env bash
# The modules' unit tests under Python 3.9, the Python that runs the modules on AlmaLinux 9,
# in the Debian 11 test image (whose python3 is 3.9.2). The controller's ansible-core provides
# ansible.module_utils (target-side code, which supports 3.9); pytest and dnspython for 3.9 are
# installed into .cache/py39-site from PyPI. The target-side tests run here (modules and
# module_utils); tests/unit/roles and the controller plugins' tests (action, plugin_utils)
# need the controller's Python and ansible-playbook, and run in `pytest tests/unit` only.
set -euo pipefail
cd "$(dirname "$0")/../.."
image=$(cat .cache/image-bullseye)
site=.cache/py39-site
packages=('pytest==8.4.2' 'exceptiongroup==1.3.0' 'tomli==2.2.1' 'typing_extensions==4.14.1' 'dnspython==2.7.0'
  'cryptography==44.0.3' 'cffi==1.17.1' 'pycparser==2.22')
# Pure Python, some published as source distributions only: dkimpy (the DKIM oracle and the
# message checks), pyspf and publicsuffix2 (the message checks).
pure=('dkimpy==1.1.8' 'pyspf==2.0.14' 'publicsuffix2==2.20191221')
stamp=$(printf '%s\n' "${packages[@]}" "${pure[@]}" | sha256sum | cut -c1-12)
if [ "$(cat "$site/.installed" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$site"
  python -m pip install -q --no-warn-conflicts --target "$site" --python-version 3.9.2 --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any "${packages[@]}"
  python -m pip install -q --no-warn-conflicts --no-deps --target "$site" "${pure[@]}"
  echo "$stamp" > "$site/.installed"
fi
ansible_dir=$(python -c 'import ansible, os; print(os.path.dirname(ansible.__file__))')
podman run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  -v "$PWD:/src:ro" -v "$PWD/$site:/site:ro" -v "$ansible_dir:/controller/ansible:ro" \
  -e PYTHONDONTWRITEBYTECODE=1 "$image" sh -c '
    python3 --version
    mkdir -p /tmp/ac/ansible_collections/mailops && ln -s /src /tmp/ac/ansible_collections/mailops/mailhost
    cd /src && PYTHONPATH=/site:/controller:/tmp/ac python3 -m pytest -p no:cacheprovider -c /dev/null \
      --rootdir=/src tests/unit/plugins/modules tests/unit/plugins/module_utils -q'
