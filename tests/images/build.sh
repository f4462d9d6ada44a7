#!/usr/bin/env bash
# Build a Debian base image for Molecule without any container registry: debootstrap a root
# file system, then `podman import` it. The suite is the first argument (default bookworm):
#   bookworm  Debian 12, the platform most scenarios run on
#   bullseye  Debian 11: Postfix 3.5.25 and Python 3.9, the versions AlmaLinux 9 ships
#   trixie    Debian 13: Postfix 3.10 (lmdb), OpenSSL 3.5, fail2ban 1.1.0, firewalld 2.3.1,
#             the versions AlmaLinux 10 ships for fail2ban and firewalld
# The tag is a hash of this script, the package list and the suite, so an unchanged image is
# reused, not rebuilt. Prints the image reference on stdout (everything else goes to stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:-bookworm}
case "$suite" in
  bookworm|bullseye|trixie) ;;
  *) echo "build.sh: unknown suite '$suite' (bookworm, bullseye or trixie)" >&2; exit 2 ;;
esac
name=${MAILHOST_IMAGE_NAME:-localhost/mailhost-$suite}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=$( (cat "$here/build.sh" "$here/packages.txt"; echo "$suite") | sha256sum | cut -c1-12)
image="$name:$tag"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

# "install:" and "cache:" lines apply to every suite, "install-SUITE:" and "cache-SUITE:" to one.
pkgs() { sed -n -e "s/^$1: *//p" -e "s/^$1-$suite: *//p" "$here/packages.txt" | tr '\n' ' '; }
install=$(pkgs install | xargs | tr ' ' ',')
cache=$(pkgs cache)

rootfs=$(mktemp -d /var/tmp/mailhost-rootfs.XXXXXX)
trap 'umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs"' EXIT

echo "Building $image (debootstrap $suite, about a minute)..." >&2
debootstrap --variant=minbase --include="$install" "$suite" "$rootfs" "$mirror" >&2

{
  echo "deb $mirror $suite main"
  echo "deb $mirror $suite-updates main"
  echo "deb http://deb.debian.org/debian-security $suite-security main"
} > "$rootfs/etc/apt/sources.list"
# Keep downloaded packages (Debian's docker-clean style hooks are not present in a
# debootstrap tree, but be explicit), then pre-fetch the packages the roles install.
echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > "$rootfs/etc/apt/apt.conf.d/01keep-debs"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" apt-get update -qq >&2
# shellcheck disable=SC2086
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only $cache >&2
umount "$rootfs/proc"

# A container needs no getty and no kernel-facing units; keep boot quick and quiet.
for unit in getty.target systemd-remount-fs.service systemd-udevd.service \
            systemd-udev-trigger.service systemd-modules-load.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo 'mailhost-test' > "$rootfs/etc/hostname"
: > "$rootfs/etc/machine-id"

tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' - "$image" >&2
echo "$image"
