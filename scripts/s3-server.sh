#!/usr/bin/env bash
# A one-node Ceph RGW S3 server on 127.0.0.1, for tests and CI.
#
#   scripts/s3-server.sh start    install (if missing), create (if missing), boot;
#                                 prints eval-able QUIRE_S3_* lines
#   scripts/s3-server.sh stop     stop the daemons (data is kept)
#   scripts/s3-server.sh status   say whether the endpoint answers
#
# State lives in $QUIRE_CEPH_DIR (default /tmp/quire-ceph); delete it for a
# fresh cluster. Daemons run directly (no systemd) with their own pid files.
# Why RGW: it honours If-None-Match: * atomically, which the npm S3 fakes do
# not (see "S3 servers on these machines" in DESIGN.md).
# Progress goes to stderr so that `eval "$(scripts/s3-server.sh start)"` works.
set -euo pipefail

STATE=${QUIRE_CEPH_DIR:-/tmp/quire-ceph}
CONF=$STATE/ceph.conf
PORT=7480
ENDPOINT=http://127.0.0.1:$PORT
S3_UID=quire
BOOT_TIMEOUT=90

log() { echo "s3-server: $*" >&2; }
die() { log "error: $*"; exit 1; }
ceph_() { ceph -c "$CONF" --connect-timeout 10 "$@"; }

# --- install ---------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed'; }

install_packages() {
  local missing=() p
  for p in radosgw ceph-mon ceph-osd; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} (apt-get)"
  [ "$(id -u)" -eq 0 ] || die "installing packages needs root"
  export DEBIAN_FRONTEND=noninteractive
  # Only refresh the package lists when apt does not know the packages yet.
  apt-cache policy radosgw | grep -q 'Candidate: [0-9]' || apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# --- cluster creation ------------------------------------------------------

write_conf() {
  cat >"$CONF" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
# One monitor, on loopback only; msgr v2 and v1 both, as clients default to either.
mon initial members = a
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public addr = 127.0.0.1
ms bind ipv6 = false
# cephx: with "auth ... = none" radosgw did not connect to the cluster.
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
# Everything (keys, data, sockets, pids, logs) stays under the state dir.
keyring = $STATE/keys/\$name.keyring
run dir = $STATE/run
pid file = $STATE/run/\$name.pid
admin socket = $STATE/run/\$name.asok
log file = $STATE/log/\$name.log
mon data = $STATE/data/\$name
osd data = $STATE/data/\$name
# A single OSD: pools keep one copy, and CRUSH picks OSDs, not hosts (0 = osd),
# otherwise PGs wait forever for a second host. Must be set before mon mkfs,
# which writes the default CRUSH rule.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
# Few PGs per pool: RGW makes 6-8 pools, and at the default 32 PGs each the
# one OSD would pass its 250-PG limit (mon max pg per osd); fewer also peer faster.
osd pool default pg num = 8
osd pool default pgp num = 8
# Bluestore on a sparse 4 GiB file in the OSD's dir; no raw device needed.
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 4294967296
# A nearly full test disk must not stop the cluster.
mon data avail warn = 2
mon data avail crit = 1

[client.rgw.a]
# tcp_nodelay: without it a small GET took 48 ms (Nagle + delayed ACK).
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw data = $STATE/data/\$name
EOF
}

create_mon() {
  local k=$STATE/keys
  ceph-authtool --create-keyring "$k/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *'
  ceph-authtool --create-keyring "$k/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *'
  ceph-authtool "$k/mon.a.keyring" --import-keyring "$k/client.admin.keyring"
  monmaptool --create --fsid "$(awk '/^fsid/ {print $3}' "$CONF")" \
    --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' "$STATE/monmap"
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE/monmap" --keyring "$k/mon.a.keyring"
}

create_osd() {
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph_ osd new "$uuid")
  [ "$id" = 0 ] || die "expected osd id 0, got '$id'"
  mkdir -p "$STATE/data/osd.0"
  ceph-osd -c "$CONF" --no-mon-config -i 0 --mkfs --mkkey --osd-uuid "$uuid" 2>>"$STATE/log/osd.0.mkfs.log"
  ceph_ auth add osd.0 osd 'allow *' mon 'allow profile osd' -i "$STATE/keys/osd.0.keyring" >/dev/null
}

create_rgw_key() {
  mkdir -p "$STATE/data/client.rgw.a"
  ceph_ auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' \
    -o "$STATE/keys/client.rgw.a.keyring"
}

# Creation is all or nothing: the marker is written last, and a directory
# without it (an interrupted first start) is wiped and made again. A non-empty
# directory that is not ours is left alone.
create_cluster() {
  [ -f "$STATE/created" ] && return
  if [ -f "$CONF" ]; then
    log "removing incomplete cluster in $STATE"
    stop_all
    rm -rf "$STATE"
  elif [ -n "$(ls -A "$STATE" 2>/dev/null)" ]; then
    die "$STATE exists and holds no Quire cluster; set QUIRE_CEPH_DIR elsewhere"
  fi
  log "creating cluster in $STATE"
  mkdir -p "$STATE"/{keys,run,log,data}
  write_conf
  create_mon
  start_mon
  wait_for_mon
  create_osd
  create_rgw_key
  touch "$STATE/created"
}

# --- daemons ---------------------------------------------------------------

pid_of() { cat "$STATE/run/$1.pid" 2>/dev/null || true; }
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# Each daemon forks into the background itself and writes its pid file.
start_daemon() {
  local name=$1; shift
  running "$name" && return
  "$@" || die "$name did not start (exit $?); see $STATE/log/$name.log"
}
start_mon() { start_daemon mon.a ceph-mon -c "$CONF" -i a; }
start_osd() { start_daemon osd.0 ceph-osd -c "$CONF" -i 0; }
start_rgw() { start_daemon client.rgw.a radosgw -c "$CONF" -n client.rgw.a; }

wait_for_mon() {
  local i
  for i in $(seq 1 30); do
    ceph_ mon stat >/dev/null 2>&1 && return
    sleep 1
  done
  die "monitor did not answer in 30 s; see $STATE/log/mon.a.log"
}

answers() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/")" != 000 ]; }

wait_for_rgw() {
  local start=$SECONDS
  until answers; do
    [ $((SECONDS - start)) -lt $BOOT_TIMEOUT ] ||
      die "no answer from $ENDPOINT after ${BOOT_TIMEOUT} s; see $STATE/log/ (client.rgw.a.log, osd.0.log); daemons left running, \"$0 stop\" stops them"
    running client.rgw.a || die "radosgw exited; see $STATE/log/client.rgw.a.log"
    sleep 1
  done
}

stop_daemon() {
  local name=$1 pid i
  pid=$(pid_of "$name")
  running "$name" || return 0
  kill "$pid"
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  log "$name did not stop in 10 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

stop_all() {
  stop_daemon client.rgw.a
  stop_daemon osd.0
  stop_daemon mon.a
}

# --- S3 user ---------------------------------------------------------------

# (head first, then tr to EOF: "tr </dev/urandom | head" dies of SIGPIPE under pipefail)
random_key() { local s; s=$(head -c 4096 /dev/urandom | tr -dc "$1"); echo "${s:0:$2}"; }

# The user is made once; its keys are kept in the state dir.
ensure_user() {
  local creds=$STATE/s3-credentials access secret
  [ -f "$creds" ] && return
  access=$(random_key 'A-Z0-9' 20)
  secret=$(random_key 'A-Za-z0-9' 40)
  radosgw-admin -c "$CONF" user create --uid="$S3_UID" --display-name="Quire tests" \
    --access-key="$access" --secret-key="$secret" >/dev/null 2>>"$STATE/log/radosgw-admin.log" ||
    # The user exists (credentials file lost): give it these keys as well.
    radosgw-admin -c "$CONF" key create --uid="$S3_UID" --key-type=s3 \
      --access-key="$access" --secret-key="$secret" >/dev/null 2>>"$STATE/log/radosgw-admin.log" ||
    die "could not create the S3 user; see $STATE/log/radosgw-admin.log"
  printf 'QUIRE_S3_ACCESS_KEY=%s\nQUIRE_S3_SECRET_KEY=%s\n' "$access" "$secret" >"$creds.tmp"
  mv "$creds.tmp" "$creds"
}

print_env() {
  echo "QUIRE_S3_ENDPOINT=$ENDPOINT"
  cat "$STATE/s3-credentials"
}

# --- commands --------------------------------------------------------------

boot() {
  install_packages
  create_cluster
  log "starting mon, osd, rgw"
  start_mon
  wait_for_mon
  start_osd
  start_rgw
  wait_for_rgw
  ensure_user
}

cmd_start() {
  if [ -f "$STATE/s3-credentials" ] && answers; then print_env; return; fi
  boot >&2  # only the QUIRE_S3_* lines go to stdout
  print_env
}

cmd_stop() {
  stop_all
  log "stopped"
}

cmd_status() {
  if answers; then echo "running: $ENDPOINT answers (state in $STATE)"
  else echo "not running: $ENDPOINT does not answer"; return 1; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
