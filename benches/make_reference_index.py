#!/usr/bin/env python3
"""Writes a history.json like the one issue 2's numbers were taken on: N entries
in the seed's layout (json.dump(indent=2) of dataclasses.asdict(HistoryEntry)),
no latent vectors, flat quality scores. About 72 MB at 100,000 entries.

usage: make_reference_index.py DIR [N]
"""
import json
import os
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

out_dir = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
rng = random.Random(7)
models = [("drums-vae-v2", "Drum Machine VAE"), ("pads-large", "Ambient Pads"),
          ("fx-noise-01", "Noise FX"), ("chords-jp", "\u548c\u97f3\u30e2\u30c7\u30eb"),
          ("bass-mono", "Bass Synth")]
presets = ["custom", "warm", "lo-fi", "bright", "wide"]
start = datetime(2026, 10, 1, tzinfo=timezone.utc)
entries = {}
for i in range(n):
    entry_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    model_id, model_name = rng.choice(models)
    k = rng.randint(2, 5)
    entries[entry_id] = {
        "entry_id": entry_id,
        "timestamp": (start + timedelta(seconds=i * 20 + rng.random())).isoformat(),
        "model_id": model_id,
        "model_name": model_name,
        "slider_positions": [rng.randint(-5, 5) for _ in range(k)] if rng.random() < 0.8 else None,
        "n_components": k,
        "seed": rng.getrandbits(32),
        "duration_s": rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 4.0]),
        "sample_rate": rng.choice([44100, 48000]),
        "stereo_mode": rng.choice(["mono", "stereo", "mid_side", "dual_mono"]),
        "preset_name": rng.choice(presets),
        "audio_file": f"audio/{entry_id}.wav",
        "thumbnail_file": f"thumbnails/{entry_id}.png",
        "quality_score": {"snr_db": round(rng.uniform(10, 40), 2),
                          "overall": round(rng.random(), 3)},
        "latent_vector": None,
    }
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "history.json"), "w") as f:
    json.dump({"version": 1, "entries": entries}, f, indent=2)
