#!/usr/bin/env bash
# Prints the Terraform-compatible command line to use: terraform when installed, else OpenTofu's
# tofu (MPL-2.0), built once from its Go module into a cache on this machine when not installed.
# Says on stderr which one it chose.
set -euo pipefail

tofu_module=github.com/opentofu/opentofu
tofu_version=v1.10.10
cache=${MASA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/masa-monitoring/bin}
log() { printf 'terraform-cli: %s\n' "$*" >&2; }

if command -v terraform >/dev/null; then
  log "using $(terraform version | head -1)"
  command -v terraform
  exit 0
fi
if command -v tofu >/dev/null; then
  log "terraform is not installed; using $(tofu version | head -1)"
  command -v tofu
  exit 0
fi
tofu="$cache/tofu-$tofu_version"
if [ ! -x "$tofu" ]; then
  log "neither terraform nor tofu is installed: building OpenTofu $tofu_version from its Go module (a few minutes, once per machine)"
  GO_LDFLAGS="-s -w -X $tofu_module/version.dev=no" \
    "$(dirname "$0")/go-build.sh" "$tofu_module@$tofu_version" "$cache/.new" tofu=./cmd/tofu
  mv "$cache/.new/tofu" "$tofu"
  rmdir "$cache/.new"
fi
log "terraform is not installed; using $("$tofu" version | head -1), built from its Go module"
printf '%s\n' "$tofu"
