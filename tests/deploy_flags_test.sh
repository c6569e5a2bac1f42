#!/usr/bin/env bash
# Every embers flag named in the deployment files exists: a renamed or removed flag must not leave
# a systemd unit, a Kubernetes manifest or scripts/cluster.sh starting processes that exit with
# "unknown flag" (or docs telling operators to set one).
#
#   tests/deploy_flags_test.sh EMBERS_BIN [SOURCE_DIR]
#
# Scans deploy/ (every file) and scripts/cluster.sh under SOURCE_DIR (default: the repository this
# script is in) for flag tokens — `-name.with.dots` anywhere, or `-name=` — and checks each against
# the flags `EMBERS_BIN -help` lists. Prints every unknown flag with the places that use it and
# exits 1 if there is any. A token followed by `*` (`-storage.s3.*`) is a family, not a flag, and
# is skipped. ctest runs it as deploy.flags.
set -euo pipefail

usage() {  # the comment block above
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
bin=$1
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }

# Flags of the binary: the lines of -help that start with a dash ("  -server.http-listen-port int").
help=$("$bin" -help 2>&1 || true)
mapfile -t known < <(grep -oP '^\s*-\K[a-z][a-z0-9.-]*' <<<"$help" | sort -u)
[ ${#known[@]} -gt 20 ] || { echo "could not read the flags from $bin -help:" >&2; echo "$help" >&2; exit 1; }
declare -A is_known=()
for f in "${known[@]}"; do is_known[$f]=1; done

files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$src/deploy" -type f -print0 | sort -z)
files+=("$src/scripts/cluster.sh")

# A token is a dash not preceded by a word character, a dot, a slash, '$', '+' or another dash
# (so not `--dir`, `a-b`, `dns+x`), then a lower-case name; it must not run on into `*`, a word
# character or another dot. Kept when it has a dot or is followed by '=' (so that `set -eu` or
# `sed -n` are not taken for flags).
declare -A uses=()
checked=0
for file in "${files[@]}"; do
  rel=${file#"$src"/}
  while IFS=: read -r line token; do
    [[ $token == *= || $token == *.* ]] || continue
    token=${token%=}
    token=${token#-}
    checked=$((checked + 1))
    [ -n "${is_known[$token]:-}" ] && continue
    uses[$token]+=" $rel:$line"
  done < <(grep -noP '(?<![\w.$/+-])-[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*(?![\w.*-])=?' "$file" || true)
done

echo "checked $checked flag uses in ${#files[@]} files against ${#known[@]} flags of $bin"
if [ ${#uses[@]} -eq 0 ]; then
  echo "every flag exists"
  exit 0
fi
echo "flags that $(basename "$bin") -help does not list:"
for token in $(printf '%s\n' "${!uses[@]}" | sort); do
  echo "  -$token:${uses[$token]}"
done
exit 1
