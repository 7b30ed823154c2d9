# shellcheck shell=bash
# Sourced by the build scripts. step COMMAND...: runs it with its output to the caller; when it
# fails, shows the end of what it printed on stderr and returns 1, for the caller to say what failed.
step() {
  local errors
  errors=$(mktemp)
  if "$@" 2>"$errors"; then
    rm -f "$errors"
    return 0
  fi
  tail -20 "$errors" >&2
  rm -f "$errors"
  return 1
}
