//! "More like this": how far one take is from another.
//!
//! - Both takes have a latent vector of the same length (not all zeros):
//!   the cosine distance, `1 - cos`, from 0 (same direction) to 2.
//! - Otherwise a parameter distance, always above every cosine distance:
//!   `2 + 8·[other model] + 2·s + 0.5·[other n_components] + 0.25·[other preset]`,
//!   where `s` is the mean absolute difference of the slider positions
//!   (the shorter list padded with zeros) divided by 6, at most 1. So takes
//!   with a comparable latent come first, then takes of the same model,
//!   ordered by how far their sliders are.
//!
//! The reference take itself is at distance 0.

use crate::store::HistoryEntry;
use std::sync::Arc;

/// Where parameter distances start (above every cosine distance).
pub const PARAMETER_BASE: f64 = 2.0;

/// The reference, with what every comparison needs computed once.
#[derive(Debug, Clone)]
pub struct Reference {
    pub entry: Arc<HistoryEntry>,
    latent: Option<(Vec<f64>, f64)>,
}

fn usable(v: Option<&[f64]>) -> Option<(&[f64], f64)> {
    let v = v?;
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    (norm > 0.0 && norm.is_finite()).then_some((v, norm))
}

impl Reference {
    pub fn new(entry: Arc<HistoryEntry>) -> Reference {
        let latent = usable(entry.latent_vector()).map(|(v, n)| (v.to_vec(), n));
        Reference { entry, latent }
    }

    /// The distance of `e` from the reference.
    pub fn distance(&self, e: &HistoryEntry) -> f64 {
        if e.entry_id == self.entry.entry_id {
            return 0.0;
        }
        if let (Some((r, rn)), Some((v, vn))) = (&self.latent, usable(e.latent_vector())) {
            if r.len() == v.len() {
                let dot: f64 = r.iter().zip(v).map(|(a, b)| a * b).sum();
                return (1.0 - dot / (rn * vn)).clamp(0.0, 2.0);
            }
        }
        parameter_distance(&self.entry, e)
    }

    /// The takes of `entries` (the reference too), nearest first, with
    /// their distances; ties keep the given order.
    pub fn rank(&self, entries: &[Arc<HistoryEntry>]) -> Vec<(Arc<HistoryEntry>, f64)> {
        let mut out: Vec<(Arc<HistoryEntry>, f64)> = entries
            .iter()
            .map(|e| (e.clone(), self.distance(e)))
            .collect();
        let me = &self.entry.entry_id;
        out.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| (&a.0.entry_id != me).cmp(&(&b.0.entry_id != me)))
        });
        out
    }
}

/// The parameter distance (see the module's text).
fn parameter_distance(a: &HistoryEntry, b: &HistoryEntry) -> f64 {
    let differ = |x: bool| if x { 1.0 } else { 0.0 };
    let none = crate::store::Sliders::NONE;
    let sa = a.slider_positions().unwrap_or(none);
    let sb = b.slider_positions().unwrap_or(none);
    let n = sa.len().max(sb.len());
    let sliders = if n == 0 {
        0.0
    } else {
        let total: f64 = (0..n)
            .map(|i| {
                let x = sa.get(i).unwrap_or(0) as f64;
                let y = sb.get(i).unwrap_or(0) as f64;
                (x - y).abs()
            })
            .sum();
        (total / n as f64 / 6.0).min(1.0)
    };
    PARAMETER_BASE
        + 8.0 * differ(a.model_id() != b.model_id())
        + 2.0 * sliders
        + 0.5 * differ(a.n_components != b.n_components)
        + 0.25 * differ(a.preset_name() != b.preset_name())
}
