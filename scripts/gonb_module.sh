#!/usr/bin/env bash
# Points a GoNB kernel's Go module at this blockrec checkout. Every notebook's first cell runs it:
#
#   !*bash "${BLOCKREC_ROOT:-$GONB_DIR/..}/scripts/gonb_module.sh"
#
# ("!*" runs it in GoNB's temporary module folder; BLOCKREC_ROOT is set by the notebook runner,
# GONB_DIR is the notebook's folder, so in Jupyter the default is the folder above notebooks/).
# A replace directive alone fails with the module proxy here, so it adds a require of the
# zero pseudo-version too, and pins gonbui to the GoNB version installed by scripts/install.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f go.mod ]] || { echo "gonb_module.sh: no go.mod in $(pwd): run it with GoNB's !* prefix" >&2; exit 1; }
[[ "$(pwd)" != "$root" ]] || { echo "gonb_module.sh: refusing to edit the repository's own go.mod" >&2; exit 1; }
module="github.com/blockrec/blockrec"
go_version="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$root/go.mod")"
gonb_version="$(sed -n 's|^[[:space:]]*github.com/janpfeifer/gonb \(v[^ ]*\).*$|\1|p' "$root/go.mod" | head -1)"
go mod edit -go="$go_version" \
  -require="$module@v0.0.0-00010101000000-000000000000" -replace="$module=$root" \
  -require="github.com/janpfeifer/gonb@$gonb_version"
echo "blockrec module: $root (go $go_version, gonb $gonb_version)"
