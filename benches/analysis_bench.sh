#!/bin/sh
# Analysis benchmarks (docs/performance.md, issue 19):
#  1. one take: 10 s of 48 kHz stereo measured whole (examples/analysis_bench.rs);
#  2. the browser over 100,000 takes, each with a 10 s WAV (hard links to one
#     file, so the disk holds it once): key->frame while the analysis worker
#     measures in the background, and the spectrogram's latency
#     (examples/ui_bench.rs --analysis).
# usage: benches/analysis_bench.sh [WORKDIR]
set -eu
W=${1:-/tmp/genhist-analysis-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release --examples >/dev/null
cargo run --release -q --example analysis_bench
rm -rf "$W" && mkdir -p "$W"
./target/release/genhist demo "$W/h" --count 100000 --no-audio >/dev/null
python3 - "$W/h" <<'PY'
import json, math, os, struct, sys
d = sys.argv[1]
rate, n = 48000, 480000
frames = bytearray()
for i in range(n):
    v = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
    frames += struct.pack("<hh", v, v)
wav = (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt "
       + struct.pack("<IHHIIHH", 16, 1, 2, rate, rate * 4, 4, 16)
       + b"data" + struct.pack("<I", len(frames)) + bytes(frames))
idx = json.load(open(os.path.join(d, "history.json")))
os.makedirs(os.path.join(d, "audio"), exist_ok=True)
# A file system allows some 65,000 links to one file: a new one every 50,000.
for i, e in enumerate(idx["entries"].values()):
    src = os.path.join(d, "take%d.wav" % (i // 50000))
    if i % 50000 == 0:
        open(src, "wb").write(wav)
    os.link(src, os.path.join(d, e["audio_file"]))
PY
./target/release/examples/ui_bench "$W/h" --analysis
