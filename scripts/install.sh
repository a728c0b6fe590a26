#!/usr/bin/env bash
# Installs what the notebooks and their tests need, on Debian/Ubuntu with Go already installed:
#   - Jupyter (Debian packages: jupyter-core, jupyter-client, nbconvert, nbclient, nbformat),
#   - Fashion-MNIST (Debian package dataset-fashion-mnist), the offline data set after the CIFAR ones,
#   - python3-venv and chromium, for JupyterLab (make lab, from PyPI) and its browser test (make test-lab),
#   - gcc (cgo, needed by GoMLX's XLA bindings),
#   - GoNB (the Go Jupyter kernel, pinned) and goimports (pinned), installed into $(go env GOPATH)/bin,
#   - the "gonb" Jupyter kernel spec (~/.local/share/jupyter/kernels/gonb),
#   - XLA's CPU PJRT plugin (scripts/install_xla_cpu.sh: a pinned, checksummed PyPI wheel) into
#     ~/.local/lib/go-xla/, where GoMLX finds it; without it (offline) blockrec runs on pure Go.
# Idempotent: each step first checks whether its result is already present; a second run takes a
# few seconds. Needs root or sudo only when Debian packages are missing.
set -euo pipefail

GONB_VERSION="v0.11.4"
GOIMPORTS_VERSION="v0.36.0"   # golang.org/x/tools; the newest needs a newer Go than some machines have.
APT_PACKAGES=(jupyter-core jupyter-client jupyter-nbconvert python3-nbconvert python3-nbclient python3-nbformat dataset-fashion-mnist python3-venv chromium)
PY=/usr/bin/python3            # Debian's Python: the one the apt packages install into.

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: ERROR: %s\n' "$*" >&2; exit 1; }

# --- Go -------------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "Go is not on PATH. Install Go (see go.mod for the version) from https://go.dev/dl and retry."
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$repo_root/go.mod")"
have_go="$(go env GOVERSION)"; have_go="${have_go#go}"
if [[ -n "$want_go" ]] && [[ "$(printf '%s\n%s\n' "$want_go" "$have_go" | sort -V | head -1)" != "$want_go" ]]; then
  die "go.mod needs Go $want_go but 'go' is $have_go; install a newer Go from https://go.dev/dl"
fi
say "Go $have_go: ok"
gobin="$(go env GOBIN)"; [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# --- Debian packages ------------------------------------------------------------------------------
as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (no sudo found); run this script as root or install the packages yourself"; fi
}
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if (( ${#missing[@]} )); then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install Jupyter (nbclient, nbconvert, nbformat) for $PY and gcc by hand"
  say "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$PY" -c 'import nbclient, nbformat, nbconvert, jupyter_client' 2>/dev/null \
  || die "$PY cannot import nbclient/nbformat/nbconvert/jupyter_client after installing ${APT_PACKAGES[*]}"
say "Jupyter ($PY, nbclient $("$PY" -c 'import nbclient; print(nbclient.__version__)')): ok"

# --- goimports --------------------------------------------------------------------------------------
if [[ -x "$gobin/goimports" ]] && go version -m "$gobin/goimports" 2>/dev/null | grep -q "golang.org/x/tools[[:space:]]*$GOIMPORTS_VERSION"; then
  say "goimports $GOIMPORTS_VERSION: ok"
else
  say "installing goimports $GOIMPORTS_VERSION"
  GOFLAGS=-mod=mod go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
fi

# --- GoNB ---------------------------------------------------------------------------------------------
# Built from its module folder: the module proxy serves this version but refuses GoNB's version list.
# A build from the module folder is stamped "(devel)", so a marker file records the version built.
gonb_marker="$gobin/.gonb-version"
if [[ -x "$gobin/gonb" ]] && [[ "$(cat "$gonb_marker" 2>/dev/null)" == "$GONB_VERSION" ]]; then
  say "gonb $GONB_VERSION: ok"
else
  say "installing gonb $GONB_VERSION"
  go mod download "github.com/janpfeifer/gonb@$GONB_VERSION"
  (cd "$(go env GOMODCACHE)/github.com/janpfeifer/gonb@$GONB_VERSION" && GOFLAGS=-mod=mod go install .)
  [[ -x "$gobin/gonb" ]] || die "go install of gonb did not produce $gobin/gonb"
  echo "$GONB_VERSION" >"$gonb_marker"
  rm -f "${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels/gonb/kernel.json"  # re-register below
fi

# --- Jupyter kernel spec ------------------------------------------------------------------------------
kernel_json="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels/gonb/kernel.json"
if [[ -f "$kernel_json" ]] && grep -q "\"$gobin/gonb\"" "$kernel_json" && grep -q -- "-raw_error=true" "$kernel_json"; then
  say "gonb kernel spec ($kernel_json): ok"
else
  say "installing the gonb kernel spec"
  # --force_deps: GoNB also asks for gopls (editor completion only); the runner does not need it.
  "$gobin/gonb" --install --force_deps --raw_error >/dev/null 2>&1 || die "gonb --install failed"
  [[ -f "$kernel_json" ]] || die "gonb --install did not write $kernel_json"
fi
/usr/bin/jupyter kernelspec list 2>/dev/null | grep -q '^ *gonb ' || die "jupyter kernelspec list does not show gonb"
# --- XLA CPU plugin (never fatal) ---------------------------------------------------------------
bash "$repo_root/scripts/install_xla_cpu.sh"

say "done. GoNB cells need go, gonb and goimports on PATH: scripts/run_notebooks.py adds $gobin itself;"
say "for Jupyter in a browser, add it to your PATH: export PATH=\"$gobin:\$PATH\""
