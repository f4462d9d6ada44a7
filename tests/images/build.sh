#!/usr/bin/env bash
# Build the Debian 12 base image for Molecule without any container registry:
# debootstrap a root file system, then `podman import` it. The tag is a hash of this
# script and the package list, so an unchanged image is reused, not rebuilt.
# Prints the image reference on stdout (everything else goes to stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${MAILHOST_IMAGE_NAME:-localhost/mailhost-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=$(cat "$here/build.sh" "$here/packages.txt" | sha256sum | cut -c1-12)
image="$name:$tag"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

pkgs() { sed -n "s/^$1: *//p" "$here/packages.txt"; }
install=$(pkgs install | tr ' ' ',')
cache=$(pkgs cache)

rootfs=$(mktemp -d /var/tmp/mailhost-rootfs.XXXXXX)
trap 'umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs"' EXIT

echo "Building $image (debootstrap, about a minute)..." >&2
debootstrap --variant=minbase --include="$install" bookworm "$rootfs" "$mirror" >&2

cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
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
