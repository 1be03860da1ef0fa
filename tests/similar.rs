//! "More like this" against a brute-force reference written from the
//! documented definition (docs/triage.md): random takes, with and without
//! latent vectors of several lengths, models, sliders, presets.

use genhist::similar::Reference;
use genhist::store::HistoryEntry;
use proptest::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone)]
struct Take {
    model: u8,
    preset: u8,
    n_components: u8,
    sliders: Option<Vec<i8>>,
    latent: Option<Vec<f64>>,
}

fn take() -> impl Strategy<Value = Take> {
    (
        0u8..3,
        0u8..3,
        0u8..4,
        proptest::option::of(proptest::collection::vec(-3i8..=3, 0..6)),
        proptest::option::of(prop_oneof![
            proptest::collection::vec(-2.0f64..2.0, 4),
            proptest::collection::vec(-2.0f64..2.0, 5),
            Just(vec![0.0; 4]),
        ]),
    )
        .prop_map(|(model, preset, n_components, sliders, latent)| Take {
            model,
            preset,
            n_components,
            sliders,
            latent,
        })
}

fn entry(i: usize, t: &Take) -> Arc<HistoryEntry> {
    let v = serde_json::json!({
        "entry_id": format!("take-{i:04}"),
        "timestamp": format!("2026-11-20T10:{:02}:{:02}+00:00", (i / 60) % 60, i % 60),
        "model_id": format!("model-{}", t.model),
        "model_name": "M",
        "slider_positions": t.sliders,
        "n_components": t.n_components,
        "seed": i,
        "duration_s": 1.0,
        "sample_rate": 48000,
        "stereo_mode": "mono",
        "preset_name": format!("preset-{}", t.preset),
        "audio_file": format!("audio/{i}.wav"),
        "thumbnail_file": format!("thumbnails/{i}.png"),
        "quality_score": {},
        "latent_vector": t.latent,
    });
    Arc::new(serde_json::from_value(v).unwrap())
}

/// The documented distance, computed the plain way.
fn brute(r: &Take, t: &Take, same: bool) -> f64 {
    if same {
        return 0.0;
    }
    if let (Some(a), Some(b)) = (&r.latent, &t.latent) {
        let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
        if a.len() == b.len() && na > 0.0 && nb > 0.0 {
            let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            return (1.0 - dot / (na * nb)).clamp(0.0, 2.0);
        }
    }
    let sa = r.sliders.clone().unwrap_or_default();
    let sb = t.sliders.clone().unwrap_or_default();
    let n = sa.len().max(sb.len());
    let mut s = 0.0;
    if n > 0 {
        let total: f64 = (0..n)
            .map(|i| {
                (f64::from(*sa.get(i).unwrap_or(&0)) - f64::from(*sb.get(i).unwrap_or(&0))).abs()
            })
            .sum();
        s = (total / n as f64 / 6.0).min(1.0);
    }
    let flag = |x: bool| if x { 1.0 } else { 0.0 };
    2.0 + 8.0 * flag(r.model != t.model)
        + 2.0 * s
        + 0.5 * flag(r.n_components != t.n_components)
        + 0.25 * flag(r.preset != t.preset)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn ranking_matches_brute_force(takes in proptest::collection::vec(take(), 1..40), pick in 0usize..40) {
        let entries: Vec<Arc<HistoryEntry>> =
            takes.iter().enumerate().map(|(i, t)| entry(i, t)).collect();
        let r = pick % takes.len();
        let ranked = Reference::new(entries[r].clone()).rank(&entries);
        // The brute force: every distance, stably sorted.
        let mut want: Vec<(usize, f64)> = takes
            .iter()
            .enumerate()
            .map(|(i, t)| (i, brute(&takes[r], t, i == r)))
            .collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1));
        prop_assert_eq!(ranked.len(), want.len());
        prop_assert_eq!(&ranked[0].0.entry_id, &entries[r].entry_id, "the reference first");
        for ((e, d), (i, wd)) in ranked.iter().zip(&want) {
            prop_assert!((d - wd).abs() < 1e-9, "{} at {} vs {}", e.entry_id, d, wd);
            // Equal distances may come in either order only if they are equal.
            if e.entry_id != entries[*i].entry_id {
                let other = want.iter().find(|(j, _)| entries[*j].entry_id == e.entry_id).unwrap();
                prop_assert!((other.1 - wd).abs() < 1e-9);
            }
        }
    }
}
