//! The A/B view: two takes, one playhead; `Tab` hears the other at the same
//! position, `L` matches their loudness, rating keys and `:tag`/`:note`
//! apply to the take heard.

use super::{App, Effect, Mode};
use crate::playback::{PlayState, PlayerCmd};
use crate::store::HistoryEntry;
use crate::ui::command::Command;
use std::sync::Arc;

/// Two takes compared: both waveforms, one playhead, what differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    pub takes: [Arc<HistoryEntry>; 2],
    /// Which one is heard (0: A, 1: B).
    pub heard: usize,
    /// The parameters they differ in.
    pub rows: Vec<crate::diff::Row>,
    /// Loudness matching: both played at the level of the quieter one.
    pub level_match: bool,
    /// The first row of the diff shown.
    pub scroll: usize,
}

impl Compare {
    pub(crate) fn heard_take(&self) -> &Arc<HistoryEntry> {
        &self.takes[self.heard]
    }
}

/// Where loudness matching stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LevelMatch {
    /// Both takes' levels are being read.
    Reading,
    /// The gain the heard take is played at.
    Gain(f32),
    /// It cannot be done: why.
    Unavailable(String),
}

impl App {
    /// The A/B view on screen: open, or under its `:` bar.
    pub fn compare_view(&self) -> Option<&Compare> {
        match (&self.mode, &self.bar.return_to) {
            (Mode::Compare(c), _) => Some(c),
            (Mode::Command | Mode::HistorySearch, Some(Mode::Compare(c))) => Some(c),
            _ => None,
        }
    }

    /// `:ab`: the two takes to compare.
    pub(super) fn open_compare(&mut self, ids: Vec<String>) -> Vec<Effect> {
        let marked = &self.list.marked;
        let pick: Result<Vec<Arc<HistoryEntry>>, String> = if ids.len() == 2 {
            ids.iter()
                .map(|id| self.store.get(id).cloned().map_err(|e| e.to_string()))
                .collect()
        } else if marked.len() > 2 {
            Err(format!(
                "{} takes are marked: :ab compares two (or give two ids)",
                marked.len()
            ))
        } else if marked.len() == 2 {
            let mut m: Vec<Arc<HistoryEntry>> = self
                .list
                .view
                .rows
                .iter()
                .filter(|e| marked.contains(&e.entry_id))
                .cloned()
                .collect();
            if m.len() < 2 {
                m = marked
                    .iter()
                    .filter_map(|id| self.store.get_exact(id).cloned())
                    .collect();
            }
            Ok(m)
        } else {
            match (self.selected_entry().cloned(), &self.list.previous) {
                (Some(a), Some(prev)) => match self.store.get_exact(prev) {
                    Some(b) if b.entry_id != a.entry_id => Ok(vec![a, b.clone()]),
                    _ => Err("the previously selected take is gone".into()),
                },
                _ => Err(
                    "nothing to compare: mark two takes (m), or select one after another".into(),
                ),
            }
        };
        match pick {
            Ok(t) if t.len() == 2 && t[0].entry_id == t[1].entry_id => self.error(format!(
                "{} twice: :ab compares two different takes",
                crate::text::sanitize(t[0].short_id())
            )),
            Ok(t) if t.len() == 2 => {
                let rows = crate::diff::rows(&t[0], &t[1]);
                self.mode = Mode::Compare(Compare {
                    takes: [t[0].clone(), t[1].clone()],
                    heard: 0,
                    rows,
                    level_match: false,
                    scroll: 0,
                });
            }
            Ok(_) => self.error("mark exactly two takes to compare them"),
            Err(e) => self.error(e),
        }
        vec![]
    }

    /// Loudness matching of `c`: the gain that plays the heard take at the
    /// integrated loudness (LUFS) of the quieter one, or why there is none
    /// yet (or at all).
    pub fn level(&self, c: &Compare) -> LevelMatch {
        match self.level_by_lufs(c) {
            // Takes too short for a gated measure: their RMS.
            LevelMatch::Unavailable(_) if self.level_by_rms(c).is_some() => {
                LevelMatch::Gain(self.level_by_rms(c).expect("just checked"))
            }
            other => other,
        }
    }

    /// What loudness matching goes by for `c`: `LUFS`, or `RMS` when a
    /// take is too short for integrated loudness.
    pub fn level_basis(&self, c: &Compare) -> &'static str {
        match self.level_by_lufs(c) {
            LevelMatch::Gain(_) => "LUFS",
            _ => "RMS",
        }
    }

    fn level_by_rms(&self, c: &Compare) -> Option<f32> {
        let mut rms = [0f32; 2];
        for (i, e) in c.takes.iter().enumerate() {
            match self.waves.peaks.get(&e.entry_id) {
                Some(super::PeakState::Ready(p)) if p.rms > 0.0 => rms[i] = p.rms,
                _ => return None,
            }
        }
        Some(rms[0].min(rms[1]) / rms[c.heard])
    }

    fn level_by_lufs(&self, c: &Compare) -> LevelMatch {
        let mut lufs = [0f64; 2];
        for (i, e) in c.takes.iter().enumerate() {
            let name = ["A", "B"][i];
            match self.analysis.of(&e.entry_id) {
                Some(m) => match m.lufs {
                    Some(l) => lufs[i] = l,
                    None => {
                        return LevelMatch::Unavailable(format!(
                            "{name} has no integrated loudness (silent, or shorter than 0.4 s)"
                        ))
                    }
                },
                None => match self.analysis.failed.get(&e.entry_id) {
                    Some(why) => {
                        return LevelMatch::Unavailable(format!(
                            "{name} cannot be measured: {}",
                            crate::text::sanitize(why)
                        ))
                    }
                    None => return LevelMatch::Reading,
                },
            }
        }
        let db = lufs[0].min(lufs[1]) - lufs[c.heard];
        LevelMatch::Gain(10f64.powf(db / 20.0) as f32)
    }

    /// The gain loudness matching applies (`None` until both takes are
    /// read, or when it cannot be done).
    pub fn level_gain(&self, c: &Compare) -> Option<f32> {
        match self.level(c) {
            LevelMatch::Gain(g) => Some(g),
            _ => None,
        }
    }

    /// The player's gain for the A/B view as it is now.
    pub(super) fn gain_effect(&self, c: &Compare) -> Effect {
        let g = if c.level_match {
            self.level_gain(c).unwrap_or(1.0)
        } else {
            1.0
        };
        Effect::Player(PlayerCmd::SetGain(g))
    }

    pub(super) fn run_compare(&mut self, cmd: Command) -> Vec<Effect> {
        let Mode::Compare(mut c) = std::mem::replace(&mut self.mode, Mode::Normal) else {
            return vec![];
        };
        match cmd {
            Command::Close | Command::Cancel => {
                vec![Effect::Player(PlayerCmd::SetGain(1.0))]
            }
            // The bar comes back here when done.
            Command::CommandBar => {
                self.bar.return_to = Some(Mode::Compare(c));
                self.open_bar()
            }
            cmd => {
                let fx = self.compare_command(&mut c, cmd);
                if self.mode == Mode::Normal {
                    self.mode = Mode::Compare(c);
                }
                fx
            }
        }
    }

    fn compare_command(&mut self, c: &mut Compare, cmd: Command) -> Vec<Effect> {
        if let Some(edit) = Self::edit_of(&cmd) {
            return self.annotate(vec![c.heard_take().entry_id.clone()], edit);
        }
        match cmd {
            Command::AbSwitch => {
                c.heard = 1 - c.heard;
                let status = &self.player.status;
                let playing = status
                    .id
                    .as_ref()
                    .is_some_and(|p| c.takes.iter().any(|t| &t.entry_id == p))
                    && status.state != PlayState::Idle;
                let mut fx = vec![self.gain_effect(c)];
                let e = c.heard_take().clone();
                if playing {
                    match self.checked_path(&e, &e.audio_file()) {
                        Ok(path) => fx.push(Effect::Player(PlayerCmd::Switch {
                            id: e.entry_id.clone(),
                            dir: self.store.dir().to_path_buf(),
                            path,
                            peak: self.waves.sample_peak(&e.entry_id),
                        })),
                        Err(why) => self.error(format!("cannot play {}: {why}", e.short_id())),
                    }
                }
                fx
            }
            Command::AbLevel => {
                c.level_match = !c.level_match;
                let fx = vec![self.gain_effect(c)];
                if c.level_match {
                    match self.level(c) {
                        LevelMatch::Reading => {
                            self.info("loudness matching waits for both waveforms")
                        }
                        LevelMatch::Unavailable(why) => {
                            self.info(format!("loudness matching is off: {why}"))
                        }
                        LevelMatch::Gain(_) => {}
                    }
                }
                fx
            }
            Command::Play(_) | Command::Accept => {
                let mut fx = vec![self.gain_effect(c)];
                let id = c.heard_take().entry_id.clone();
                fx.extend(self.play(&id));
                fx
            }
            Command::Down => {
                c.scroll = (c.scroll + 1).min(c.rows.len().saturating_sub(1));
                vec![]
            }
            Command::Spectrogram => self.toggle_spectrogram(),
            Command::Up => {
                c.scroll = c.scroll.saturating_sub(1);
                vec![]
            }
            other @ (Command::Pause
            | Command::Stop
            | Command::Seek(_)
            | Command::Volume { .. }
            | Command::Loop
            | Command::Quit) => self.run_normal(other),
            _ => {
                self.info("not in the A/B view: Esc closes it");
                vec![]
            }
        }
    }
}
