#!/usr/bin/env bash
# Installs XLA's CPU PJRT plugin where GoMLX (go-xla) finds it: ~/.local/lib/go-xla/pjrt_c_api_cpu_plugin.so
# (or $BLOCKREC_PLUGIN_DIR). The plugin comes from a pinned PyPI wheel, checked by SHA-256 twice (the
# wheel, then the extracted .so), and is loaded once (GetPjrtApi, PJRT C API version) before it is
# moved into place, atomically. Idempotent: a plugin already there with the right checksum is kept.
#
# Never fatal: a failed download (offline), a wrong checksum or a plugin that does not load prints
# one line and exits 0, leaving nothing half-written; blockrec then runs on the pure-Go backend.
# BLOCKREC_NO_XLA=1 skips this step. A wheel already on disk is used instead of a download when it is
# at $BLOCKREC_WHEEL_DIR/<wheel file> (default: <repo>/data/wheels/).
set -uo pipefail

# The pin: lammps-jax-pjrt-cpu 0.11.2 is XLA's CPU PJRT plugin built from jaxlib 0.11.2's XLA
# (PJRT C API v0.115; go-xla v0.1.4 speaks v0.83 and PJRT checks argument struct sizes, so the
# newer plugin serves the older client: every blockrec test passes on it).
WHEEL_NAME=lammps-jax-pjrt-cpu
WHEEL_VERSION=0.11.2
WHEEL_FILE=lammps_jax_pjrt_cpu-0.11.2-py3-none-manylinux_2_27_x86_64.whl
WHEEL_SHA256=1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1
SO_MEMBER=lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so
SO_SHA256=ad1309ac822b1b24d51b7f9947c7c9fa9ef5d67f390584cbc3d1fa2428fed9c2

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin_dir="${BLOCKREC_PLUGIN_DIR:-$HOME/.local/lib/go-xla}"
target="$plugin_dir/pjrt_c_api_cpu_plugin.so"
wheel_dir="${BLOCKREC_WHEEL_DIR:-$repo_root/data/wheels}"

say() { printf 'install: %s\n' "$*"; }
skip() { say "XLA CPU plugin: $*; blockrec will use the pure-Go backend (slower)"; exit 0; }

if [[ "${BLOCKREC_NO_XLA:-}" == 1 ]]; then skip "BLOCKREC_NO_XLA=1"; fi
[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] || skip "the pinned wheel is for Linux x86-64, this is $(uname -s)/$(uname -m)"

sha() { sha256sum "$1" | cut -d' ' -f1; }
if [[ -f "$target" ]] && [[ "$(sha "$target")" == "$SO_SHA256" ]]; then
  say "XLA CPU plugin ($WHEEL_NAME $WHEEL_VERSION, $target): ok"
  exit 0
fi

# A Python with pip for the download, and any Python for unzipping and the load check.
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -m pip --version >/dev/null 2>&1; then py="$cand"; break; fi
done
unzip_py="${py:-$(command -v python3 || echo /usr/bin/python3)}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ -f "$wheel_dir/$WHEEL_FILE" ]]; then
  cp "$wheel_dir/$WHEEL_FILE" "$tmp/"
  say "XLA CPU plugin: using $wheel_dir/$WHEEL_FILE"
else
  [[ -n "$py" ]] || skip "no python3 with pip to download $WHEEL_NAME==$WHEEL_VERSION (or put $WHEEL_FILE in $wheel_dir)"
  say "XLA CPU plugin: downloading $WHEEL_NAME==$WHEEL_VERSION (63 MB) from PyPI"
  if ! log="$("$py" -m pip download --quiet --no-deps --only-binary=:all: --timeout 20 --retries 1 \
        --dest "$tmp" "$WHEEL_NAME==$WHEEL_VERSION" 2>&1)"; then
    reason="$(printf '%s\n' "$log" | grep '^ERROR' | tail -1)"
    skip "pip download of $WHEEL_NAME==$WHEEL_VERSION failed (${reason:-$(printf '%s\n' "$log" | tail -1)})"
  fi
fi
[[ -f "$tmp/$WHEEL_FILE" ]] || skip "pip did not produce $WHEEL_FILE (got: $(ls "$tmp" | tr '\n' ' '))"
got="$(sha "$tmp/$WHEEL_FILE")"
[[ "$got" == "$WHEEL_SHA256" ]] || skip "wrong SHA-256 for $WHEEL_FILE: got $got, want $WHEEL_SHA256"

"$unzip_py" - "$tmp/$WHEEL_FILE" "$SO_MEMBER" "$tmp/plugin.so" <<'PY' || skip "cannot extract $SO_MEMBER from $WHEEL_FILE"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
got="$(sha "$tmp/plugin.so")"
[[ "$got" == "$SO_SHA256" ]] || skip "wrong SHA-256 for $SO_MEMBER in $WHEEL_FILE: got $got, want $SO_SHA256"

# Load it: GetPjrtApi must exist and report PJRT C API major version 0.
if ! version="$("$unzip_py" - "$tmp/plugin.so" <<'PY' 2>&1
import ctypes, sys
class Version(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("ext", ctypes.c_void_p), ("major", ctypes.c_int), ("minor", ctypes.c_int)]
class ApiHead(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("ext", ctypes.c_void_p), ("version", Version)]
lib = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_LOCAL)
lib.GetPjrtApi.restype = ctypes.POINTER(ApiHead)
api = lib.GetPjrtApi()
if not api:
    sys.exit("GetPjrtApi returned NULL")
v = api.contents.version
if v.major != 0:
    sys.exit(f"PJRT C API v{v.major}.{v.minor}: go-xla speaks v0.83 (major versions differ)")
print(f"{v.major}.{v.minor}")
PY
)"; then
  skip "the extracted plugin does not load: $(printf '%s' "$version" | tail -1)"
fi

mkdir -p "$plugin_dir" || skip "cannot create $plugin_dir"
part="$plugin_dir/.pjrt_c_api_cpu_plugin.so.part.$$"
if ! { cp "$tmp/plugin.so" "$part" && chmod 0755 "$part" && mv -f "$part" "$target"; }; then
  rm -f "$part"
  skip "cannot write $target"
fi
say "XLA CPU plugin: installed $WHEEL_NAME $WHEEL_VERSION (PJRT C API v$version) at $target"
