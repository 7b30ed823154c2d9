#!/usr/bin/env bash
# Makes every service image available: the official image when the registry answers,
# otherwise a build made here. Writes the image choice for Ansible.
#
#   scripts/images.sh [OUTPUT_VARS_FILE]
#
# Prometheus, Alertmanager, node-exporter and Thanos are built from their Go modules at the versions the
# role defaults name, and tagged with the official names, so the defaults run unchanged. Consul
# comes from Debian (1.8.7; later releases are not open source) under a name of its own.
# A build is skipped when an image with the same build-input hash already exists; a failed build
# leaves the previous image in place. Go's module and build caches (go env GOMODCACHE GOCACHE)
# stay on the machine between runs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
images_dir="$root/images"
vars_file=${1:-"$root/.state/images.yml"}
base_tag=${MASA_BASE_IMAGE:-masa/debian-base:bookworm}
pull_timeout=${MASA_PULL_TIMEOUT:-30}
hash_label=io.masa.build-hash

log() { printf 'images: %s\n' "$*" >&2; }

# role variable | official image | local image (the official name when built from Go) | build directory
# | the setting written when the image can be neither pulled nor built
catalogue() {
  cat <<'EOF'
docker_host_sandbox_image busybox:1.37 masa/debian-base:bookworm base -
consul_image hashicorp/consul:1.21 masa/consul:1.8.7 consul -
prometheus_image prom/prometheus:v3.5.0 prom/prometheus:v3.5.0 prometheus -
alertmanager_image prom/alertmanager:v0.28.1 prom/alertmanager:v0.28.1 alertmanager -
node_exporter_image prom/node-exporter:v1.9.1 prom/node-exporter:v1.9.1 node-exporter -
thanos_image quay.io/thanos/thanos:v0.42.5 quay.io/thanos/thanos:v0.42.5 thanos -
oracle_node_image - masa/oracle-node:latest sdk -
oracle_node_masa_image masaengineering/oracle:v0.8.9 - - oracle_node_kind:simulated
grafana_image grafana/grafana-oss:12.1.0 - - grafana_enabled:false
EOF
}

image_label() {
  docker image inspect -f "{{ index .Config.Labels \"$hash_label\" }}" "$1" 2>/dev/null || true
}

# The hash of a build's inputs: its folder, the base image, and for Go builds Go and the build script.
inputs_hash() {
  local dir=$1
  {
    (cd "$dir" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info*' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum)
    [ ! -f "$dir/go-build.env" ] || { go version; cat "$root/scripts/go-build.sh" "$root/scripts/_step.sh" | sha256sum; }
    docker image inspect -f '{{ .Id }}' "$base_tag"
  } | sha256sum | cut -c1-16
}

# shellcheck source=scripts/_step.sh
. "$root/scripts/_step.sh"

# One build step of a component; on failure names the component, the command and the error, and
# stops before any image is tagged.
build_step() {
  local component=$1
  shift
  step "$@" && return
  log "building $component failed: $*"
  log "the previous $component image, if any, is left in place"
  exit 1
}

# Compiles a Go image's binaries (scripts/go-build.sh) with the prometheus/common version
# variables that --version and *_build_info report, as upstream's promu does, and gathers them
# with the module files the Dockerfile copies.
go_build() {
  local dir=$1 context=$2 module module_dir module_time file
  # A release that needs a newer Go than the machine's names the toolchain the Go command fetches for it.
  local GO_TOOLCHAIN=local
  # shellcheck source=/dev/null
  . "$images_dir/$dir/go-build.env"
  local -x GOTOOLCHAIN=$GO_TOOLCHAIN
  module=$(build_step "$dir" "$root/scripts/go-build.sh" --info "$GO_MODULE@$GO_MODULE_VERSION")
  module_dir=$(head -1 <<<"$module")
  # The release time, not the build's: a reproducible BuildDate.
  module_time=$(tail -1 <<<"$module")
  local version=github.com/prometheus/common/version
  rm -rf "$context"
  GO_TAGS=$GO_TAGS GO_LDFLAGS="-s -w -X $version.Version=$VERSION -X $version.Branch=HEAD
    -X $version.Revision=$GO_MODULE_VERSION -X $version.BuildUser=masa.monitoring@images.sh
    -X $version.BuildDate=$(date -u -d "$module_time" +%Y%m%d-%H:%M:%S)" \
    build_step "$dir" "$root/scripts/go-build.sh" "$GO_MODULE@$GO_MODULE_VERSION" "$context" $GO_BINARIES
  for file in $MODULE_FILES; do
    build_step "$dir" cp "$module_dir/$file" "$context/"
  done
}

build_base() {
  local want
  want=$(sha256sum "$images_dir/base/packages.txt" | cut -c1-16)
  if [ "$(image_label "$base_tag")" = "$want" ]; then
    log "$base_tag is up to date"
    return
  fi
  command -v debootstrap >/dev/null || {
    log "debootstrap is missing: run 'apt-get install -y debootstrap' as root"
    exit 1
  }
  local rootfs
  rootfs=$(mktemp -d /tmp/masa-rootfs.XXXXXX)
  log "bootstrapping Debian bookworm into $rootfs (about a minute)"
  debootstrap --variant=minbase --include="$(paste -sd, "$images_dir/base/packages.txt")" \
    bookworm "$rootfs" http://deb.debian.org/debian >/tmp/masa-debootstrap.log 2>&1 || {
    log "debootstrap failed; see /tmp/masa-debootstrap.log"
    exit 1
  }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change "LABEL $hash_label=$want" --change 'CMD ["/bin/bash"]' - "$base_tag" >/dev/null
  rm -rf "$rootfs"
  log "built $base_tag"
}

build_service() {
  local tag=$1 dir=$2 context want dockerfile
  context="$images_dir/$dir"
  # The SDK's image has its Dockerfile in the SDK, which the collection ships to build on hosts.
  [ "$dir" = sdk ] && context="$root/sdk"
  dockerfile="$context/Dockerfile"
  want=$(inputs_hash "$context")-$(sha256sum "$dockerfile" | cut -c1-8)
  if [ "$(image_label "$tag")" = "$want" ]; then
    log "$tag is up to date"
    return
  fi
  if [ -f "$images_dir/$dir/go-build.env" ]; then
    context="$root/.build/images/$dir"
    go_build "$dir" "$context"
  fi
  log "building $tag"
  build_step "$dir" docker build -q --build-arg "BASE_IMAGE=$base_tag" --label "$hash_label=$want" \
    -f "$dockerfile" -t "$tag" "$context" >/dev/null
}

pull() {
  [ "$1" != - ] && [ "${MASA_OFFLINE:-0}" != 1 ] && timeout "$pull_timeout" docker pull -q "$1" >/dev/null 2>&1
}

main() {
  docker info >/dev/null 2>&1 || { log "no Docker engine answers: run scripts/docker-engine.sh"; exit 1; }
  mkdir -p "$(dirname "$vars_file")"
  local out base_ready=0
  out=$(mktemp)
  printf '%s\n' "---" "# Written by scripts/images.sh: which image each role runs on this machine." >"$out"
  while read -r var official local_tag dir fallback; do
    # An image under the official name that carries our build label is ours, not the official one.
    if { docker image inspect "$official" >/dev/null 2>&1 && [ -z "$(image_label "$official")" ]; } \
      || pull "$official"; then
      log "using official $official"
      printf '%s: %s\n' "$var" "$official" >>"$out"
    elif [ "$local_tag" != - ]; then
      [ $base_ready = 1 ] || { build_base; base_ready=1; }
      [ "$dir" = base ] || build_service "$local_tag" "$dir"
      printf '%s: %s\n' "$var" "$local_tag" >>"$out"
      # Built here already: the oracle_node role need not build it again on this engine.
      [ "$dir" != sdk ] || printf '%s\n' "oracle_node_image_build: false" >>"$out"
    else
      log "$official is not available and cannot be built here: ${fallback/:/ is }"
      printf '%s: %s\n' "${fallback%%:*}" "${fallback#*:}" >>"$out"
    fi
  done < <(catalogue)
  mv "$out" "$vars_file"
  chmod 0644 "$vars_file"
  log "image choice written to $vars_file"
}

main "$@"
