#!/bin/bash -e
# pi-gen sub-stage (runs on the build host, cwd = this directory, after 00-packages-nr has
# installed the Debian packages in the image): copy the project and the wheelhouse into the
# image and run the ONE install script there, in the chroot, exactly as on a running Pi.
repo=$(cd ../../.. && pwd)
wheelhouse=${KIOSK_WHEELHOUSE:-$repo/image-build/work/wheelhouse}
[ -d "$wheelhouse" ] || { echo "no wheelhouse at $wheelhouse: run image-build/build-image" >&2; exit 1; }

dest="${ROOTFS_DIR}/tmp/kiosk-src"
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$repo/systemd" "$repo/image-build" "$repo/requirements" "$dest/"
rm -rf "$dest/image-build/work"
[ -f "$repo/README.md" ] && cp "$repo/README.md" "$dest/"
cp -a "$wheelhouse" "$dest/wheelhouse"

# packages are already in (00-packages-nr, same list): --apt none
on_chroot <<CHROOT
/tmp/kiosk-src/image-build/install.sh --apt none --wheelhouse /tmp/kiosk-src/wheelhouse
CHROOT

rm -rf "$dest"
