#!/bin/bash
# Installs the photo booth as an appliance. The ONE install script: the SD image build runs it
# inside the image (pi-gen, in a chroot), and a technician runs it on a Pi that already runs
# Raspberry Pi OS Lite (Bookworm, 64-bit):
#
#     sudo image-build/install.sh --wheelhouse wheelhouse
#
# What it does, each step safe to repeat (an update is the same command with a newer wheelhouse):
#   1. Debian packages (camera, GPIO, systemd, fonts, SDL's display libraries) from apt
#   2. the system user "kiosk" and the groups it needs
#   3. the app in /opt/kiosk/venv (--system-site-packages, so picamera2, lgpio and systemd
#      from apt are visible), installed offline from the wheelhouse: nothing is downloaded;
#      then its voice clips, made with espeak-ng (tools/make-voice)
#   4. units, udev rule, tmpfiles entry, polkit rule and helpers; /etc/kiosk with a default
#      kiosk.toml (never overwritten); the service enabled, the login prompt on tty1 disabled
#   5. config.txt (camera and PWM overlays) and cmdline.txt (quiet boot, no blanking, no cursor)
#
# Options:
#   --wheelhouse DIR   aarch64/cp311 wheels made by image-build/build-wheelhouse (step 3)
#   --root DIR         install into a root file system mounted at DIR instead of / (files and
#                      unit links only; steps 1-3 need a chroot and are skipped)
#   --apt MODE         all (default) | available (skip packages apt does not know, e.g. on plain
#                      Debian without the Raspberry Pi archive) | none
#   --no-venv          skip step 3
#   --boot-dir DIR     where config.txt and cmdline.txt are (default /boot/firmware)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=""
wheelhouse=""
apt_mode=all
do_venv=1
boot_dir=/boot/firmware
user=kiosk
groups=(video render input gpio plugdev tty systemd-journal audio)
venv=/opt/kiosk/venv
libexec=/usr/local/libexec/kiosk

log() { echo "install: $*"; }
die() { echo "install: ERROR: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --wheelhouse) wheelhouse=$(cd "${2:?}" && pwd); shift 2 ;;
        --root) root=$(cd "${2:?}" && pwd); shift 2 ;;
        --apt) apt_mode=${2:?}; shift 2 ;;
        --no-venv) do_venv=0; shift ;;
        --boot-dir) boot_dir=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
case "$apt_mode" in all|available|none) ;; *) die "--apt takes all, available or none" ;; esac
if [ -n "$root" ]; then
    apt_mode=none
    do_venv=0
fi

# --- 1. Debian packages ------------------------------------------------------------------------
packages_file="$src/image-build/stage-kiosk/00-kiosk/00-packages-nr"
install_packages() {
    local wanted=() p
    mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$packages_file")
    if [ "$apt_mode" = available ]; then
        local known=()
        for p in "${wanted[@]}"; do
            if apt-cache show "$p" >/dev/null 2>&1; then
                known+=("$p")
            else
                log "apt does not know $p here: skipped (it comes from the Raspberry Pi archive)"
            fi
        done
        wanted=("${known[@]}")
    fi
    log "apt packages: ${wanted[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${wanted[@]}"
}
if [ "$apt_mode" != none ]; then
    apt-get update
    install_packages
fi

# --- 2. the user -------------------------------------------------------------------------------
# In --root mode the tools work on $root's own /etc (useradd and groupadd --root chroot into it).
root_args=()
[ -n "$root" ] && root_args=(--root "$root")
if [ -e "$root/etc/passwd" ]; then
    for g in "${groups[@]}"; do
        grep -q "^$g:" "$root/etc/group" || groupadd "${root_args[@]}" --system "$g"
    done
    if ! grep -q "^$user:" "$root/etc/passwd"; then
        useradd "${root_args[@]}" --system --user-group --home-dir /var/lib/kiosk --no-create-home \
            --shell /usr/sbin/nologin --comment "Photo booth" "$user"
        log "created user $user"
    fi
    usermod "${root_args[@]}" --append --groups "$(IFS=,; echo "${groups[*]}")" "$user"
else
    log "no $root/etc/passwd: user $user not created"
fi

# --- 3. the app in its venv, offline -----------------------------------------------------------
if [ "$do_venv" = 1 ]; then
    [ -n "$wheelhouse" ] || die "--wheelhouse DIR is needed (make one with image-build/build-wheelhouse)"
    [ -f "$src/requirements/runtime.txt" ] || die "$src/requirements/runtime.txt missing"
    if [ ! -x "$venv/bin/python" ]; then
        mkdir -p "$(dirname "$venv")"
        python3 -m venv --system-site-packages "$venv"
        log "created $venv"
    fi
    pip=("$venv/bin/pip" install --no-index --find-links "$wheelhouse" --no-deps --no-cache-dir
         --disable-pip-version-check)
    "${pip[@]}" -r "$src/requirements/runtime.txt"
    # the app itself: always replaced, so a rebuilt wheel of the same version still updates
    "${pip[@]}" --force-reinstall grad-photo-booth
    [ -f "$src/README.md" ] && install -m 0644 "$src/README.md" /opt/kiosk/README.md
    # the spoken prompts: espeak-ng speaks every instruction once, here, into WAV files
    # ($venv/share/kiosk/voice); the booth only plays them
    "$venv/bin/python" -m kiosk.booth.voice_clips "$venv/share/kiosk/voice" ||
        log "WARNING: the voice clips were not made (is espeak-ng installed?): the booth runs silent"
    log "app installed: $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("grad-photo-booth"))')"
fi

# --- 4. units, rules, helpers, config ----------------------------------------------------------
install -d "$root/etc/systemd/system" "$root/etc/udev/rules.d" "$root/etc/tmpfiles.d" "$root$libexec"
install -m 0644 "$src/systemd/kiosk.service" "$src/systemd/kiosk-pwm.service" \
    "$src/systemd/kiosk-recover.service" "$root/etc/systemd/system/"
install -m 0644 "$src/systemd/80-kiosk-usb.rules" "$root/etc/udev/rules.d/"
install -m 0644 "$src/systemd/kiosk-tmpfiles.conf" "$root/etc/tmpfiles.d/kiosk.conf"
install -m 0755 "$src/systemd/libexec/pwm-export" "$src/systemd/libexec/usb-mount" \
    "$src/systemd/libexec/recover" "$root$libexec/"
# polkit: the booth's user may reboot/power off (technician mode) and eject its USB stick
[ -d "$root/etc/polkit-1/rules.d" ] || install -d -m 0755 "$root/etc/polkit-1/rules.d"
install -m 0644 "$src/systemd/50-kiosk.rules" "$root/etc/polkit-1/rules.d/"

# /etc/kiosk: root's; its files readable by the booth's group only (the registrar's key, the PIN)
kiosk_gid=$(grep "^$user:" "$root/etc/group" 2>/dev/null | cut -d: -f3 || true)
install -d -m 0755 -o 0 -g 0 "$root/etc/kiosk"
if [ ! -e "$root/etc/kiosk/kiosk.toml" ]; then
    install -m 0640 -o 0 -g "${kiosk_gid:-0}" "$src/image-build/kiosk.toml" "$root/etc/kiosk/kiosk.toml"
    log "wrote the default /etc/kiosk/kiosk.toml: change the technician PIN in it"
fi
# every setting with its default, range and meaning (generated from kiosk/config.py); replaced
# on each update, unlike kiosk.toml
install -m 0644 -o 0 -g 0 "$src/image-build/kiosk.example.toml" "$root/etc/kiosk/kiosk.example.toml"
for f in "$root"/etc/kiosk/*.key; do
    [ -e "$f" ] || continue
    chown "0:${kiosk_gid:-0}" "$f"
    chmod 0640 "$f"
done

systemctl_args=()
[ -n "$root" ] && systemctl_args=(--root "$root")
systemctl "${systemctl_args[@]}" enable kiosk-pwm.service kiosk.service
# the booth owns tty1; the technician still has tty2 (Ctrl+Alt+F2) and ssh if enabled
systemctl "${systemctl_args[@]}" disable getty@tty1.service 2>/dev/null || true

# on a running system (not a chroot, not --root): apply now
if [ -z "$root" ] && [ -d /run/systemd/system ] && ! systemd-detect-virt --chroot -q; then
    systemctl daemon-reload
    systemd-tmpfiles --create /etc/tmpfiles.d/kiosk.conf
    udevadm control --reload || true
fi

# --- 5. boot configuration ---------------------------------------------------------------------
config_txt="$root$boot_dir/config.txt"
cmdline_txt="$root$boot_dir/cmdline.txt"
marker="# --- photo booth (image-build/install.sh) ---"
if [ -f "$config_txt" ]; then
    if ! grep -qF "$marker" "$config_txt"; then
        # The firmware reads the LAST value of a setting: the booth's block goes at the end.
        sed -i 's/^camera_auto_detect=1/#camera_auto_detect=1  # the booth names its camera below/' "$config_txt"
        cat >> "$config_txt" <<EOF

$marker
[all]
# HQ camera (IMX477), named rather than detected so a loose cable gives a clear error
camera_auto_detect=0
dtoverlay=imx477
# (camera on a Pi 5's CAM0 connector instead of CAM1: append ",cam0" to the line above)
# hardware PWM for the light panels: GPIO12 = channel 0 (left), GPIO13 = channel 1 (right)
dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4
# an appliance: no rainbow splash at power-on
disable_splash=1
EOF
        log "config.txt: camera and PWM overlays added"
    fi
else
    log "no $config_txt: camera and PWM overlays NOT set (add them by hand, see hardware/README.md)"
fi
if [ -f "$cmdline_txt" ]; then
    line=$(head -n 1 "$cmdline_txt")
    for word in quiet consoleblank=0 vt.global_cursor_default=0 logo.nologo; do
        case " $line " in *" $word "*) ;; *) line="$line $word" ;; esac
    done
    printf '%s\n' "$line" > "$cmdline_txt"
    log "cmdline.txt: $line"
fi

log "done. Reboot to start the booth (or: systemctl start kiosk)."
