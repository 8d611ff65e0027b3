#!/usr/bin/env bash
# Measures every query in its own process (so that peak RSS is the query's), then DuckDB's time for each
# query over the same events. Usage: bash bench/nexmark/measure-all.sh [events] > results.jsonl
set -euo pipefail
events="${1:-1000000}"
cd "$(dirname "$0")/../.."
node=node_modules/.bin/node
for q in q0 q1 q2 q3 q4 q5 q7 q8 q9 q11 q12 q14 q16 q17 q18 q19 q20 q21 q22; do
  "$node" bench/run.ts nexmark --query "$q" --events "$events" | tail -n 1
done
# DuckDB in a process of its own, the events loaded once.
"$node" bench/run.ts nexmark --query all --events "$events" --duckdb-only
