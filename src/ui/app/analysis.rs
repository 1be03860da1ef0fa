//! The measures of the takes (the analysis worker's results) and the
//! spectrograms of the panel and the A/B view (`v`).

use super::{App, Effect};
use crate::analysis::spectrum::Spectrogram;
use crate::analysis::{Facts, Measured, Measures};
use crate::ui::event::{AnalysisDone, AnalyzeJob, SpectrumDone, SpectrumJob};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The resolution spectrograms are computed at (time columns, frequency
/// rows); drawing picks from it for the room it has.
pub(super) const SPECTRUM_COLS: usize = 256;
pub(super) const SPECTRUM_ROWS: usize = 128;

/// How often a list that filters or sorts by measures is recomputed while
/// measures keep coming.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// A take's spectrogram as the app has it.
#[derive(Debug, Clone)]
pub enum SpectrumState {
    Pending,
    Ready(Arc<Spectrogram>),
    Failed(String),
}

/// What the app knows of the takes' measures.
#[derive(Debug, Default)]
pub struct Analysis {
    pub measures: Arc<Measured>,
    /// Takes that could not be measured, and why.
    pub failed: Failures,
    /// Takes still being measured.
    pub left: usize,
    /// The measures the list shows as columns (`[list] columns`).
    pub columns: Vec<&'static str>,
    /// Spectrograms instead of waveforms (`v`).
    pub spectrogram: bool,
    pub spectra: HashMap<String, SpectrumState>,
    refreshed: Option<Instant>,
}

/// Why takes could not be measured. Most fail alike ("the WAV is
/// missing"), so each take holds the number of its reason (a million takes
/// without audio cost 16 MB here, not 69).
#[derive(Debug, Default)]
pub struct Failures {
    by_id: crate::store::NumbersById,
    reasons: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
}

impl Failures {
    pub fn get(&self, id: &str) -> Option<&Arc<str>> {
        self.by_id
            .get(id)
            .and_then(|n| self.reasons.get(n as usize))
    }

    pub fn insert(&mut self, id: &str, why: &str) {
        let n = match self.numbers.get(why) {
            Some(&n) => n,
            None => {
                let why: Arc<str> = Arc::from(why);
                let n = self.reasons.len() as u32;
                self.reasons.push(why.clone());
                self.numbers.insert(why, n);
                n
            }
        };
        self.by_id.insert(id, n);
    }

    pub fn remove(&mut self, id: &str) {
        self.by_id.remove(id);
        if self.by_id.is_empty() {
            // Reasons of takes measured since are not kept forever.
            self.reasons.clear();
            self.numbers.clear();
        }
    }
}

impl Analysis {
    pub fn of(&self, id: &str) -> Option<&Measures> {
        self.measures.get(id)
    }
}

impl App {
    /// What filters and sorts read: annotations and measures.
    pub(crate) fn facts(&self) -> Facts<'_> {
        Facts {
            notes: &self.triage.notes,
            measures: &self.analysis.measures,
        }
    }

    /// Asks for `entries` to be measured (newest first).
    pub(super) fn analyze<'a>(
        &mut self,
        entries: impl IntoIterator<Item = &'a Arc<crate::store::HistoryEntry>>,
    ) -> Vec<Effect> {
        let jobs: Vec<AnalyzeJob> = entries
            .into_iter()
            .map(|e| AnalyzeJob::of(&self.store, e))
            .collect();
        if jobs.is_empty() {
            return vec![];
        }
        self.analysis.left += jobs.len();
        vec![Effect::Analyze(jobs)]
    }

    pub(super) fn on_analysis(&mut self, done: AnalysisDone) -> Vec<Effect> {
        let measures = Arc::make_mut(&mut self.analysis.measures);
        for (id, r) in done.measured {
            match r {
                Ok(m) => {
                    measures.insert(&id, m);
                    self.analysis.failed.remove(&id);
                }
                Err(why) => {
                    measures.remove(&id);
                    self.analysis.failed.insert(&id, &why);
                }
            }
        }
        self.analysis.left = done.left;
        // Loudness matching of the A/B view follows the measures.
        let mut fx = Vec::new();
        if let Some(c) = self.compare_view().filter(|c| c.level_match) {
            fx.push(self.gain_effect(c));
        }
        let due = self
            .analysis
            .refreshed
            .is_none_or(|t| t.elapsed() >= REFRESH_EVERY);
        if self.list.view.spec.uses_measures() && (done.left == 0 || due) {
            self.analysis.refreshed = Some(Instant::now());
            fx.extend(self.refresh_view());
        }
        fx
    }

    /// `v`: spectrograms instead of waveforms, or back.
    pub(super) fn toggle_spectrogram(&mut self) -> Vec<Effect> {
        self.analysis.spectrogram = !self.analysis.spectrogram;
        self.info(if self.analysis.spectrogram {
            "spectrogram: 20 Hz at the bottom to the Nyquist frequency at the top (v: waveform)"
        } else {
            "waveform (v: spectrogram)"
        });
        vec![]
    }

    /// The spectrograms the screen shows and does not have yet: the
    /// selected take's, or both of the A/B view's.
    pub(super) fn wanted_spectra(&mut self) -> Vec<Effect> {
        if !self.analysis.spectrogram {
            return vec![];
        }
        let wanted: Vec<Arc<crate::store::HistoryEntry>> = match self.compare_view() {
            Some(c) => c.takes.to_vec(),
            None => self.selected_entry().cloned().into_iter().collect(),
        };
        // Only what is shown is kept.
        self.analysis
            .spectra
            .retain(|id, _| wanted.iter().any(|e| &e.entry_id == id));
        let jobs: Vec<SpectrumJob> = wanted
            .iter()
            .filter(|e| !self.analysis.spectra.contains_key(&e.entry_id))
            .map(|e| SpectrumJob {
                id: e.entry_id.clone(),
                audio: self.checked_path(e, &e.audio_file()),
                cols: SPECTRUM_COLS,
                rows: SPECTRUM_ROWS,
            })
            .collect();
        if jobs.is_empty() {
            return vec![];
        }
        for j in &jobs {
            self.analysis
                .spectra
                .insert(j.id.clone(), SpectrumState::Pending);
        }
        vec![Effect::Spectrum(jobs)]
    }

    pub(super) fn on_spectrum(&mut self, done: SpectrumDone) {
        if let Some(slot) = self.analysis.spectra.get_mut(&done.id) {
            *slot = match done.spectrogram {
                Ok(s) => SpectrumState::Ready(s),
                Err(why) => SpectrumState::Failed(why),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Failures;

    #[test]
    fn failures_give_each_take_its_own_reason() {
        let mut f = Failures::default();
        f.insert("a", "the WAV is missing");
        f.insert("b", "not a WAV");
        f.insert("c", "the WAV is missing");
        assert_eq!(f.get("a").map(|s| &**s), Some("the WAV is missing"));
        assert_eq!(f.get("b").map(|s| &**s), Some("not a WAV"));
        assert_eq!(f.get("c").map(|s| &**s), Some("the WAV is missing"));
        assert_eq!(f.reasons.len(), 2, "alike reasons are held once");
        assert_eq!(f.get("d"), None);
        f.insert("a", "not a WAV");
        assert_eq!(f.get("a").map(|s| &**s), Some("not a WAV"));
        for id in ["a", "b", "c"] {
            f.remove(id);
        }
        assert_eq!((f.get("b"), f.reasons.len()), (None, 0));
    }
}
