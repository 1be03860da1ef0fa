//! Playing takes (the path checked here, opened by the player thread), what
//! the player reports, and the waveforms a screen needs (asked of the peaks
//! worker: the selected take first, then the rows shown).

use super::{App, Cause, Effect, Mode};
use crate::peaks::Peaks;
use crate::playback::{PlayState, PlayerCmd, PlayerError, PlayerEvent, Status};
use crate::store::paths::RelPath;
use crate::store::{FileState, HistoryEntry};
use crate::ui::event::{PeakFailure, PeakJob, PeaksDone};
use std::collections::HashMap;
use std::sync::Arc;

/// What the player reports, and how it is used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Player {
    pub status: Status,
    /// Moving the selection plays the take it lands on.
    pub autoplay: bool,
}

/// A take's waveform as the list and panel show it.
#[derive(Debug, Clone, PartialEq)]
pub enum PeakState {
    Pending,
    Ready(Arc<Peaks>),
    Failed(PeakFailure),
}

/// Waveforms and file states, by take id.
#[derive(Debug, Default)]
pub struct Waves {
    pub peaks: HashMap<String, PeakState>,
    /// The selected take's audio and thumbnail files, as last looked at.
    pub files: HashMap<String, (FileState, FileState)>,
    /// The last request, not to send the same twice.
    last: Vec<PeakJob>,
}

impl Waves {
    /// The peaks worker's answer about a take.
    pub(super) fn arrived(&mut self, p: PeaksDone) {
        let state = match p.peaks {
            Ok(pk) => PeakState::Ready(pk),
            Err(f) => PeakState::Failed(f),
        };
        self.peaks.insert(p.id.clone(), state);
        if let Some(files) = p.files {
            self.files.insert(p.id, files);
        }
    }

    /// The take's sample peak (0..1) from its waveform, when read.
    pub(super) fn sample_peak(&self, id: &str) -> Option<f32> {
        match self.peaks.get(id) {
            Some(PeakState::Ready(p)) => Some(p.sample_peak()),
            _ => None,
        }
    }

    /// The take changed (or left): its waveform and files are read again.
    pub(super) fn forget(&mut self, id: &str) {
        self.peaks.remove(id);
        self.files.remove(id);
    }

    pub(super) fn keep_only(&mut self, keep: impl Fn(&str) -> bool) {
        self.peaks.retain(|id, _| keep(id));
    }
}

impl App {
    pub(crate) fn is_playing(&self, id: &str) -> bool {
        let s = &self.player.status;
        s.state != PlayState::Idle && s.id.as_deref() == Some(id)
    }

    pub(super) fn on_player(&mut self, p: PlayerEvent) -> Vec<Effect> {
        match p {
            PlayerEvent::Status(s) => {
                if s.state == PlayState::Playing {
                    self.messages.clear_cause(Cause::Device);
                }
                self.player.status = s;
            }
            PlayerEvent::Error(e @ PlayerError::NoDevice(_)) => {
                self.messages.error_about(Cause::Device, e.to_string())
            }
            PlayerEvent::Error(e) => self.error(e.to_string()),
            PlayerEvent::Note(n) => self.info(n),
        }
        vec![]
    }

    pub(super) fn play_selected(&mut self) -> Vec<Effect> {
        match self.selected_entry().map(|e| e.entry_id.clone()) {
            Some(id) => self.play(&id),
            None => vec![],
        }
    }

    /// `rel` (one of `e`'s paths) under the rules that need no file system.
    pub(super) fn checked_path(&self, e: &HistoryEntry, rel: &str) -> Result<RelPath, String> {
        self.store.claims().check(&e.entry_id, rel)
    }

    /// Plays a take: its path is checked here (no I/O), the player opens it.
    pub(super) fn play(&mut self, id: &str) -> Vec<Effect> {
        let Some(e) = self.store.get_exact(id).cloned() else {
            return vec![];
        };
        match self.checked_path(&e, &e.audio_file()) {
            Ok(path) => vec![Effect::Player(PlayerCmd::Open {
                id: e.entry_id.clone(),
                dir: self.store.dir().to_path_buf(),
                path,
                peak: self.waves.sample_peak(&e.entry_id),
            })],
            Err(why) => {
                self.error(format!(
                    "cannot play {}: audio_file '{}': {why}",
                    e.short_id(),
                    e.audio_file()
                ));
                vec![]
            }
        }
    }

    /// `:play [ID]`: the given take (selected too when shown), else the
    /// selected one.
    pub(super) fn play_command(&mut self, id: Option<String>) -> Vec<Effect> {
        let Some(p) = id else {
            return self.play_selected();
        };
        match self.store.get(&p).map(|e| e.entry_id.clone()) {
            Ok(id) => {
                if let Some(row) = self.row_of(&id) {
                    self.list.selected = row;
                    self.scroll_into_view();
                }
                self.play(&id)
            }
            Err(e) => {
                self.error(e.to_string());
                vec![]
            }
        }
    }

    pub(super) fn seek(&mut self, to: crate::playback::SeekTo) -> Vec<Effect> {
        if self.player.status.state == PlayState::Idle {
            self.info("nothing is playing");
            return vec![];
        }
        vec![Effect::Player(PlayerCmd::Seek(to))]
    }

    pub(super) fn set_volume(&mut self, value: i32, relative: bool) -> Vec<Effect> {
        let v = if relative {
            self.player.status.volume as i32 + value
        } else {
            value
        };
        let v = v.clamp(0, 150) as u16;
        self.info(format!("volume {v}%"));
        vec![Effect::Player(PlayerCmd::SetVolume(v))]
    }

    pub(super) fn toggle_loop(&mut self) -> Vec<Effect> {
        let on = !self.player.status.looping;
        self.info(if on { "loop on" } else { "loop off" });
        vec![Effect::Player(PlayerCmd::SetLoop(on))]
    }

    pub(super) fn toggle_autoplay(&mut self) -> Vec<Effect> {
        self.player.autoplay = !self.player.autoplay;
        self.info(if self.player.autoplay {
            "autoplay on"
        } else {
            "autoplay off"
        });
        vec![]
    }

    /// Waveforms (and the panel's files) still wanted: the A/B view's two
    /// takes, the selected take, then the rows shown. Rows still pending
    /// are asked for again (a newer request replaces the worker's queue, so
    /// a row scrolled past may have been dropped from it); the same request
    /// is never sent twice.
    pub(super) fn wanted_peaks(&mut self) -> Vec<Effect> {
        let wanted = |peaks: &HashMap<String, PeakState>, id: &str| {
            matches!(peaks.get(id), None | Some(PeakState::Pending))
        };
        let claims = self.store.claims();
        let job = |e: &HistoryEntry, thumbnail: bool| PeakJob {
            id: e.entry_id.clone(),
            audio: claims.check(&e.entry_id, &e.audio_file()),
            thumbnail: thumbnail.then(|| claims.check(&e.entry_id, &e.thumbnail_file())),
        };
        let peaks = &self.waves.peaks;
        let mut jobs: Vec<PeakJob> = Vec::new();
        if let Mode::Compare(c) = &self.mode {
            for e in &c.takes {
                if wanted(peaks, &e.entry_id) {
                    jobs.push(job(e, false));
                }
            }
        }
        if let Some(e) = self.selected_entry() {
            let need = wanted(peaks, &e.entry_id) || !self.waves.files.contains_key(&e.entry_id);
            if need && !jobs.iter().any(|j| j.id == e.entry_id) {
                jobs.push(job(e, true));
            }
        }
        let rows = &self.list.view.rows;
        let shown = self.list.offset..(self.list.offset + self.page()).min(rows.len());
        for e in &rows[shown] {
            if wanted(peaks, &e.entry_id) && !jobs.iter().any(|j| j.id == e.entry_id) {
                jobs.push(job(e, false));
            }
        }
        if jobs.is_empty() || jobs == self.waves.last {
            return vec![];
        }
        for j in &jobs {
            self.waves
                .peaks
                .entry(j.id.clone())
                .or_insert(PeakState::Pending);
        }
        self.waves.last = jobs.clone();
        vec![Effect::Peaks(jobs)]
    }
}
