#!/usr/bin/env bash
# Tests of scripts/install_xla_cpu.sh's failure paths, offline and in seconds: each must print one
# line, exit 0 (setup goes on with the pure-Go backend) and leave no plugin, whole or partial.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
script=scripts/install_xla_cpu.sh
wheel_file=$(sed -n 's/^WHEEL_FILE=//p' "$script")
pass=0 fail=0
check() { # name, output, want-substring, plugin-dir
  local name=$1 out=$2 want=$3 dir=$4
  if [[ "$out" != *"$want"* ]]; then echo "FAIL $name: output does not contain '$want': $out"; ((fail++)); return; fi
  if [[ $(printf '%s\n' "$out" | grep -c 'pure-Go backend') != 1 ]]; then echo "FAIL $name: want one line saying so, got: $out"; ((fail++)); return; fi
  if compgen -G "$dir/*pjrt*" >/dev/null || compgen -G "$dir/.*part*" >/dev/null; then echo "FAIL $name: left files in $dir: $(ls -A "$dir")"; ((fail++)); return; fi
  echo "ok   $name"; ((pass++))
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Offline: the index cannot be reached.
mkdir -p "$tmp/a" "$tmp/emptywheels"
out=$(BLOCKREC_PLUGIN_DIR="$tmp/a" BLOCKREC_WHEEL_DIR="$tmp/emptywheels" PIP_INDEX_URL=http://127.0.0.1:9/simple \
      PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS= bash "$script" 2>&1); rc=$?
[[ $rc == 0 ]] || { echo "FAIL offline: exit $rc"; ((fail++)); }
check "offline download" "$out" "pip download of" "$tmp/a"

# A wheel with the right name and the wrong content.
mkdir -p "$tmp/b" "$tmp/wheels"
echo "not a wheel" >"$tmp/wheels/$wheel_file"
out=$(BLOCKREC_PLUGIN_DIR="$tmp/b" BLOCKREC_WHEEL_DIR="$tmp/wheels" bash "$script" 2>&1); rc=$?
[[ $rc == 0 ]] || { echo "FAIL checksum: exit $rc"; ((fail++)); }
check "wrong wheel checksum" "$out" "wrong SHA-256 for $wheel_file" "$tmp/b"

# Skipped on request.
mkdir -p "$tmp/c"
out=$(BLOCKREC_NO_XLA=1 BLOCKREC_PLUGIN_DIR="$tmp/c" bash "$script" 2>&1)
check "BLOCKREC_NO_XLA=1" "$out" "BLOCKREC_NO_XLA=1" "$tmp/c"

echo "install_xla_cpu.sh: $pass passed, $fail failed"
(( fail == 0 ))
