#!/usr/bin/env bash
# Benchmarks at 100,000 takes, on two indexes without latent vectors:
#  - ref:  benches/make_reference_index.py, the seed's layout, ~73 MB (the
#          issue's reference file is "about 72 MB")
#  - demo: `genhist demo --count 100000 --no-audio`, nested quality scores, ~87 MB
# usage: benches/cli_bench.sh [WORKDIR]   (about 2 minutes after the build)
# needs: hyperfine (Debian package), GNU time at /usr/bin/time, python3
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/genhist-bench}
cargo build --release -q
B=$PWD/target/release/genhist
rm -rf "$work"; mkdir -p "$work"
python3 benches/make_reference_index.py "$work/ref" 100000
$B demo "$work/demo" --count 100000 --no-audio >/dev/null
for kind in ref demo; do
  d=$work/$kind
  cp "$d/history.json" "$work/$kind.orig.json"
  echo "== $kind: $(stat -c %s "$d/history.json") bytes"
  newest=$($B --dir "$d" list --limit 1 --json | grep -m1 '"entry_id"' | cut -d'"' -f4)
  hyperfine -N -w 3 -r 30 "$B --dir $d list --limit 50"
  # Each run starts from the same index and an empty trash.
  hyperfine -N -w 2 -r 15 --prepare "sh -c 'cp $work/$kind.orig.json $d/history.json; rm -rf $d/.genhist'" "$B --dir $d delete $newest"
  /usr/bin/time -f "list --limit 50 peak RSS: %M KiB" $B --dir "$d" list --limit 50 >/dev/null
  cp "$work/$kind.orig.json" "$d/history.json"; rm -rf "$d/.genhist"
  /usr/bin/time -f "delete peak RSS: %M KiB" $B --dir "$d" delete "$newest" >/dev/null
done
# The browser's targets (issues 4 and 10), playback (issue 5), triage (issue 12).
cargo build --release -q --example ui_bench --example play_latency --example triage_bench
for kind in ref demo; do
  cp "$work/$kind.orig.json" "$work/$kind/history.json"; rm -rf "$work/$kind/.genhist"
  echo "== browser on $kind"
  GENHIST_BIN=$B target/release/examples/ui_bench "$work/$kind"
done
echo "== playback"
target/release/examples/play_latency
echo "== triage"
target/release/examples/triage_bench
