#!/bin/sh
# Export benchmarks (docs/performance.md, issue 18):
#  1. 10,000 takes exported by hard link from a 100,000-take history;
#  2. copies with the INFO chunk against `cp` of the same WAVs.
# usage: benches/export_bench.sh [WORKDIR]   (needs farm-bench)
set -eu
W=${1:-/tmp/genhist-export-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$ROOT/Cargo.toml" >/dev/null
G="$ROOT/target/release/genhist"
rm -rf "$W" && mkdir -p "$W"

# 1. A 100,000-take index; 10,000 of them get a small WAV and 5 stars.
"$G" demo "$W/big" --count 100000 --no-audio >/dev/null
python3 - "$W/big" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "history.json")))
ids = list(idx["entries"])[:10000]
data = b"\0\0" * 4410
wav = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16)
       + b"data" + struct.pack("<I", len(data)) + data)
os.makedirs(os.path.join(d, "audio"), exist_ok=True)
for i in ids:
    with open(os.path.join(d, idx["entries"][i]["audio_file"]), "wb") as f:
        f.write(wav)
os.makedirs(os.path.join(d, ".genhist"), exist_ok=True)
json.dump({"version": 1, "takes": {i: {"rating": 5} for i in ids}},
          open(os.path.join(d, ".genhist", "annotations.json"), "w"))
PY
farm-bench -n 5 --timeout 600 -- sh -c "exec '$G' --dir '$W/big' export \$(mktemp -d -u '$W/out.XXXXXX') --filter rating=5 --link hard >/dev/null"

# 2. 300 takes of 2-4 s (about 100 MB): genhist's copies against cp's.
"$G" demo "$W/small" --count 300 >/dev/null
farm-bench -n 9 --timeout 600 \
  --vs "sh -c 'D=\$(mktemp -d $W/cp.XXXXXX) && exec cp $W/small/audio/*.wav \$D/'" \
  -- sh -c "exec '$G' --dir '$W/small' export \$(mktemp -d -u '$W/c.XXXXXX') --all >/dev/null"
