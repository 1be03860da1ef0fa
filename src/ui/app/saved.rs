//! What the browser remembers of a history directory between runs: the
//! volume, the sort and the filter, in `DIR/.genhist/browser.json` (never
//! in `history.json`). Written by the store worker when one changes; read
//! when the browser opens (`genhist --fresh` starts from the defaults and
//! forgets them).

use super::{App, Effect};
use crate::playback::PlayerCmd;
use crate::query::{Filter, Sort, SortKey};
use crate::ui::event::StoreJob;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file, inside `.genhist/`.
const SAVED_FILE: &str = "browser.json";

/// What is remembered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<u16>,
    /// As `:sort` takes it (`-duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// As `:filter` takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl Saved {
    /// Where the browser's state of the history in `dir` is kept.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(crate::store::GENHIST_DIR).join(SAVED_FILE)
    }
}

/// The remembered state of `dir` (none when absent; a file that cannot be
/// read or parsed is said, and the defaults used).
pub(crate) fn load(dir: &Path) -> Result<Saved, String> {
    let path = Saved::path(dir);
    match crate::fsutil::read_regular_bounded(&path, 1 << 16) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            format!(
                "{} cannot be read ({e}); the browser starts with the defaults",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Saved::default()),
        Err(e) => Err(format!(
            "{}: {e}; the browser starts with the defaults",
            path.display()
        )),
    }
}

/// Writes the state (atomically; `.genhist/` is made when missing).
pub(crate) fn save(dir: &Path, s: &Saved) -> std::io::Result<()> {
    let root = crate::fsutil::Dir::open(dir)?;
    root.sub_or_create(crate::store::GENHIST_DIR)?;
    let text = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
    crate::fsutil::write_file_here(&Saved::path(dir), &text)
}

impl App {
    /// The state worth remembering now.
    fn saved_now(&self) -> Saved {
        let spec = &self.list.view.spec;
        // A likeness order names a take: it is not carried to the next run.
        let sort = match spec.sort.key {
            SortKey::Similar(_) => None,
            _ if spec.sort.is_default() => None,
            _ => Some(spec.sort.label()),
        };
        Saved {
            volume: (self.player.status.volume != 100).then_some(self.player.status.volume),
            sort,
            filter: (!spec.filter.is_empty()).then(|| spec.filter.text.clone()),
        }
    }

    /// Puts back what was remembered: the sort and filter now, the volume
    /// with the first effects.
    pub(crate) fn restore(&mut self, s: Saved) {
        let mut spec = self.list.view.spec.clone();
        if let Some(sort) = s.sort.as_deref().and_then(|t| Sort::parse(t).ok()) {
            spec.sort = sort;
            self.sort_restored = true;
        }
        if let Some(f) = s.filter.as_deref().and_then(|t| Filter::parse(t).ok()) {
            spec.filter = f;
        }
        let fx = self.set_spec(spec);
        self.queued.extend(fx);
        // A new run starts at the top of the list, however it is ordered.
        self.list.selected = 0;
        self.list.offset = 0;
        if let Some(v) = s.volume {
            self.player.status.volume = v.min(150);
            self.queued
                .push(Effect::Player(PlayerCmd::SetVolume(v.min(150))));
        }
        self.saved = s;
    }

    /// A save of the state when it changed since the last one.
    pub(super) fn save_if_changed(&mut self) -> Option<Effect> {
        let now = self.saved_now();
        if now == self.saved {
            return None;
        }
        self.saved = now.clone();
        Some(Effect::Store(StoreJob::SaveState(now)))
    }
}
