#!/usr/bin/env bash
# ansible-test sanity, from a copy of the collection at .build/ansible_collections/masa/monitoring.
# No test image can be pulled here, so it runs with --venv; the pip bootstrap it would download
# is replaced by one built on ensurepip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.venv/bin"
tree="$root/.build/ansible_collections/masa/monitoring"

rm -rf "$tree"
mkdir -p "$tree"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | grep -zv '^\.build/' \
  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) | tar -C "$tree" -xf -

# ansible-test fetches get-pip.py from a host that is not always reachable; give it a local one.
core_version=$("$bin/python" -c 'import ansible.release as r; print(r.__version__)')
pip_version=$("$bin/python" - <<'PY'
import re, pathlib, ansible_test
text = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
match = re.search(r"default_packages = dict\(\s*pip=['\"]([^'\"]+)", text)
print(match.group(1) if match else "")
PY
)
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for name in ${pip_version:+get_pip_${pip_version//./_}.py} ; do
  cat >"$cache/$name" <<'PY'
import ensurepip, subprocess, sys
ensurepip.bootstrap()
# get-pip.py's own flags mean nothing to pip itself.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade",
                       "--cert", "/etc/ssl/certs/ca-certificates.crt", *args])
PY
done

cd "$tree"
git init -q . && git add -A >/dev/null   # ansible-test lists the collection's files through git
echo "ansible-test sanity (ansible-core $core_version)"
"$bin/ansible-test" sanity --venv --python "$("$bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --requirements "$@"
