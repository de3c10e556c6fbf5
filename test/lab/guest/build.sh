#!/usr/bin/env bash
# Builds the lab's small bootable guest "web1" from Debian packages, into a cache folder
# keyed by a hash of its inputs (later lab starts reuse it):
#
#   build.sh [CACHE_ROOT]     prints the folder holding the build:
#     vmlinuz       Debian's kernel (linux-image-*-amd64, extracted, not installed)
#     initrd.gz     busybox-static + the modules to reach the root disk; switch_root to /dev/vda
#     rootfs.tar    the root filesystem: busybox-static, dropbear (its ed25519 host key made
#                   here, once: the key the guest "had at backup time"), busybox httpd
#     host_key.pub  that host key, OpenSSH format ("ssh-ed25519 AAAA… web1")
#     kernel-version
#
#   build.sh --image CACHE_DIR AUTHORIZED_KEYS OUT.qcow2
#                             the ext4 disk image from rootfs.tar plus root's authorized_keys
#
# The guest: 198.18.0.33/24 on its virtio NIC (set at boot, no DHCP), dropbear on :22 (root by
# key only), busybox httpd on :80 serving a page naming web1, a shell on the serial console.
# Needs: apt-get (download only), dpkg-deb, busybox-static, dropbear-bin, e2fsprogs,
# qemu-utils, gzip.
set -euo pipefail

GUEST_NAME=web1
GUEST_ADDR=198.18.0.33
GUEST_PREFIX=24
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# the modules the initramfs loads, with what they need from modules.dep (crc32c: ext4's
# metadata checksums ask the crypto API for it)
MODULES=(virtio_pci virtio_blk virtio_net crc32c_generic ext4)

log() { printf '[guest %s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# the kernel package linux-image-amd64 points at today, e.g. linux-image-6.1.0-57-amd64
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }

build_key() {
  local kpkg=$1
  {
    echo "$kpkg $(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')"
    echo "busybox-static $(pkg_version busybox-static)"
    echo "dropbear-bin $(pkg_version dropbear-bin)"
    cat "${BASH_SOURCE[0]}"
  } | sha256sum | cut -c1-16
}

# copy a dynamically linked program and the libraries it needs into ROOT
copy_with_libs() {
  local root=$1 prog=$2 lib
  install -D -m 755 "$prog" "$root$prog"
  for lib in $(ldd "$prog" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
    [[ -e $root$lib ]] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
  done
}

busybox_tree() {
  local root=$1 a
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,root,var/log}
  install -m 755 /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list-full); do
    [[ -e $root/$a ]] || ln -s /bin/busybox "$root/$a"
  done
  chmod 1777 "$root/tmp"
}

# print PATH of module M's .ko after those of its dependencies (modules.dep lists a module's
# dependencies last-loaded-first), each once
declare -A SEEN=()
load_order() {
  local dep=$1 m=$2 line f deps i
  line=$(grep -E "(^|/)$m\.ko:" "$dep") || die "module $m not in modules.dep"
  f=${line%%:*}
  [[ -n ${SEEN[$f]:-} ]] && return 0
  read -r -a deps <<<"${line#*:}"
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
    load_order "$dep" "$(basename "${deps[$i]}" .ko)"
  done
  SEEN[$f]=1
  echo "$f"
}

make_initrd() {
  local kdir=$1 kver=$2 out=$3 stage m f
  stage=$(mktemp -d)
  busybox_tree "$stage"
  mkdir -p "$stage/lib/modules" "$stage/newroot"
  : >"$stage/modules"
  for m in "${MODULES[@]}"; do
    for f in $(load_order "$kdir/lib/modules/$kver/modules.dep" "$m"); do
      # (each $(…) has its own SEEN: a module two of them need is listed once here)
      grep -qx "$(basename "$f" .ko)" "$stage/modules" && continue
      cp "$kdir/lib/modules/$kver/$f" "$stage/lib/modules/"
      basename "$f" .ko >>"$stage/modules"
    done
  done
  cat >"$stage/init" <<'EOF'
#!/bin/sh
# initramfs of the lab guest: load the disk, network and ext4 modules, switch to /dev/vda
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod /lib/modules/$m.ko || echo "initrd: insmod $m failed"; done </modules
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; exec sh; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
  chmod 755 "$stage/init"
  (cd "$stage" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null | gzip -9) >"$out"
  rm -rf "$stage"
}

make_rootfs() {
  local out=$1 pubout=$2 stage
  stage=$(mktemp -d)
  busybox_tree "$stage"
  copy_with_libs "$stage" /usr/sbin/dropbear
  mkdir -p "$stage/etc/dropbear" "$stage/root/.ssh" "$stage/var/www" "$stage/dev/pts" "$stage/lib/modules"
  chmod 700 "$stage/root" "$stage/root/.ssh"
  # the guest's own host key, made once per build: the key it had at backup time
  dropbearkey -t ed25519 -f "$stage/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
  dropbearkey -y -f "$stage/etc/dropbear/dropbear_ed25519_host_key" \
    | awk -v n="$GUEST_NAME" '/^ssh-ed25519 / {print $1, $2, n}' >"$pubout"
  [[ -s $pubout ]] || die "no host key"
  echo "$GUEST_NAME" >"$stage/etc/hostname"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
  # root has no password: dropbear lets it in by key only (-s), the console is the lab's
  printf 'root:*:19000:0:99999:7:::\n' >"$stage/etc/shadow"
  chmod 600 "$stage/etc/shadow"
  echo /bin/sh >"$stage/etc/shells"
  printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$GUEST_ADDR" "$GUEST_NAME" >"$stage/etc/hosts"
  echo 'PRETTY_NAME="lifeboat lab guest (busybox, dropbear)"' >"$stage/etc/os-release"
  printf '<h1>%s restored</h1>\n' "$GUEST_NAME" >"$stage/var/www/index.html"
  cat >"$stage/etc/inittab" <<'EOF'
::sysinit:/etc/rc
ttyS0::respawn:/sbin/getty -n -l /bin/sh 115200 ttyS0 vt100
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
EOF
  cat >"$stage/etc/rc" <<EOF
#!/bin/sh
# boot of the lab guest: filesystems, static address, sshd, httpd
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
hostname -F /etc/hostname
ip link set lo up
ip addr add $GUEST_ADDR/$GUEST_PREFIX dev eth0
ip link set eth0 up
/usr/sbin/dropbear -s -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -P /run/dropbear.pid
httpd -p 80 -h /var/www
echo "$GUEST_NAME: up at \$(cut -d' ' -f1 /proc/uptime) s"
EOF
  chmod 755 "$stage/etc/rc"
  (cd "$stage" && tar --numeric-owner --owner=0 --group=0 -cf - .) >"$out"
  rm -rf "$stage"
}

build() {
  local root=${1:-/var/cache/lifeboat-lab/guest} kpkg key dir tmp kver
  kpkg=$(kernel_package)
  [[ -n $kpkg ]] || die "apt-cache knows no linux-image-amd64 (apt-get update?)"
  key=$(build_key "$kpkg")
  dir="$root/$key"
  if [[ -f $dir/done ]]; then echo "$dir"; return 0; fi
  log "building the guest ($kpkg) in $dir"
  mkdir -p "$root"
  tmp=$(mktemp -d "$root/.build.XXXXXX")
  BUILD_TMP=$tmp
  trap 'rm -rf "$BUILD_TMP"' EXIT
  # apt-get download writes into the current folder; _apt cannot write to a root-only one
  chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q "$kpkg" >/dev/null 2>&1) || die "apt-get download $kpkg failed"
  dpkg-deb -x "$tmp"/"$kpkg"_*.deb "$tmp/k"
  kver=$(ls "$tmp/k/lib/modules")
  # the package ships no modules.dep (depmod runs at install): make it
  busybox depmod -b "$tmp/k" "$kver"
  install -m 644 "$tmp/k/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  echo "$kver" >"$tmp/kernel-version"
  make_initrd "$tmp/k" "$kver" "$tmp/initrd.gz"
  make_rootfs "$tmp/rootfs.tar" "$tmp/host_key.pub"
  rm -rf "$tmp/k" "$tmp"/*.deb
  touch "$tmp/done"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  # older builds go
  find "$root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
  log "guest built"
  echo "$dir"
}

# the disk: an ext4 filesystem (no partition table) from rootfs.tar, root's authorized_keys
# added, as a compressed qcow2
image() {
  local dir=$1 keys=$2 out=$3 stage
  stage=$(mktemp -d)
  mkdir "$stage/root"
  tar -xf "$dir/rootfs.tar" -C "$stage/root"
  install -m 600 "$keys" "$stage/root/root/.ssh/authorized_keys"
  truncate -s 64M "$stage/disk.raw"
  mkfs.ext4 -q -F -L "$GUEST_NAME-root" -d "$stage/root" "$stage/disk.raw"
  qemu-img convert -c -f raw -O qcow2 "$stage/disk.raw" "$out"
  rm -rf "$stage"
}

case "${1:-}" in
  --image) shift; image "$@" ;;
  *) build "$@" ;;
esac
