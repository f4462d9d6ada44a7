#!/usr/bin/env bash
# ansible-test sanity, every test, with no ignore file: on the controller's Python 3.11, then the
# module-side tests (compile, import) on every Python the supported platforms run modules with -
# 3.9 (AlmaLinux 9), 3.12 (AlmaLinux 10), 3.13 (Debian 13); 3.11 is Debian 12's. An interpreter
# comes from PATH or pyenv; without one, 3.9 and 3.13 are compiled in the platform test images
# (Debian 11 and 13), and a missing 3.12 is an error that names it.
# ansible-test needs the collection at ansible_collections/NAMESPACE/NAME and a git tree; the
# checkout's files (tracked and new, not ignored) are copied into one under .cache/sanity.
# ansible-test fetches pip's bootstrap script from a host this machine cannot reach; the
# stand-in in this directory (ensurepip) is put in its cache instead. Its requirements come from PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
if compgen -G "tests/sanity/ignore-*.txt" >/dev/null; then
  echo "sanity: an ignore file is not allowed here: $(ls tests/sanity/ignore-*.txt)"; exit 1
fi
tree=$root/.cache/sanity/ansible_collections/mailops/mailhost
rm -rf "$tree" && mkdir -p "$tree"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tree" 2>/dev/null || true
mkdir -p "$HOME/.ansible/test/cache"
cp tests/sanity/get_pip.py "$HOME/.ansible/test/cache/get_pip_24_2.py"
cd "$tree"
git init -q . && git add -A && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
quiet() { { grep -v -e "^WARNING: Location" -e "^WARNING: Reviewing previous" -e 'Using locale "C.UTF-8"' || true; }; }

ansible-test sanity --python 3.11 2>&1 | quiet

interpreter() {  # a python3.X that runs: pyenv's, else PATH's (a pyenv shim may point nowhere)
  local found
  for found in $(compgen -G "$HOME/.pyenv/versions/$1.*/bin/python$1" | sort -V | tail -1) $(command -v "python$1" 2>/dev/null); do
    if "$found" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$1'.split('.'))))" 2>/dev/null; then
      echo "$found"; return
    fi
  done
}
for version in 3.9 3.12 3.13; do
  python=$(interpreter "$version" || true)
  if [ -n "$python" ]; then
    PATH=$(dirname "$python"):$PATH ansible-test sanity --test compile --test import --python "$version" 2>&1 | quiet
    continue
  fi
  case $version in
    3.9) image_file=$root/.cache/image-bullseye ;;
    3.13) image_file=$root/.cache/image-trixie ;;
    *) echo "sanity: no Python $version on this machine (PATH or pyenv) and no platform image has it"; exit 1 ;;
  esac
  [ -s "$image_file" ] || { echo "sanity: no Python $version here; build the platform images first (make profile-images)"; exit 1; }
  echo "Compiling the modules and module_utils with Python $version in $(cat "$image_file")"
  podman run --rm --network none -v "$tree/plugins:/plugins:ro" "$(cat "$image_file")" \
    python3 -c "
import pathlib, sys
bad = 0
for path in sorted(pathlib.Path('/plugins').glob('module*/*.py')):
    try:
        compile(path.read_text(encoding='utf-8'), str(path), 'exec')
    except SyntaxError as exc:
        print(f'{path}: {exc}'); bad += 1
sys.exit(bad)"
done
echo "sanity: every ansible-test sanity test passed with no ignore file (Python 3.11; modules also on 3.9, 3.12, 3.13)"
