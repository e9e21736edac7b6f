#!/usr/bin/env bash
# Prepares a Docker engine for the image and container tests, on a machine that can pull no image:
#   check   exit 0 when an engine answers or this user can start one, else say why (no side effects)
#   engine  install docker.io if missing and start dockerd (no bridge) unless an engine answers
#   base    build a local stand-in for node:20-bookworm-slim (debootstrap + this machine's Node.js)
#   stop    stop the dockerd whose pid follows (one this script started)
# Prints KEY=VALUE lines on stdout (DOCKER_HOST; DOCKERD_PID when the daemon is this fixture's, to
# be stopped after the tests; STORAGE_DRIVER; BASE_IMAGE); on failure exits 1 with one line on
# stderr saying why. Usable by hand:
#   bash __tests__/e2e/docker/prepare-engine.sh engine base
set -euo pipefail
shopt -s inherit_errexit

STATE_DIR="${ACGS_DOCKER_STATE_DIR:-/var/lib/acgs-docker}" # data-root: kept, it caches the base and layers
RUN_DIR="${ACGS_DOCKER_RUN_DIR:-/run/acgs-docker}"         # exec-root, socket, pid file (short paths)
SOCKET="unix://$RUN_DIR/docker.sock"
BASE_IMAGE="node:20-bookworm-slim"
NODE_MAJOR="20"

fail() {
  echo "$*" >&2
  exit 1
}

can_be_root() {
  [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }
}

as_root() {
  can_be_root || fail "not root and no passwordless sudo: cannot run $1"
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

answers() {
  DOCKER_HOST="$1" docker info >/dev/null 2>&1
}

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || fail "no apt-get to install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed (needed to install ${missing[*]})"
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || fail "apt-get install ${missing[*]} failed"
}

check() {
  local candidate
  if command -v docker >/dev/null; then
    for candidate in ${DOCKER_HOST:-} "$SOCKET" unix:///var/run/docker.sock; do
      answers "$candidate" && return 0
    done
  fi
  can_be_root || fail "no Docker engine answers and this user cannot start one (not root, no passwordless sudo)"
  command -v dockerd >/dev/null || command -v apt-get >/dev/null \
    || fail "no Docker engine answers, dockerd is not installed and there is no apt-get to install docker.io"
}

# Starts dockerd with one storage driver; prints DOCKERD_PID, or fails with the log's last line.
start_dockerd() {
  local driver="$1" log="$STATE_DIR/dockerd.log"
  as_root mkdir -p "$STATE_DIR" "$RUN_DIR"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  # Not through the as_root function: bash would hand the daemon its saved copy of our stdout,
  # and whoever reads this script's output would wait for the daemon to exit.
  # No bridge, no iptables: containers run with --network host here; builds too.
  "${sudo[@]}" setsid dockerd \
    --storage-driver="$driver" \
    --data-root="$STATE_DIR/data" \
    --exec-root="$RUN_DIR/exec" \
    --pidfile="$RUN_DIR/dockerd.pid" \
    --host="$SOCKET" \
    --bridge=none --iptables=false \
    >>"$log" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 120); do
    if answers "$SOCKET"; then
      echo "DOCKERD_PID=$(cat "$RUN_DIR/dockerd.pid" 2>/dev/null || echo "$pid")"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "dockerd --storage-driver=$driver exited at start: $(grep -v '^\s*$' "$log" | tail -n 1)"
    sleep 0.25
  done
  kill "$pid" 2>/dev/null || true
  fail "dockerd did not answer within 30 s (log: $log): $(tail -n 1 "$log")"
}

# The first engine that answers: DOCKER_HOST, this fixture's own daemon, the default socket; else
# one started here. overlay2 first: on this kind of machine a service image builds in ~4 s where vfs
# (a full copy of the file system per layer and per intermediate container) takes ~5 min.
engine() {
  command -v docker >/dev/null && command -v dockerd >/dev/null || install_packages docker.io
  local candidate
  for candidate in ${DOCKER_HOST:-} "$SOCKET" unix:///var/run/docker.sock; do
    if answers "$candidate"; then
      echo "DOCKER_HOST=$candidate"
      echo "STORAGE_DRIVER=$(DOCKER_HOST="$candidate" docker info -f '{{.Driver}}')"
      # This fixture's daemon, left by an earlier run: the caller stops it like one it started.
      [ "$candidate" = "$SOCKET" ] && [ -f "$RUN_DIR/dockerd.pid" ] && echo "DOCKERD_PID=$(cat "$RUN_DIR/dockerd.pid")"
      return 0
    fi
  done
  can_be_root || fail "no Docker engine answers and this user cannot start one (not root, no passwordless sudo)"
  local driver started reasons=()
  for driver in ${ACGS_DOCKER_STORAGE_DRIVER:-overlay2 vfs}; do
    if started="$(start_dockerd "$driver" 2>&1)"; then
      echo "DOCKER_HOST=$SOCKET"
      echo "$started"
      echo "STORAGE_DRIVER=$driver"
      return 0
    fi
    reasons+=("$started")
  done
  fail "$(IFS=';'; echo "${reasons[*]}")"
}

# node:20-bookworm-slim as the official image lays it out: Debian bookworm, node/npm/corepack under
# /usr/local, user node (1000:1000, home /home/node). The machine's CA bundle and
# NODE_EXTRA_CA_CERTS let `npm ci` inside a build reach the registry through this network.
base() {
  : "${DOCKER_HOST:?run the engine step first or set DOCKER_HOST}"
  export DOCKER_HOST
  local node_bin node_version npm_dir
  node_bin="$(readlink -f "$(command -v node)")" || fail "no node on this machine to copy into $BASE_IMAGE"
  node_version="$("$node_bin" --version)"
  [[ "$node_version" == "v$NODE_MAJOR".* ]] || fail "this machine's Node.js is $node_version; $BASE_IMAGE needs v$NODE_MAJOR"
  npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
  [ -f "$npm_dir/package.json" ] || fail "npm's package directory not found (looked in $npm_dir)"
  local stamp="acgs stand-in for $BASE_IMAGE: debian bookworm minbase, node $node_version" present
  present="$(docker image inspect -f 'present {{.Comment}}' "$BASE_IMAGE" 2>/dev/null || true)"
  # Made here for this Node.js, or the real image (pulled on a machine that can): use it as it is.
  if [ "$present" = "present $stamp" ] || { [ -n "$present" ] && [[ "$present" != "present acgs stand-in"* ]]; }; then
    echo "BASE_IMAGE=$BASE_IMAGE"
    return 0
  fi
  install_packages debootstrap
  local root
  root="$(mktemp -d /var/tmp/acgs-base-XXXXXX)"
  trap "as_root rm -rf '$root' '$root.log'" EXIT
  as_root debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root.log" 2>&1 \
    || fail "debootstrap failed: $(tail -n 1 "$root.log")"
  # What debian:bookworm-slim leaves out.
  as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
  as_root install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
  as_root mkdir -p "$root/usr/local/lib/node_modules"
  as_root cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  as_root ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  as_root ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  if [ -d "$(dirname "$npm_dir")/corepack" ]; then
    as_root cp -a "$(dirname "$npm_dir")/corepack" "$root/usr/local/lib/node_modules/corepack"
    as_root ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
  fi
  as_root chroot "$root" groupadd --gid 1000 node
  as_root chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  local changes=(--change 'CMD ["node"]' --change "ENV NODE_VERSION=${node_version#v}")
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    as_root install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    changes+=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
  fi
  as_root chmod 0755 "$root" # mktemp made it 0700: it becomes the image's /
  as_root tar --numeric-owner -C "$root" -c . | docker import --message "$stamp" "${changes[@]}" - "$BASE_IMAGE" >/dev/null \
    || fail "docker import of the $BASE_IMAGE stand-in failed"
  echo "BASE_IMAGE=$BASE_IMAGE"
}

# SIGTERM lets dockerd stop its containers and containerd; the data-root stays for the next run.
stop() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || fail "process $pid is not a dockerd; not stopping it"
  as_root kill -TERM "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  fail "dockerd $pid did not stop within 30 s"
}

[ $# -gt 0 ] || set -- engine base
while [ $# -gt 0 ]; do
  case "$1" in
    engine)
      out="$(engine)"
      echo "$out"
      # The base step of this same call uses the engine just found.
      DOCKER_HOST="$(sed -n 's/^DOCKER_HOST=//p' <<<"$out")"
      ;;
    check) check ;;
    base) base ;;
    stop)
      [ $# -ge 2 ] || fail "stop needs the dockerd's pid"
      stop "$2"
      shift
      ;;
    *) fail "unknown step \"$1\" (check, engine, base, stop PID)" ;;
  esac
  shift
done
