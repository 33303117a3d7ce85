#!/usr/bin/env bash
# One phase of a long make target, as one line on the screen; its whole output goes to a log.
#
#   scripts/phase.sh [--detail REGEX] NAME LOG -- COMMAND [ARG...]
#
#     ok   12.3 s  terraform apply (85 added, 0 changed, 0 destroyed; log: build/logs/terraform-apply.log)
#
# --detail shows the last match of REGEX (grep -E) in the log in the line, e.g. Terraform's
# resource counts. A failed phase prints the log's last lines and its path and exits with the
# command's status, so make stops there.
set -euo pipefail

usage() {
  echo "usage: scripts/phase.sh [--detail REGEX] NAME LOG -- COMMAND [ARG...]" >&2
  exit 2
}

detail_pattern=
if [[ ${1-} == --detail ]]; then
  (($# >= 2)) || usage
  detail_pattern=$2
  shift 2
fi
(($# >= 4)) && [[ $3 == -- ]] || usage
name=$1
log=$2
shift 3

# Microseconds now: EPOCHREALTIME without its (locale's) decimal point; bash counts in integers.
now() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# Seconds since START (microseconds), with one decimal.
elapsed() {
  local microseconds=$(($(now) - $1))
  local tenths=$(((microseconds + 50000) / 100000))
  printf '%3d.%d' $((tenths / 10)) $((tenths % 10))
}

mkdir -p "$(dirname "$log")"
# On a terminal, say what runs while it runs; the result line overwrites it.
if [[ -t 1 ]]; then
  printf '  ..           %s\r' "$name"
fi
start=$(now)
status=0
"$@" >"$log" 2>&1 </dev/null || status=$?
took=$(elapsed "$start")

if ((status == 0)); then
  detail=
  if [[ -n $detail_pattern ]]; then
    detail=$(grep -oE -- "$detail_pattern" "$log" | tail -n 1 || true)
  fi
  printf '  ok  %s s  %s (%slog: %s)\n' "$took" "$name" "${detail:+$detail; }" "$log"
  exit 0
fi

printf 'FAIL  %s s  %s (exit %d); the end of %s:\n' "$took" "$name" "$status" "$log"
tail -n 30 "$log" | sed 's/^/    /'
echo "full log: $log"
exit "$status"
