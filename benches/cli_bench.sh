#!/usr/bin/env bash
# Benchmark of issue 2's targets on a 100,000-entry index (no latent vectors).
# usage: benches/cli_bench.sh [WORKDIR]   (needs GNU time at /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/genhist-bench}
cargo build --release -q
B=target/release/genhist
rm -rf "$work"; $B demo "$work" --count 100000 --no-audio >/dev/null
ls -l "$work/history.json"
cp "$work/history.json" "$work/history.json.orig"
for i in 1 2 3; do /usr/bin/time -f "list --limit 50: %e s wall, %M KiB peak RSS" $B --dir "$work" list --limit 50 >/dev/null; done
for i in 1 2 3; do
  cp "$work/history.json.orig" "$work/history.json"
  id=$($B --dir "$work" list --limit 1 --json | grep -m1 '"entry_id"' | cut -d'"' -f4)
  /usr/bin/time -f "delete ID: %e s wall, %M KiB peak RSS" $B --dir "$work" delete "$id" >/dev/null
done
