#!/usr/bin/env bash
# Measures every query in its own process (so that peak RSS is the query's), `runs` times, with exactly-once
# checkpoints every 10 s (the bench's default), then DuckDB's time for each query over the same events, and
# prints the README's table last (the median run of each query).
# With --parallelism p1,p2,... each run measures every query at each parallelism in turn (interleaved, so that
# a change in the machine's load falls on all of them alike) and a scaling table follows the first table.
# Usage: bash bench/nexmark/measure-all.sh [--parallelism 1,2] [events] [runs] [queries...] > results.md
set -euo pipefail
parallelisms=(1)
if [ "${1:-}" = "--parallelism" ]; then
  IFS=, read -r -a parallelisms <<< "${2:?--parallelism takes a list, e.g. 1,2}"
  shift 2
fi
events="${1:-10000000}"
runs="${2:-1}"
shift $(( $# > 2 ? 2 : $# ))
queries=("$@")
[ ${#queries[@]} -gt 0 ] || queries=(q0 q1 q2 q3 q4 q5 q7 q8 q9 q11 q12 q14 q16 q17 q18 q19 q20 q21 q22)
cd "$(dirname "$0")/../.."
node=node_modules/.bin/node
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
for q in "${queries[@]}"; do
  for _ in $(seq "$runs"); do
    for p in "${parallelisms[@]}"; do
      # A query that fails (for instance, out of memory) is reported and the others still run.
      if ! line=$("$node" bench/run.ts nexmark --query "$q" --events "$events" --parallelism "$p" 2>"$out.err" | tail -n 1) || [ "${line:0:1}" != "{" ]; then
        msg=$( (grep -m1 -oE '(RangeError|Error|SluiceError)[^"]*|heap out of memory' "$out.err" | head -n 1 | tr -d '\\"') || true)
        line="{\"query\":\"$q\",\"events\":$events,\"parallelism\":$p,\"error\":\"${msg:-failed}\"}"
      fi
      echo "$line" | tee -a "$out"
    done
  done
done
# DuckDB in a process of its own, the events loaded once.
list=$(IFS=,; echo "${queries[*]}")
"$node" bench/run.ts nexmark --query "$list" --events "$events" --duckdb-only | tee -a "$out"
echo
"$node" bench/nexmark/table.ts "$out"
