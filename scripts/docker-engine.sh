#!/usr/bin/env bash
# Makes sure a Docker engine answers. As root on Debian it installs docker.io and
# starts dockerd when none runs; anywhere else it says what is missing and stops.
set -euo pipefail
log() { printf 'docker-engine: %s\n' "$*" >&2; }

# molecule/aws reaches its hosts over SSH.
if ! command -v ssh-keygen >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing the SSH client"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >/dev/null
fi

docker info >/dev/null 2>&1 && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  log "no Docker engine answers, and this is not root on Debian, so it cannot be installed here."
  log "Install and start Docker (https://docs.docker.com/engine/install/), then run this again."
  exit 1
fi

if ! command -v dockerd >/dev/null; then
  log "installing Debian's docker.io"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null

if ! pgrep -x dockerd >/dev/null; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { log "engine is up"; exit 0; }
  sleep 1
done
log "dockerd did not answer within 60 s; see /var/log/dockerd.log"
exit 1
