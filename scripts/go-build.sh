#!/usr/bin/env bash
# Builds the named binaries of one Go module release, with the dependency versions it was released
# with.
#
#   scripts/go-build.sh MODULE@VERSION OUTPUT_DIR NAME=PACKAGE [NAME=PACKAGE ...]
#   environment: GO_TAGS (build tags), GO_LDFLAGS (linker flags)
#   scripts/go-build.sh --info MODULE@VERSION   prints the module's folder and release time
#
# `go install module@version` refuses a module whose go.mod has replace or exclude lines
# (Prometheus, Thanos, OpenTofu), and would ignore them if it did not. So the build runs inside a
# writable copy of the downloaded module, with the module's own go.mod and go.sum, CGO off and
# GOWORK off, as upstream's release builds do. Go's module and build caches stay where `go env`
# says, so a second build on the same machine is quick.
# On failure it names the module, the command and the error, and writes nothing to OUTPUT_DIR.
set -euo pipefail

# shellcheck source=scripts/_step.sh
. "$(dirname "$0")/_step.sh"
log() { printf 'go-build: %s\n' "$*" >&2; }
run() { step "$@" || { log "$module: '$*' failed"; exit 1; }; }

# The downloaded module's folder and release time (from the proxy's .info file), or its download error.
module_info() {
  go mod download -json "$module" | python3 -c '
import json, sys
module = json.load(sys.stdin)
if "Error" in module:
    sys.exit(module["Error"])
print(module["Dir"])
print(json.load(open(module["Info"]))["Time"])' || { log "$module: 'go mod download -json $module' failed"; exit 1; }
}

usage="usage: $0 MODULE@VERSION OUTPUT_DIR NAME=PACKAGE... | $0 --info MODULE@VERSION"
[ $# -ge 2 ] || { log "$usage"; exit 2; }
command -v go >/dev/null || { log "$1: Go is not on PATH (1.23 or later is needed; see README.md)"; exit 1; }
if [ "$1" = --info ]; then
  module=$2
  module_info
  exit
fi
[ $# -ge 3 ] || { log "$usage"; exit 2; }
module=$1 output=$2
shift 2

module_dir=$(module_info)
module_dir=${module_dir%%$'\n'*}
work=$(mktemp -d /tmp/masa-go-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
run cp -r "$module_dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$work/bin"
cd "$work/src"
for binary in "$@"; do
  log "compiling ${binary%%=*} from $module"
  run env CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly \
    go build -trimpath -tags "${GO_TAGS:-}" -ldflags "${GO_LDFLAGS:-}" -o "$work/bin/${binary%%=*}" "${binary#*=}"
done
mkdir -p "$output"
mv "$work"/bin/* "$output/"
