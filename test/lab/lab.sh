#!/usr/bin/env bash
# lifeboat lab: separate "hosts" on one machine, each a network namespace with its own
# mount/UTS/PID namespaces, its own OpenSSH sshd and host key, on a private bridge.
#
#   lab.sh up [--roles db,mdb,fs,vm,proxy]  start (idempotent; default: all roles)
#   lab.sh down                          tear everything down (also after a half-done up)
#   lab.sh status                        hosts, pids, addresses, VIPs
#   lab.sh exec HOST CMD...              run inside HOST (one argument: through bash -c)
#   lab.sh link-down|link-up HOST        the host's switch port (a partition, not a crash)
#   lab.sh kill-sshd HOST                SIGKILL the listening sshd (open sessions survive)
#   lab.sh start-sshd HOST               start sshd again
#   lab.sh rekey HOST                    new host key + SIGHUP (known_hosts is NOT updated)
#   lab.sh hosts [--roles ...]           print the host names of the roles
#
# Needs root, iproute2, util-linux (unshare, nsenter), openssh-server, postgresql-15,
# mariadb-server, rsync, qemu-utils, e2fsprogs, iputils-arping, python3; for the vm role
# also qemu-system-x86, libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients,
# busybox-static, dropbear-bin, curl (the guest: guest/build.sh).
set -euo pipefail

LAB="${LIFEBOAT_LAB_DIR:-/var/tmp/lifeboat-lab}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
PG_BIN=/usr/lib/postgresql/15/bin
NET=198.18.0
SWITCH=lb-switch

# name -> last octet, role
declare -A OCTET=([db1]=11 [db2]=12 [mdb1]=13 [mdb2]=14 [fs1]=21 [fs2]=22 [backup]=31 [spare]=32 [proxy1]=41 [proxy2]=42)
declare -A ROLE=([db1]=db [db2]=db [mdb1]=mdb [mdb2]=mdb [fs1]=fs [fs2]=fs [backup]=vm [spare]=vm [proxy1]=proxy [proxy2]=proxy)
ALL_HOSTS=(db1 db2 mdb1 mdb2 fs1 fs2 backup spare proxy1 proxy2)
ALL_ROLES=db,mdb,fs,vm,proxy
# VIPs: address/prefix, the host that holds it at start
DB_VIP=$NET.100 FS_VIP=$NET.101 PROXY_VIP=$NET.102 MDB_VIP=$NET.103
# the VM the vm role restores: a guest booted by libvirt on spare, on the lab bridge
GUEST=web1 GUEST_ADDR=$NET.33
GUEST_CACHE="${LIFEBOAT_LAB_GUEST_CACHE:-/var/cache/lifeboat-lab/guest}"
# hosts whose eth0 is a port of their own bridge br0 (which holds the address): the spare
# KVM host, where the guest's tap joins br0
declare -A BRIDGED=([spare]=1)
# Lab-only passwords: the lab is a throwaway rehearsal environment on a private bridge.
REPL_PASSWORD=lab-repl
DRILL_PASSWORD=lab-drill

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Daemons started here must not inherit the caller's extra descriptors (a pipe held open
# by a daemon makes the caller wait forever); bash keeps the script itself on fd 255.
for _fd in /proc/$$/fd/*; do
  _n=${_fd##*/}
  if [[ $_n -gt 2 && $_n -ne 255 ]]; then eval "exec $_n>&-" 2>/dev/null || true; fi
done
unset _fd _n

[[ $(id -u) -eq 0 ]] || die "the lab needs root (network namespaces, bind mounts)"
case "$LAB" in /|/var|/var/tmp|/tmp|/root|"") die "refusing LIFEBOAT_LAB_DIR=$LAB";; esac

hosts_for_roles() {
  local roles=",$1," h
  for h in "${ALL_HOSTS[@]}"; do
    [[ $roles == *",${ROLE[$h]},"* ]] && echo "$h"
  done
  return 0
}

parse_roles() {
  ROLES=$ALL_ROLES
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --roles) ROLES="$2"; shift 2 ;;
      --roles=*) ROLES="${1#--roles=}"; shift ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  local r
  for r in ${ROLES//,/ }; do
    [[ ,$ALL_ROLES, == *",$r,"* ]] || die "unknown role: $r (known: $ALL_ROLES)"
  done
}

check_host() { [[ -n "${OCTET[$1]:-}" ]] || die "unknown host: $1 (known: ${ALL_HOSTS[*]})"; }

# pid of the host's PID 1 (its init), from outside
init_pid() {
  local f="$LAB/$1/init.pid" p
  [[ -f $f ]] || return 1
  p=$(<"$f")
  [[ -n $p && -d /proc/$p ]] || return 1
  echo "$p"
}

host_running() { init_pid "$1" >/dev/null 2>&1; }

# Run a command inside a host: its network, mount, UTS and PID namespaces, a clean env.
in_host() {
  local h=$1 pid; shift
  pid=$(init_pid "$h") || die "host $h is not running"
  cd / && nsenter -t "$pid" -n -m -u -p -- env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

as_pg() { local h=$1; shift; in_host "$h" runuser -u postgres -- "$@"; }

# --- keys and the operator's files ----------------------------------------------------

init_lab_dir() {
  mkdir -p "$LAB"
  # the lab lives in memory: databases and shares of a few hundred MB start and vanish
  # without waiting for a busy disk (LIFEBOAT_LAB_TMPFS=0 keeps it on disk)
  if [[ ${LIFEBOAT_LAB_TMPFS:-1} != 0 ]] && ! mountpoint -q "$LAB"; then
    mount -t tmpfs -o size=2g,mode=700 lifeboat-lab "$LAB"
  fi
  chmod 700 "$LAB"
  [[ -f $LAB/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C lifeboat-lab-operator -f "$LAB/id_ed25519"
  local h
  for h in "${ALL_HOSTS[@]}"; do
    mkdir -p "$LAB/$h/etc-ssh" "$LAB/$h/keys"
    # root's own key on each host, for host-to-host rsync/ssh (fs1 -> fs2, backup -> spare)
    [[ -f $LAB/$h/keys/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C "root@$h" -f "$LAB/$h/keys/id_ed25519"
    [[ -f $LAB/$h/etc-ssh/ssh_host_ed25519_key ]] || \
      ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$LAB/$h/etc-ssh/ssh_host_ed25519_key"
  done
  write_known_hosts
  # every lab host trusts the operator and every other lab host's root key
  { cat "$LAB/id_ed25519.pub"; for h in "${ALL_HOSTS[@]}"; do cat "$LAB/$h/keys/id_ed25519.pub"; done; } >"$LAB/authorized_keys"
  {
    echo "# ssh -F $LAB/ssh_config db1"
    for h in "${ALL_HOSTS[@]}"; do printf 'Host %s\n  HostName %s.%s\n' "$h" "$NET" "${OCTET[$h]}"; done
    printf 'Host %s\n  HostName %s\n' "$GUEST" "$GUEST_ADDR"
    printf 'Host *\n  User root\n  IdentityFile %s/id_ed25519\n  IdentitiesOnly yes\n' "$LAB"
    printf '  UserKnownHostsFile %s/known_hosts\n  GlobalKnownHostsFile /dev/null\n' "$LAB"
    printf '  StrictHostKeyChecking yes\n  ConnectTimeout 5\n  BatchMode yes\n'
  } >"$LAB/ssh_config"
  {
    printf '127.0.0.1\tlocalhost\n%s.1\toperator\n' "$NET"
    for h in "${ALL_HOSTS[@]}"; do printf '%s.%s\t%s\n' "$NET" "${OCTET[$h]}" "$h"; done
    printf '%s\t%s\n' "$GUEST_ADDR" "$GUEST"
    printf '%s\tdb-vip\n%s\tfiles-vip\n%s\tproxy-vip\n%s\tmariadb-vip\n' "$DB_VIP" "$FS_VIP" "$PROXY_VIP" "$MDB_VIP"
  } >"$LAB/hosts"
  # lab users, so file ownership is realistic (the hosts get their own /etc/passwd copy)
  grep -v '^\(alice\|bob\|carol\|share\):' /etc/passwd >"$LAB/passwd"
  grep -v '^\(alice\|bob\|carol\|share\):' /etc/group >"$LAB/group"
  cat >>"$LAB/passwd" <<'EOF'
alice:x:2001:2001:Alice Lab:/srv/share/home/alice:/usr/sbin/nologin
bob:x:2002:2002:Bob Lab:/srv/share/home/bob:/usr/sbin/nologin
carol:x:2003:2003:Carol Lab:/srv/share/home/carol:/usr/sbin/nologin
EOF
  cat >>"$LAB/group" <<'EOF'
alice:x:2001:
bob:x:2002:
carol:x:2003:
share:x:2100:alice,bob,carol
EOF
  printf '*:*:*:replicator:%s\n*:*:*:drill:%s\n' "$REPL_PASSWORD" "$DRILL_PASSWORD" >"$LAB/pgpass"
  chmod 600 "$LAB/pgpass"
  mkdir -p "$LAB/wal-archive"
  chown postgres:postgres "$LAB/wal-archive"
  chmod 700 "$LAB/wal-archive"
}

# Written in place (not renamed): the file is bind-mounted into the hosts.
write_known_hosts() {
  local h key
  {
    for h in "${ALL_HOSTS[@]}"; do
      key=$(cut -d' ' -f1,2 "$LAB/$h/etc-ssh/ssh_host_ed25519_key.pub")
      printf '%s.%s %s\n%s %s\n' "$NET" "${OCTET[$h]}" "$key" "$h" "$key"
    done
    # the guest's key as recorded at backup time (once the vm role made its backup)
    if [[ -s $LAB/$GUEST.host_key.pub ]]; then
      key=$(cut -d' ' -f1,2 "$LAB/$GUEST.host_key.pub")
      printf '%s %s\n%s %s\n' "$GUEST_ADDR" "$key" "$GUEST" "$key"
    fi
  } >"$LAB/known_hosts.new"
  cat "$LAB/known_hosts.new" >"$LAB/known_hosts"
  rm -f "$LAB/known_hosts.new"
}

# --- network --------------------------------------------------------------------------

ensure_switch() {
  if ! ip netns list | grep -w "^$SWITCH" >/dev/null; then
    ip netns add "$SWITCH"
  fi
  ip -n "$SWITCH" link set lo up
  if ! ip -n "$SWITCH" link show br0 >/dev/null 2>&1; then
    ip -n "$SWITCH" link add br0 type bridge
    # no STP delay: ports forward at once
    ip -n "$SWITCH" link set br0 type bridge stp_state 0 forward_delay 0
  fi
  ip -n "$SWITCH" link set br0 up
  if ! ip link show lb-op >/dev/null 2>&1; then
    ip link add lb-op type veth peer name p-op netns "$SWITCH"
    ip -n "$SWITCH" link set p-op master br0 up
    ip addr add "$NET.1/24" dev lb-op
    ip link set lb-op up
  fi
}

ensure_host_net() {
  local h=$1 addr="$NET.${OCTET[$1]}"
  ip netns list | grep -w "^lb-$h" >/dev/null || ip netns add "lb-$h"
  if ! ip -n "lb-$h" link show eth0 >/dev/null 2>&1; then
    ip -n "$SWITCH" link del "p-$h" 2>/dev/null || true
    ip -n "lb-$h" link add eth0 type veth peer name "p-$h" netns "$SWITCH"
    ip -n "$SWITCH" link set "p-$h" master br0 up
  fi
  ip -n "lb-$h" link set lo up
  if [[ -n ${BRIDGED[$h]:-} ]]; then
    # a hypervisor's layout: eth0 is a port of br0, the host's address is on br0
    if ! ip -n "lb-$h" link show br0 >/dev/null 2>&1; then
      ip -n "lb-$h" link add br0 type bridge
      ip -n "lb-$h" link set br0 type bridge stp_state 0 forward_delay 0
    fi
    ip -n "lb-$h" link set eth0 master br0
    ip -n "lb-$h" addr replace "$addr/24" dev br0
    ip -n "lb-$h" link set br0 up
  else
    ip -n "lb-$h" addr replace "$addr/24" dev eth0
  fi
  ip -n "lb-$h" link set eth0 up
}

# --- a host ---------------------------------------------------------------------------

prepare_host_dirs() {
  local h=$1 d="$LAB/$1" addr="$NET.${OCTET[$1]}"
  mkdir -p "$d"/{srv,pg,root/.ssh,log,run,tmp}
  chmod 1777 "$d/tmp"
  chmod 700 "$d/root" "$d/root/.ssh"
  cp "$d/keys/id_ed25519" "$d/keys/id_ed25519.pub" "$d/root/.ssh/"
  cp "$LAB/authorized_keys" "$d/root/.ssh/authorized_keys"
  printf 'Host *\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n' >"$d/root/.ssh/config"
  chmod 600 "$d/root/.ssh/"*
  cp /etc/ssh/ssh_config "$d/etc-ssh/ssh_config"
  : >"$d/etc-ssh/ssh_known_hosts"
  cat >"$d/etc-ssh/sshd_config" <<EOF
# lifeboat lab host $h
ListenAddress $addr:22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
UseDNS no
PrintMotd no
# many parallel sessions from fan-out tests
MaxStartups 200:30:400
MaxSessions 64
# keeps bash from sourcing slow rc files for non-interactive commands
SetEnv SHLVL=1
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  cp "$LAB/passwd" "$d/passwd"
  cp "$LAB/group" "$d/group"
  cp "$LAB/hosts" "$d/hosts"
  echo "$h" >"$d/hostname"
  mkdir -p "$d/pg/15" "$d/log/postgresql" "$d/run/postgresql"
  chown -R postgres:postgres "$d/pg" "$d/log/postgresql" "$d/run/postgresql"
  chmod 2775 "$d/run/postgresql"
  if [[ ${ROLE[$h]} == mdb ]]; then
    # MariaDB: its own data, configuration (the runbook writes a role file there), socket, log
    mkdir -p "$d/mysql" "$d/run/mysqld" "$d/log/mysql"
    if [[ ! -d $d/etc-mysql ]]; then cp -a /etc/mysql "$d/etc-mysql"; fi
    chown mysql:mysql "$d/mysql" "$d/run/mysqld" "$d/log/mysql"
  fi
  if [[ $h == spare ]]; then prepare_hypervisor_dirs "$d"; fi
  # /var/lock is a symlink to /run/lock, which Debian creates at boot
  mkdir -p "$d/run/lock"
  chmod 1777 "$d/run/lock"
}

# The spare's libvirt keeps its configuration, domain definitions and state in the host's
# own folders (bind-mounted in host_init), set up as libvirt-daemon-system would: the qemu
# driver's user and groups, root's unix socket without polkit, no AppArmor, no cgroups
# (there is no systemd), qemu left in the host's mount namespace.
prepare_hypervisor_dirs() {
  local d=$1
  mkdir -p "$d"/etc-libvirt/qemu "$d"/lib-libvirt "$d"/cache-libvirt "$d"/log/libvirt
  # mount points in the machine's tree (libvirt-daemon-system would create them)
  mkdir -p /var/lib/libvirt /var/cache/libvirt
  if [[ -f /etc/libvirt/libvirt.conf ]]; then cp /etc/libvirt/libvirt.conf "$d/etc-libvirt/"; fi
  cat >"$d/etc-libvirt/libvirtd.conf" <<'CONF'
# lifeboat lab: root only, on the host's own /run/libvirt
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
CONF
  cat >"$d/etc-libvirt/qemu.conf" <<'CONF'
# lifeboat lab: no AppArmor, no systemd (so no cgroups), qemu in the host's namespaces
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
CONF
  # libvirtd resolves the qemu driver's default user before it reads qemu.conf
  grep -q '^libvirt-qemu:' "$d/passwd" || echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>"$d/passwd"
  grep -q '^libvirt-qemu:' "$d/group" || printf 'kvm:x:64056:\nlibvirt-qemu:x:64055:\nlibvirt:x:64057:\n' >>"$d/group"
}

# Runs as PID 1 of the host's PID namespace (via unshare): mounts, hostname, sshd, reaper.
host_init() {
  local h=$1 d="$LAB/$1"
  # sources relative to the host's folder: a bind over /tmp, /root, /run or /var/log must
  # not hide the remaining sources when the lab folder lives below one of them
  cd "$d"
  mount --bind srv /srv
  mount --bind pg /var/lib/postgresql
  mount --bind etc-ssh /etc/ssh
  mount --bind ../known_hosts /etc/ssh/ssh_known_hosts
  mount --bind passwd /etc/passwd
  mount --bind group /etc/group
  mount --bind hosts /etc/hosts
  mount --bind hostname /etc/hostname
  if [[ ${ROLE[$h]} == db ]]; then
    # the WAL archive: one directory both database hosts mount, like an NFS share
    mkdir -p /srv/wal-archive
    mount --bind ../wal-archive /srv/wal-archive
  fi
  if [[ ${ROLE[$h]} == mdb ]]; then
    mount --bind mysql /var/lib/mysql
    mount --bind etc-mysql /etc/mysql
  fi
  if [[ $h == spare ]]; then
    mount --bind etc-libvirt /etc/libvirt
    mount --bind lib-libvirt /var/lib/libvirt
    mount --bind cache-libvirt /var/cache/libvirt
  fi
  mount --bind root /root
  mount --bind log /var/log
  mount --bind run /run
  mount --bind tmp /tmp
  cd /
  # the lab folder (the operator's key, other hosts' keys) is not part of this host
  if [[ -d $LAB ]]; then mount -t tmpfs -o size=1m,mode=700 lab-hidden "$LAB"; fi
  hostname "$h"
  mkdir -p /run/sshd
  chmod 755 /run/sshd
  /usr/sbin/sshd -E /var/log/sshd.log
  touch /run/lab-ready
  # PID 1 must reap orphans (daemons that double-fork end up here)
  trap 'exit 0' TERM INT
  while :; do sleep 3600 & wait $! || true; done
}

start_host() {
  local h=$1 d="$LAB/$1" upid pid i
  if host_running "$h"; then return 0; fi
  prepare_host_dirs "$h"
  rm -f "$d/run/lab-ready" "$d/run/sshd.pid"
  setsid ip netns exec "lb-$h" unshare --mount --uts --pid --fork --mount-proc \
    bash "$SELF" __init "$h" </dev/null >"$d/console.log" 2>&1 &
  upid=$!
  echo "$upid" >"$d/unshare.pid"
  for i in $(seq 1 200); do
    pid=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null | awk '{print $1}') || true
    [[ -n ${pid:-} ]] && break
    sleep 0.02
  done
  [[ -n ${pid:-} ]] || die "$h: init did not start (see $d/console.log)"
  echo "$pid" >"$d/init.pid"
  for i in $(seq 1 250); do
    [[ -f $d/run/lab-ready ]] && return 0
    kill -0 "$upid" 2>/dev/null || break
    sleep 0.02
  done
  die "$h: init did not get ready (see $d/console.log)"
}

wait_ssh() {
  local h=$1 i
  for i in $(seq 1 100); do
    ssh -F "$LAB/ssh_config" -o ConnectTimeout=2 "$h" true 2>/dev/null && return 0
    sleep 0.1
  done
  die "$h: ssh does not answer"
}

# sshd answers on port 22 again (after a restart or a SIGHUP re-exec)
wait_listen() {
  local i
  for i in $(seq 1 100); do
    in_host "$1" bash -c "exec 3<>/dev/tcp/$NET.${OCTET[$1]}/22" 2>/dev/null && return 0
    sleep 0.05
  done
  die "$1: sshd does not listen"
}

# --- role services --------------------------------------------------------------------

pg_conf() {
  cat <<EOF
# lifeboat lab
listen_addresses = '*'
port = 5432
unix_socket_directories = '/run/postgresql'
cluster_name = '15/main'
wal_level = replica
archive_mode = on
archive_command = 'test ! -f /srv/wal-archive/%f && cp %p /srv/wal-archive/%f'
restore_command = 'cp /srv/wal-archive/%f %p'
wal_keep_size = 128MB
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
# partitions show within seconds instead of a minute
wal_sender_timeout = 10s
wal_receiver_timeout = 10s
shared_buffers = 32MB
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

setup_db1() {
  local h=db1 d="$LAB/db1"
  if [[ -f $d/pg/15/main/PG_VERSION ]] && as_pg $h $PG_BIN/pg_ctl -D /var/lib/postgresql/15/main status >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$d/pg/15/main" "$LAB/wal-archive"/*
  cp "$LAB/pgpass" "$d/pg/.pgpass"
  chown postgres:postgres "$d/pg/.pgpass"
  as_pg $h $PG_BIN/initdb --no-sync --wal-segsize=1 -D /var/lib/postgresql/15/main -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >"$d/log/postgresql/initdb.log"
  pg_conf >>"$d/pg/15/main/postgresql.conf"
  cat >>"$d/pg/15/main/pg_hba.conf" <<EOF
# lifeboat lab: the lab network
host    replication     replicator      $NET.0/24            scram-sha-256
host    all             all             $NET.0/24            scram-sha-256
EOF
  as_pg $h $PG_BIN/pg_ctl -D /var/lib/postgresql/15/main -l /var/log/postgresql/postgresql-15-main.log -w -t 30 start >/dev/null
  log "db1: PostgreSQL started"
  as_pg $h psql -q -v ON_ERROR_STOP=1 <<EOF
create role replicator with replication login password '$REPL_PASSWORD';
create role drill with login password '$DRILL_PASSWORD';
create database lab owner drill;
\c lab
set role drill;
create table drill (id bigserial primary key, payload text not null, created_at timestamptz not null default now());
insert into drill (payload) select 'seed ' || g from generate_series(1, 100) g;
EOF
  in_host $h ip addr add "$DB_VIP/24" dev eth0
  in_host $h arping -q -U -c 1 -I eth0 "$DB_VIP" || true
}

setup_db2() {
  local h=db2 d="$LAB/db2"
  if [[ -f $d/pg/15/main/PG_VERSION ]] && as_pg $h $PG_BIN/pg_ctl -D /var/lib/postgresql/15/main status >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$d/pg/15/main"
  cp "$LAB/pgpass" "$d/pg/.pgpass"
  chown postgres:postgres "$d/pg/.pgpass"
  # a slot left over from an earlier standby would make -C fail
  as_pg db1 psql -qtAc "select pg_drop_replication_slot('standby1') from pg_replication_slots where slot_name = 'standby1'" >/dev/null
  as_pg $h $PG_BIN/pg_basebackup -h "$NET.11" -U replicator -D /var/lib/postgresql/15/main \
    -R -X stream -C -S standby1 -c fast --no-sync
  log "db2: base backup taken"
  as_pg $h $PG_BIN/pg_ctl -D /var/lib/postgresql/15/main -l /var/log/postgresql/postgresql-15-main.log -w -t 30 start >/dev/null
}

# MariaDB on mdb1 (primary, holds the MariaDB VIP) and mdb2 (GTID replica, read_only), as
# Debian's mariadb-server runs it, started without systemd. An event on the primary writes a
# heartbeat row every second (like pt-heartbeat): the replica's age of that row is its
# data-loss window.
mdb_conf() {
  local h=$1 id=$2 ro=$3
  cat <<EOF
# lifeboat lab: $h
[mariadb]
bind_address = 0.0.0.0
skip_name_resolve = ON
server_id = $id
log_bin = mariadb-bin
binlog_format = ROW
log_slave_updates = ON
gtid_strict_mode = ON
read_only = $ro
event_scheduler = ON
log_error = /var/log/mysql/error.log
innodb_buffer_pool_size = 32M
innodb_log_file_size = 8M
performance_schema = OFF
# a cut-off primary shows within seconds instead of a minute
slave_net_timeout = 10
EOF
}

mdb_running() { in_host "$1" mariadb-admin ping >/dev/null 2>&1; }

start_mdb() {
  local h=$1 i
  mdb_running "$h" && return 0
  if [[ ! -d $LAB/$h/mysql/mysql ]]; then
    in_host "$h" mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
      --auth-root-authentication-method=socket >"$LAB/$h/log/mysql/install.log" 2>&1 \
      || die "$h: mariadb-install-db failed (see $LAB/$h/log/mysql/install.log)"
  fi
  in_host "$h" setsid -f bash -c 'exec /usr/sbin/mariadbd --user=mysql </dev/null >>/var/log/mysql/mariadbd.out 2>&1'
  for i in $(seq 1 600); do
    mdb_running "$h" && return 0
    sleep 0.1
  done
  die "$h: MariaDB did not start (see $LAB/$h/log/mysql/error.log)"
}

setup_mdb() {
  local i p1 p2
  if mdb_running mdb1 && mdb_running mdb2; then return 0; fi
  mdb_conf mdb1 1 OFF >"$LAB/mdb1/etc-mysql/mariadb.conf.d/60-lifeboat-lab.cnf"
  mdb_conf mdb2 2 ON >"$LAB/mdb2/etc-mysql/mariadb.conf.d/60-lifeboat-lab.cnf"
  start_mdb mdb1 & p1=$!
  start_mdb mdb2 & p2=$!
  wait $p1; wait $p2
  log "mdb: MariaDB started on mdb1 and mdb2"
  in_host mdb1 mariadb <<EOF
create user if not exists 'replicator'@'$NET.%' identified by '$REPL_PASSWORD';
grant replication slave on *.* to 'replicator'@'$NET.%';
create user if not exists 'drill'@'$NET.%' identified by '$DRILL_PASSWORD';
create database if not exists shop;
create table if not exists shop.orders (id bigint primary key auto_increment, payload varchar(200) not null,
  created_at timestamp(6) not null default current_timestamp(6));
use shop;
insert into shop.orders (payload) select concat('seed ', seq) from seq_1_to_100;
create database if not exists lifeboat;
create table if not exists lifeboat.heartbeat (id tinyint primary key, ts timestamp(6) not null);
create event if not exists lifeboat.heartbeat on schedule every 1 second
  do replace into lifeboat.heartbeat values (1, now(6));
grant select, insert, update, delete on shop.* to 'drill'@'$NET.%';
grant create, insert, select on lifeboat.* to 'drill'@'$NET.%';
EOF
  in_host mdb2 mariadb <<EOF
change master to master_host='$NET.13', master_user='replicator', master_password='$REPL_PASSWORD',
  master_use_gtid=slave_pos, master_heartbeat_period=1, master_connect_retry=1;
start replica;
EOF
  if ! in_host mdb1 ip -o addr show dev eth0 | grep -F " $MDB_VIP/" >/dev/null; then
    in_host mdb1 ip addr add "$MDB_VIP/24" dev eth0
    in_host mdb1 arping -q -U -c 1 -I eth0 "$MDB_VIP" || true
  fi
  # the replica has caught up with the seed rows
  for i in $(seq 1 300); do
    [[ $(in_host mdb2 mariadb -NBe 'select count(*) from shop.orders' 2>/dev/null) == 100 ]] && return 0
    sleep 0.1
  done
  die "mdb2: replication did not catch up (see $LAB/mdb2/log/mysql/error.log)"
}

make_share() {
  # a realistic share: nested folders, odd names, several owners and modes, links, xattrs
  in_host fs1 python3 - <<'EOF'
import os, random
random.seed(42)
root = '/srv/share'
os.makedirs(root, exist_ok=True)
os.chown(root, 0, 2100); os.chmod(root, 0o2775)
owners = [(2001, 2100), (2002, 2100), (2003, 2100), (0, 0)]
depts = ['Finance', 'HR', 'Sales', 'Projekte Übersicht', "Bob's stuff", 'scans 2024']
count = 0
for di, dept in enumerate(depts):
    for sub in range(3):
        d = os.path.join(root, dept, f'{2022 + sub}', 'Q%d' % (sub + 1))
        os.makedirs(d, exist_ok=True)
        for i in range(12):
            names = [f'report {i:02d}.txt', f'invoice_{i:03d}.csv', f'naïve café {i}.md',
                     f'"quoted" name {i}.txt', f'it\'s {i}.log', f'日本語-{i}.dat']
            name = names[(i + di) % len(names)]
            p = os.path.join(d, name)
            size = random.choice([0, 17, 512, 4096, 70000])
            with open(p, 'wb') as f:
                f.write(os.urandom(size))
            uid, gid = owners[(i + sub) % len(owners)]
            os.chown(p, uid, gid)
            os.chmod(p, random.choice([0o644, 0o640, 0o600, 0o664, 0o755]))
            os.utime(p, (1700000000 + count * 37, 1700000000 + count * 37))
            count += 1
        os.chown(d, 2001 + (di % 3), 2100)
home = os.path.join(root, 'home')
for user, uid in (('alice', 2001), ('bob', 2002), ('carol', 2003)):
    d = os.path.join(home, user, 'Documents')
    os.makedirs(d, exist_ok=True)
    for i in range(20):
        p = os.path.join(d, f'note {i}.txt')
        with open(p, 'w') as f:
            f.write(f'{user} note {i}\n' * (i + 1))
        os.chown(p, uid, uid); os.chmod(p, 0o600)
    for dd in (d, os.path.dirname(d)):
        os.chown(dd, uid, uid); os.chmod(dd, 0o700)
os.symlink('Finance/2022/Q1', os.path.join(root, 'latest finance'))
os.symlink('does-not-exist', os.path.join(root, 'dangling link'))
os.link(os.path.join(home, 'alice', 'Documents', 'note 1.txt'), os.path.join(root, 'HR', 'hardlinked note.txt'))
with open(os.path.join(root, 'README (read me).txt'), 'w') as f:
    f.write('Shared drive. Ask the office manager before deleting anything.\n')
os.setxattr(os.path.join(root, 'README (read me).txt'), 'user.origin', b'lab')
os.mkdir(os.path.join(root, 'empty folder'))
EOF
}

setup_fs() {
  in_host fs1 test -d /srv/share || make_share
  in_host fs2 mkdir -p /srv/share
  # the nightly sync job of the active file server (the lab has no cron daemon: it is the
  # file the failover runbook turns round)
  in_host fs1 bash -c "mkdir -p /srv/cron.d && printf '%s\n' '# lifeboat: nightly copy of the share to the standby file server' \
    '30 1 * * * root rsync -aHAX --numeric-ids --modify-window=-1 --delete -e ssh /srv/share/ $NET.22:/srv/share/' >/srv/cron.d/lifeboat-share-sync"
  # stand-in for smbd: something answering on the SMB port of every address
  start_listener fs1 smb 445 /srv
  start_listener fs2 smb 445 /srv
  if ! in_host fs1 ip -o addr show dev eth0 | grep -F " $FS_VIP/" >/dev/null; then
    in_host fs1 ip addr add "$FS_VIP/24" dev eth0
  fi
}

# Whether KVM boots the guest's kernel here. A writable /dev/kvm is not enough: under some
# nested hypervisors qemu starts, and the guest's kernel hangs before its first line (seen on
# a 2-core VM: stuck after SeaBIOS's "Probing EDD", at 100 % CPU, where TCG boots it in
# seconds). The kernel and initrd alone, no disk: KVM counts when the kernel hands over to
# the initrd within 20 s (well under a second where KVM works).
kvm_boots() {
  [[ -w /dev/kvm ]] || return 1
  local out pid i
  out=$(mktemp)
  qemu-system-x86_64 -accel kvm -m 256 -display none -no-reboot -nodefaults -serial "file:$out" \
    -kernel "$GUEST_DIR/vmlinuz" -initrd "$GUEST_DIR/initrd.gz" -append "console=ttyS0 panic=-1" \
    </dev/null >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 100); do
    grep -aq 'Run /init as init process' "$out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -aq 'Run /init as init process' "$out"; then
    rm -f "$out"
    return 0
  fi
  log "KVM does not boot the guest here (no kernel output within 20 s): the VM runs under TCG"
  rm -f "$out"
  return 1
}

# The backup of web1 on the backup host, as a nightly job leaves it: the disk image (the
# cached guest build, root's authorized_keys = the lab's), the kernel and initrd it boots
# with (direct kernel boot), their checksums, the libvirt domain XML naming where the
# restore puts them on the spare, and the guest's SSH host key as recorded at backup time.
make_vm_backup() {
  local d="$LAB/backup/srv/backups/vm" type=qemu
  [[ -f $d/$GUEST.qcow2 ]] && return 0
  mkdir -p "$d"
  "$HERE/guest/build.sh" --image "$GUEST_DIR" "$LAB/authorized_keys" "$d/$GUEST.qcow2"
  cp "$GUEST_DIR/vmlinuz" "$d/$GUEST.vmlinuz"
  cp "$GUEST_DIR/initrd.gz" "$d/$GUEST.initrd"
  cp "$GUEST_DIR/host_key.pub" "$d/$GUEST.host_key.pub"
  (cd "$d" && sha256sum "$GUEST.qcow2" "$GUEST.vmlinuz" "$GUEST.initrd" >"$GUEST.qcow2.sha256")
  # KVM where the machine has one that boots the guest, else qemu's TCG (domain type qemu):
  # the same guest either way
  if kvm_boots; then type=kvm; fi
  cat >"$d/$GUEST.xml" <<EOF
<domain type='$type'>
  <name>$GUEST</name>
  <uuid>6f1b2c64-9f0e-4a3b-9a57-3f8d8e0c1a01</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>/srv/vm/images/$GUEST.vmlinuz</kernel>
    <initrd>/srv/vm/images/$GUEST.initrd</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/vm/images/$GUEST.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:12:00:33'/>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
    <console type='pty'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# libvirt on the spare without systemd: virtlogd and libvirtd started inside the host, so
# their sockets are in its /run/libvirt (where virsh run through its sshd looks) and the
# guest's tap lands in its network namespace
start_hypervisor() {
  local i
  if in_host spare virsh -q version >/dev/null 2>&1; then return 0; fi
  in_host spare bash -c 'virtlogd -d && libvirtd -d'
  for i in $(seq 1 300); do
    in_host spare virsh -q version >/dev/null 2>&1 && { log "spare: libvirtd answers"; return 0; }
    sleep 0.1
  done
  die "spare: libvirtd does not answer (see $LAB/spare/log/libvirt/libvirtd.log)"
}

# the guest's domain and the daemons on the spare, before the host goes (qemu must not be
# left behind: it runs in the spare's PID namespace, which the kill of its init ends anyway)
stop_hypervisor() {
  local dom
  host_running spare || return 0
  in_host spare bash -c 'kill -0 $(cat /run/libvirtd.pid 2>/dev/null) 2>/dev/null' 2>/dev/null || return 0
  for dom in $(in_host spare timeout 10 virsh list --name 2>/dev/null); do
    in_host spare timeout 20 virsh destroy "$dom" >/dev/null 2>&1 || true
  done
  in_host spare bash -c 'kill $(cat /run/libvirtd.pid /run/virtlogd.pid 2>/dev/null) 2>/dev/null' || true
}

setup_vm() {
  make_vm_backup
  in_host spare mkdir -p /srv/vm/images
  start_hypervisor
}

# A small TCP service on all of a host's addresses (so it also answers on a VIP the host
# holds): python's http.server serving DIR on PORT, pid in /run/NAME.pid.
start_listener() {
  local h=$1 name=$2 port=$3 dir=$4 i
  if ! in_host "$h" bash -c "kill -0 \$(cat /run/$name.pid 2>/dev/null) 2>/dev/null"; then
    in_host "$h" setsid -f bash -c "echo \$\$ >/run/$name.pid; cd $dir && exec python3 -m http.server $port --bind 0.0.0.0 >/var/log/$name.log 2>&1 </dev/null"
  fi
  for i in $(seq 1 100); do
    in_host "$h" bash -c "exec 3<>/dev/tcp/$NET.${OCTET[$h]}/$port" 2>/dev/null && return 0
    sleep 0.05
  done
  die "$h: $name does not listen on port $port"
}

setup_proxy() {
  local h
  for h in proxy1 proxy2; do
    in_host $h mkdir -p /srv/www
    in_host $h bash -c "echo $h >/srv/www/index.html"
    # a tiny HTTP front end that says which proxy answered
    start_listener $h http 80 /srv/www
  done
  if ! in_host proxy1 ip -o addr show dev eth0 | grep -F " $PROXY_VIP/" >/dev/null; then
    in_host proxy1 ip addr add "$PROXY_VIP/24" dev eth0
  fi
}

# --- commands -------------------------------------------------------------------------

cmd_up() {
  parse_roles "$@"
  local t0 hosts h pids=() r
  t0=$EPOCHREALTIME
  mapfile -t hosts < <(hosts_for_roles "$ROLES")
  log "up: ${hosts[*]} in $LAB"
  if [[ ,$ROLES, == *,vm,* ]]; then
    command -v libvirtd >/dev/null && command -v virsh >/dev/null && command -v qemu-system-x86_64 >/dev/null \
      || die "the vm role needs libvirt and qemu: apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86"
    # built once (about half a minute), then taken from the cache
    GUEST_DIR=$("$HERE/guest/build.sh" "$GUEST_CACHE")
  fi
  init_lab_dir
  if [[ -n ${GUEST_DIR:-} && ! -s $LAB/$GUEST.host_key.pub ]]; then
    cp "$GUEST_DIR/host_key.pub" "$LAB/$GUEST.host_key.pub"
    write_known_hosts
  fi
  ensure_switch
  for h in "${hosts[@]}"; do ensure_host_net "$h"; done
  for h in "${hosts[@]}"; do start_host "$h"; done
  log "hosts started"
  for h in "${hosts[@]}"; do wait_ssh "$h" & pids+=($!); done
  for r in "${pids[@]}"; do wait "$r"; done
  log "sshd answers on every host"
  pids=()
  # role services in parallel; db2 needs db1 first
  # (set -e stays in force inside each background subshell: no `||` around them)
  local names=()
  if [[ ,$ROLES, == *,db,* ]]; then (setup_db1; setup_db2) & pids+=($!); names+=(db); fi
  if [[ ,$ROLES, == *,mdb,* ]]; then setup_mdb & pids+=($!); names+=(mdb); fi
  if [[ ,$ROLES, == *,fs,* ]]; then setup_fs & pids+=($!); names+=(fs); fi
  if [[ ,$ROLES, == *,vm,* ]]; then setup_vm & pids+=($!); names+=(vm); fi
  if [[ ,$ROLES, == *,proxy,* ]]; then setup_proxy & pids+=($!); names+=(proxy); fi
  local failed=() i
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
  [[ ${#failed[@]} -eq 0 ]] || die "role(s) failed to start: ${failed[*]} (messages above)"
  # remember what is up, for status and for tests
  { cat "$LAB/up" 2>/dev/null || true; printf '%s\n' "${hosts[@]}"; } | sort -u >"$LAB/up.new"
  mv "$LAB/up.new" "$LAB/up"
  log "up in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')s"
}

cmd_down() {
  local ns p h pids=() i alive
  # (a subshell: a host vanishing meanwhile must not end the teardown)
  if [[ -d $LAB ]]; then (stop_hypervisor) || true; fi
  # every process in a lab namespace, whatever state a half-done up left
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^lb-' || true); do
    pids+=($(ip netns pids "$ns" 2>/dev/null || true))
  done
  if [[ -d $LAB ]]; then
    for h in "${ALL_HOSTS[@]}"; do
      for p in "$LAB/$h/init.pid" "$LAB/$h/unshare.pid"; do
        [[ -f $p ]] && pids+=("$(<"$p")")
      done
    done
  fi
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  # processes must be gone before the namespaces and files go (pid list, not a rescan:
  # scanning /proc per namespace is slow on a busy machine)
  for i in $(seq 1 200); do
    alive=0
    for p in "${pids[@]}"; do [[ -d /proc/$p ]] && { alive=1; break; }; done
    [[ $alive -eq 0 ]] && break
    sleep 0.05
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^lb-' || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  ip link del lb-op 2>/dev/null || true
  if mountpoint -q "$LAB" 2>/dev/null; then
    umount "$LAB" 2>/dev/null || umount -l "$LAB"
  fi
  rm -rf "$LAB"
  log "down"
}

cmd_status() {
  local h pid addrs
  [[ -d $LAB ]] || { echo "lab: down ($LAB absent)"; return 0; }
  echo "lab: $LAB"
  for h in "${ALL_HOSTS[@]}"; do
    if pid=$(init_pid "$h" 2>/dev/null); then
      addrs=$(ip -n "lb-$h" -o -4 addr show scope global 2>/dev/null | awk '{print $4}' | paste -sd' ' -)
      local link sshd
      link=$(ip -n "$SWITCH" -o link show "p-$h" 2>/dev/null | grep 'state UP\|,UP' >/dev/null && echo up || echo down)
      sshd=$(in_host "$h" bash -c 'kill -0 $(cat /run/sshd.pid 2>/dev/null) 2>/dev/null && echo up || echo down' 2>/dev/null)
      printf '%-7s %-6s init=%-7s link=%-4s sshd=%-4s %s\n' "$h" "${ROLE[$h]}" "$pid" "$link" "$sshd" "$addrs"
    fi
  done
}

cmd_exec() {
  [[ $# -ge 2 ]] || die "usage: lab.sh exec HOST CMD..."
  local h=$1; shift
  check_host "$h"
  if [[ $# -eq 1 ]]; then in_host "$h" bash -c "$1"; else in_host "$h" "$@"; fi
}

main() {
  local cmd=${1:-}; shift || true
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    exec) cmd_exec "$@" ;;
    hosts) parse_roles "$@"; hosts_for_roles "$ROLES" ;;
    link-down) check_host "$1"; ip -n "$SWITCH" link set "p-$1" down ;;
    link-up) check_host "$1"; ip -n "$SWITCH" link set "p-$1" up ;;
    kill-sshd)
      check_host "$1"
      # the pid file holds the pid inside the host's PID namespace: signal from inside
      in_host "$1" bash -c 'kill -KILL "$(cat /run/sshd.pid)" && rm -f /run/sshd.pid' ;;
    start-sshd) check_host "$1"; in_host "$1" /usr/sbin/sshd -E /var/log/sshd.log; wait_listen "$1" ;;
    rekey)
      check_host "$1"
      rm -f "$LAB/$1/etc-ssh/ssh_host_ed25519_key"{,.pub}
      ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$LAB/$1/etc-ssh/ssh_host_ed25519_key"
      # sshd re-executes itself on SIGHUP and loads the new key
      in_host "$1" bash -c 'kill -HUP "$(cat /run/sshd.pid)"'
      wait_listen "$1" ;;
    __init) host_init "$1" ;;
    ""|-h|--help|help) sed -n '2,16p' "$SELF" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command: $cmd" ;;
  esac
}

main "$@"
