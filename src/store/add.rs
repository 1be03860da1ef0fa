//! Adding takes: the seed's order (WAV, thumbnail, index), safe against
//! being killed at any moment. The WAV and PNG are written under temporary
//! names (`audio/.<id>.wav.genhist-tmp`) while a marker,
//! `.genhist/adding/<id>`, locked for as long as the adder lives, says the
//! take is on its way; they get their real names inside the index change.
//! If the adder dies, the next change removes what it wrote, and only that,
//! unless the index has the entry. A WAV genhist did not write is never
//! removed: the Python tool writes its WAV before its index entry, so an
//! unreferenced WAV may be a take being added right now.

use super::dir::{HistoryDir, GENHIST_DIR};
use super::entry::{self, HistoryEntry};
use super::error::StoreError;
use super::rewrite::Plan;
use super::txn::Txn;
use super::{pyjson, NewEntry};
use crate::audio::BitDepth;
use crate::audio::Frames;
use crate::fsutil::{self, Dir, Marker};
use std::io::Write;
use std::path::Path;

/// Where the markers of adds in progress are, inside `.genhist/`.
pub(crate) const ADDING_DIR: &str = "adding";

fn staging_name(id: &str, ext: &str) -> String {
    format!(".{id}.{ext}.genhist-tmp")
}

/// The entry's text as the Python tool writes it inside `entries`.
pub(crate) fn entry_text(e: &HistoryEntry) -> String {
    let mut s = String::new();
    pyjson::write_value(&mut s, &e.to_json(), 2);
    s
}

/// An entry to add, as its id and its text in the index (a fraction of the
/// memory of the entry itself: what `genhist demo` holds for a million).
pub(crate) struct EntryText {
    id: String,
    text: String,
}

impl EntryText {
    pub(crate) fn of(e: &HistoryEntry) -> EntryText {
        let mut text = entry_text(e);
        text.shrink_to_fit();
        EntryText {
            id: e.entry_id.clone(),
            text,
        }
    }
}

/// Writes `fill`'s output to a new file `name` in `dir`, synced; removes it
/// again on failure.
fn write_new(
    dir: &Dir,
    name: &str,
    fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> Result<(), String>,
) -> Result<(), StoreError> {
    let path = dir.join(name);
    let f = dir
        .create_new(name)
        .map_err(|e| StoreError::io("write", &path, e))?;
    let mut w = std::io::BufWriter::new(&f);
    let result = fill(&mut w)
        .and_then(|()| w.flush().map_err(|e| e.to_string()))
        .and_then(|()| {
            drop(w);
            f.sync_all().map_err(|e| e.to_string())
        });
    result.map_err(|message| {
        let _ = dir.unlink(name);
        StoreError::Audio { path, message }
    })
}

/// Adds a generation: its WAV, its thumbnail, then the index entry in the
/// change `begin` starts. If any step fails, what was written is removed
/// and the index is unchanged.
pub(crate) fn add(
    hd: &HistoryDir,
    audio: &mut dyn Frames,
    depth: BitDepth,
    new: NewEntry,
    begin: impl FnOnce() -> Result<Txn, StoreError>,
) -> Result<HistoryEntry, StoreError> {
    if audio.channels() == 0 || audio.sample_rate() == 0 {
        return Err(StoreError::BadInput(
            "audio has no channels or no sample rate".into(),
        ));
    }
    if audio.sample_rate() > crate::wav::MAX_RATE {
        return Err(StoreError::BadInput(format!(
            "a sample rate of {} Hz is above what genhist writes ({} Hz)",
            audio.sample_rate(),
            crate::wav::MAX_RATE
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let root = Dir::open(hd.path()).map_err(|e| StoreError::io("open", hd.path(), e))?;
    let adding = open_sub(&open_sub(&root, GENHIST_DIR)?, ADDING_DIR)?;
    let marker = Marker::create(&adding, &id, b"")
        .map_err(|e| StoreError::io("write", &adding.join(&id), e))?;
    let result = add_marked(&root, &id, audio, depth, new, begin);
    // Done, or failed and cleaned up: either way nothing is under way.
    if let Err(e) = marker.finish() {
        tracing::warn!("removing the add marker of {id}: {e}");
    }
    result
}

fn open_sub(d: &Dir, name: &str) -> Result<Dir, StoreError> {
    d.sub_or_create(name)
        .map_err(|e| StoreError::io("create", &d.join(name), e))
}

/// [`add`]'s work while its marker says the take is on its way.
fn add_marked(
    root: &Dir,
    id: &str,
    audio: &mut dyn Frames,
    depth: BitDepth,
    new: NewEntry,
    begin: impl FnOnce() -> Result<Txn, StoreError>,
) -> Result<HistoryEntry, StoreError> {
    let audio_dir = open_sub(root, "audio")?;
    let thumb_dir = open_sub(root, "thumbnails")?;
    let (wav_tmp, png_tmp) = (staging_name(id, "wav"), staging_name(id, "png"));
    let (wav, png) = (format!("{id}.wav"), format!("{id}.png"));

    // One pass over the audio: the WAV is written and the thumbnail's
    // columns gathered as it streams by.
    let (channels, rate) = (audio.channels(), audio.sample_rate());
    let mut thumb =
        crate::thumbnail::Thumb::new(channels, audio.frames(), crate::thumbnail::THUMB_WIDTH);
    let mut frames = 0;
    write_new(&audio_dir, &wav_tmp, |w| {
        frames = crate::audio::write_frames_to(w, audio, depth, |b| thumb.push(b))
            .map_err(|e| crate::audio::describe_hound_error(&e))?;
        Ok(())
    })?;
    if let Err(e) = write_new(&thumb_dir, &png_tmp, |w| thumb.write_to(w)) {
        let _ = audio_dir.unlink(&wav_tmp);
        return Err(e);
    }

    let timestamp = new.timestamp.unwrap_or_else(super::now_iso);
    let entry = HistoryEntry::from_parts(entry::EntryParts {
        entry_id: id.to_string(),
        timestamp,
        model_id: new.model_id,
        model_name: new.model_name,
        slider_positions: new.slider_positions,
        n_components: new.n_components,
        seed: new.seed,
        duration_s: round_to(frames as f64 / rate as f64, 6),
        sample_rate: rate,
        stereo_mode: new
            .stereo_mode
            .unwrap_or_else(|| if channels == 1 { "mono" } else { "stereo" }.to_string()),
        preset_name: new.preset_name.unwrap_or_else(|| "custom".to_string()),
        audio_file: format!("audio/{wav}"),
        thumbnail_file: format!("thumbnails/{png}"),
        quality_score: entry::QualityScore::from_map(&new.quality_score),
        latent_vector: new.latent_vector,
    });
    let mut plan = Plan {
        append: vec![(id.to_string(), entry_text(&entry))],
        ..Plan::default()
    };
    let cleanup = || {
        for (d, names) in [
            (&audio_dir, [&wav_tmp, &wav]),
            (&thumb_dir, [&png_tmp, &png]),
        ] {
            for n in names {
                let _ = d.unlink(n);
            }
        }
    };
    let result = begin().and_then(|mut txn| {
        txn.apply(&mut plan, |_| {
            // Real names inside the change: never over anything.
            let put = |d: &Dir, from: &str, to: &str| {
                d.rename_noreplace(from, d, to)
                    .and_then(|()| d.sync())
                    .map_err(|e| StoreError::io("write", &d.join(to), e))
            };
            put(&audio_dir, &wav_tmp, &wav)?;
            put(&thumb_dir, &png_tmp, &png)
        })
        .map_err(StoreError::from)
    });
    if let Err(e) = result {
        cleanup();
        return Err(e);
    }
    Ok(entry)
}

/// Adds many index entries whose files already exist (or are deliberately
/// absent, as in a `--no-audio` demo) in one change.
pub(crate) fn add_index_entries_in(
    txn: &mut Txn,
    entries: Vec<EntryText>,
) -> Result<(), StoreError> {
    let mut plan = Plan {
        append: entries.into_iter().map(|e| (e.id, e.text)).collect(),
        ..Plan::default()
    };
    txn.apply(&mut plan, |_| Ok(()))?;
    Ok(())
}

fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Markers whose adder died (their names are the takes' ids).
fn abandoned(adding: &Dir) -> Vec<String> {
    adding
        .names()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| uuid::Uuid::parse_str(n).is_ok() && Marker::is_abandoned(adding, n))
        .collect()
}

/// True when a killed `add` left files behind in `dir`.
pub(crate) fn needs_recovery(dir: &Path) -> bool {
    Dir::open(dir)
        .and_then(|d| d.walk(&[GENHIST_DIR, ADDING_DIR], false))
        .is_ok_and(|a| !abandoned(&a).is_empty())
}

/// Removes what killed adds wrote: their staged files, and their WAV and
/// PNG under the real names when the index does not have the entry.
pub(crate) fn recover(txn: &Txn) -> Result<Vec<String>, StoreError> {
    let Some(g) = txn.genhist(false)? else {
        return Ok(Vec::new());
    };
    let Ok(adding) = g.sub(ADDING_DIR) else {
        return Ok(Vec::new());
    };
    let dead = abandoned(&adding);
    if dead.is_empty() {
        return Ok(Vec::new());
    }
    let ids = txn.index_ids()?;
    let mut removed = 0;
    for id in &dead {
        for (sub, ext) in [("audio", "wav"), ("thumbnails", "png")] {
            let Ok(d) = txn.root().sub(sub) else { continue };
            let mut names = vec![staging_name(id, ext)];
            if !ids.contains(id) {
                names.push(format!("{id}.{ext}"));
            }
            for n in names {
                let is_file = d
                    .stat(&n)
                    .ok()
                    .flatten()
                    .is_some_and(|st| fsutil::kind(&st) == rustix::fs::FileType::RegularFile);
                if is_file && d.unlink(&n).is_ok() {
                    removed += 1;
                }
            }
        }
        adding
            .unlink(id)
            .map_err(|e| StoreError::io("remove", &adding.join(id), e))?;
    }
    Ok(if removed > 0 {
        vec![format!(
            "removed {removed} file(s) of {} interrupted add(s)",
            dead.len()
        )]
    } else {
        Vec::new()
    })
}
