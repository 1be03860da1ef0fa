//! What the commands print. Every text that comes from the index (ids,
//! names, paths, reasons that quote them) goes through `text::sanitize`;
//! JSON goes through the writer that escapes what acts on a terminal.

use crate::store::annotations::{AnnotationFile, Annotations};
use crate::store::journal::{Action, Outcome};
use crate::store::repair::{RepairPlan, RepairReport};
use crate::store::trash::{DeleteReport, Listing, UndoReport};
use crate::store::{Claims, Field, FileState, HistoryEntry};
use crate::text::{
    age, count, duration, latent_summary, local_time, pad, sanitize, size, truncate,
};
use anyhow::Result;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

fn s(x: &str) -> String {
    sanitize(x).into_owned()
}

fn path_text(p: &Path) -> String {
    s(&p.display().to_string())
}

fn describe_file(dir: &Path, claims: &Claims, id: &str, rel: &str) -> String {
    match crate::store::file_state(dir, claims, id, rel) {
        FileState::Present { path, bytes } => format!("{}  ({})", path_text(&path), size(bytes)),
        FileState::Missing { path } => format!("{}  (missing)", path_text(&path)),
        FileState::Invalid { reason } => format!("INVALID: '{}': {}", s(rel), s(&reason)),
    }
}

/// A file line of `delete --dry-run`: what would happen to it.
pub(crate) fn describe_for_delete(
    dir: &Path,
    claims: &Claims,
    e: &HistoryEntry,
    field: Field,
    rel: &str,
    verb: &str,
) -> String {
    match crate::store::file_state(dir, claims, &e.entry_id, rel) {
        FileState::Present { path, bytes } => {
            format!(
                "{}: {} ({}), would {verb}",
                field.name(),
                path_text(&path),
                size(bytes)
            )
        }
        FileState::Missing { path } => {
            format!("{}: {} (already missing)", field.name(), path_text(&path))
        }
        FileState::Invalid { reason } => format!(
            "{}: '{}' would be left alone: {}",
            field.name(),
            s(rel),
            s(&reason)
        ),
    }
}

pub(crate) fn print_table(
    out: &mut impl Write,
    list: &[HistoryEntry],
    notes: &Annotations,
) -> Result<()> {
    let now = chrono::Utc::now();
    writeln!(
        out,
        "{:<8}  {:<16}  {:>8}  {:<22}  {:<12}  {:>12}  {:>7}  {:>6}  {:<9}  KEEP",
        "ID", "TIME", "AGE", "MODEL", "PRESET", "SEED", "DUR", "RATE", "STEREO"
    )?;
    for e in list {
        let keep = notes.get(&e.entry_id).map(|a| a.mark()).unwrap_or_default();
        writeln!(
            out,
            "{}  {:<16}  {:>8}  {}  {}  {:>12}  {:>7}  {:>6}  {}  {keep}",
            pad(&s(e.short_id()), 8),
            local_time(e.time_us(), &e.timestamp()),
            age(e.time_us(), now),
            pad(&truncate(&s(e.model_name()), 22), 22),
            pad(&truncate(&s(e.preset_name()), 12), 12),
            truncate(e.seed_text().as_ref(), 12),
            duration(e.duration_s),
            e.sample_rate,
            pad(&s(e.stereo_mode()), 9)
        )?;
    }
    Ok(())
}

/// A take as `show --json` prints it: stored fields, annotations, and an
/// `analysis` member when it has been measured.
pub(super) fn entry_json(
    e: &HistoryEntry,
    notes: &AnnotationFile,
    measured: &crate::analysis::Measured,
) -> Value {
    let mut v = notes.entry_json(e);
    if let (Value::Object(o), Some(m)) = (&mut v, measured.get(&e.entry_id)) {
        o.insert("analysis".into(), m.to_json());
    }
    v
}

pub(crate) fn print_json_list(
    out: &mut impl Write,
    list: &[HistoryEntry],
    notes: &AnnotationFile,
    measured: &crate::analysis::Measured,
) -> Result<()> {
    let arr = Value::Array(
        list.iter()
            .map(|e| entry_json(e, notes, measured))
            .collect(),
    );
    writeln!(out, "{}", crate::store::pyjson::to_output_json(&arr))?;
    Ok(())
}

pub(crate) fn print_entry(
    out: &mut impl Write,
    dir: &Path,
    claims: &Claims,
    e: &HistoryEntry,
) -> Result<()> {
    let now = chrono::Utc::now();
    writeln!(out, "entry_id:         {}", s(&e.entry_id))?;
    writeln!(
        out,
        "timestamp:        {}  ({}, {})",
        s(&e.timestamp()),
        local_time(e.time_us(), &e.timestamp()),
        age(e.time_us(), now)
    )?;
    writeln!(out, "model_id:         {}", s(e.model_id()))?;
    writeln!(out, "model_name:       {}", s(e.model_name()))?;
    writeln!(
        out,
        "slider_positions: {}",
        e.slider_positions()
            .map_or("null".into(), |v| format!("{v:?}"))
    )?;
    writeln!(out, "n_components:     {}", e.n_components)?;
    writeln!(out, "seed:             {}", e.seed())?;
    writeln!(
        out,
        "duration_s:       {}",
        crate::store::pyjson::float_repr(e.duration_s)
    )?;
    writeln!(out, "sample_rate:      {}", e.sample_rate)?;
    writeln!(out, "stereo_mode:      {}", s(e.stereo_mode()))?;
    writeln!(out, "preset_name:      {}", s(e.preset_name()))?;
    writeln!(
        out,
        "audio_file:       {}",
        describe_file(dir, claims, &e.entry_id, &e.audio_file())
    )?;
    writeln!(
        out,
        "thumbnail_file:   {}",
        describe_file(dir, claims, &e.entry_id, &e.thumbnail_file())
    )?;
    let q = crate::store::pyjson::to_compact(&Value::Object(e.quality_score.map()));
    writeln!(out, "quality_score:    {}", s(&q))?;
    match e.latent_vector() {
        None => writeln!(out, "latent_vector:    null")?,
        Some(v) => writeln!(out, "latent_vector:    {}", latent_summary(v))?,
    }
    for (k, v) in e.extra() {
        let text = crate::store::pyjson::to_compact(v);
        writeln!(out, "{:<17} {}", format!("{}:", s(k)), s(&text))?;
    }
    Ok(())
}

pub(crate) fn print_delete(out: &mut impl Write, r: &DeleteReport, permanent: bool) -> Result<()> {
    for e in &r.removed {
        writeln!(out, "deleted {}", s(&e.id))?;
    }
    for (id, path, why) in &r.left {
        writeln!(out, "  left {} of {}: {}", s(path), s(id), s(why))?;
    }
    match &r.batch {
        Some(b) if !r.removed.is_empty() => writeln!(
            out,
            "{} and {} moved to the trash ({}); `genhist undo` restores them",
            count(r.removed.len(), "take", "takes"),
            count(r.files.len(), "file", "files"),
            s(b)
        )?,
        _ if permanent && !r.removed.is_empty() => writeln!(
            out,
            "{} and {} removed for good",
            count(r.removed.len(), "take", "takes"),
            count(r.files.len(), "file", "files")
        )?,
        _ => {}
    }
    Ok(())
}

pub(crate) fn print_undo(out: &mut impl Write, r: &UndoReport) -> Result<()> {
    for e in &r.restored {
        writeln!(out, "restored {}", s(&e.id))?;
    }
    for id in &r.already_present {
        writeln!(
            out,
            "left {}: the history has a take with this id again",
            s(id)
        )?;
    }
    writeln!(
        out,
        "restored {} and {} from {}",
        count(r.restored.len(), "take", "takes"),
        count(r.files, "file", "files"),
        s(&r.batch)
    )?;
    for (path, why, at) in &r.left {
        match at {
            Some(at) => writeln!(
                out,
                "could not put back {}: {}; it stays in {}",
                s(path),
                s(why),
                path_text(at)
            )?,
            None => writeln!(
                out,
                "could not put back {}: {}; the trash does not hold it either",
                s(path),
                s(why)
            )?,
        }
    }
    if let Some(why) = &r.annotations_pending {
        writeln!(
            out,
            "the ratings, tags and notes of the restored takes could not be written yet ({}); \
             they are kept in the trash and the next genhist command puts them back",
            s(why)
        )?;
    }
    Ok(())
}

/// An undo's or a redo's outcome; false when part of it could not be done
/// (files left in the trash, annotations still pending).
pub(crate) fn print_outcome(out: &mut impl Write, o: &Outcome, verb: &str) -> Result<bool> {
    match o {
        Outcome::Annotations { action } => {
            writeln!(out, "{verb} {}", action.describe())?;
            Ok(true)
        }
        Outcome::AlreadyDone { action } => {
            let (done, how) = if verb == "redid" {
                ("redone", "redo")
            } else {
                ("undone", "undo")
            };
            writeln!(
                out,
                "the {} was already {done} (an interrupted {how}, finished now)",
                action.describe()
            )?;
            Ok(true)
        }
        Outcome::Restored { action, report } => {
            print_undo(out, report)?;
            writeln!(out, "{verb} {}", action.describe())?;
            Ok(report.left.is_empty() && report.annotations_pending.is_none())
        }
        Outcome::Deleted { action, report } => {
            print_delete(out, report, false)?;
            writeln!(out, "{verb} {}", action.describe())?;
            Ok(report.left.is_empty())
        }
    }
}

/// `undo --list`: the journal, newest first; undone actions (redo brings
/// them back) are marked.
pub(crate) fn print_journal(out: &mut impl Write, actions: &[Action]) -> Result<()> {
    if actions.is_empty() {
        writeln!(out, "nothing to undo or redo")?;
        return Ok(());
    }
    for a in actions {
        let us = chrono::DateTime::parse_from_rfc3339(&a.at)
            .ok()
            .map(|t| t.timestamp_micros());
        let when = s(&local_time(us, &a.at));
        writeln!(
            out,
            "{:<6}  {when:<16}  {}",
            if a.undone { "redo" } else { "undo" },
            a.describe()
        )?;
    }
    Ok(())
}

pub(crate) fn print_trash(out: &mut impl Write, listing: &Listing) -> Result<()> {
    for name in &listing.skipped {
        writeln!(out, "skipped {}: not a trash batch", s(name))?;
    }
    let batches = &listing.batches;
    if batches.is_empty() {
        writeln!(out, "the trash is empty")?;
        return Ok(());
    }
    let now = chrono::Utc::now();
    for b in batches {
        let when = b
            .created
            .map(|t| age(Some(t.timestamp_micros()), now))
            .unwrap_or_else(|| "?".into());
        let Some(m) = &b.manifest else {
            writeln!(
                out,
                "{}  {when}  (manifest unreadable)  {}",
                s(&b.name),
                size(b.bytes)
            )?;
            continue;
        };
        let state = if b.undoable {
            ""
        } else {
            "  leftover files, not undoable"
        };
        writeln!(
            out,
            "{}  {when}  {:?}  {}  {}{state}",
            s(&b.name),
            m.kind,
            count(m.entries.len(), "take", "takes"),
            size(b.bytes)
        )?;
        for e in m.entries.iter().take(10) {
            let name = crate::store::read::entry_from_text(e.id.clone(), e.text.as_bytes(), true)
                .map(|x| x.model_name().to_string())
                .unwrap_or_default();
            let mark = if e.restored { " (restored)" } else { "" };
            writeln!(out, "  {}  {}{mark}", s(&e.id), s(&name))?;
        }
        if m.entries.len() > 10 {
            writeln!(out, "  … and {} more", m.entries.len() - 10)?;
        }
    }
    Ok(())
}

pub(crate) fn print_repair(
    out: &mut impl Write,
    plan: &RepairPlan,
    done: Option<&RepairReport>,
) -> Result<()> {
    let verb = if done.is_some() {
        "moved to the trash"
    } else {
        "would move to the trash"
    };
    let came_back: &[String] = done.map_or(&[], |r| &r.came_back);
    let mut moved = 0;
    for (id, audio) in &plan.missing {
        if came_back.contains(id) {
            writeln!(out, "kept {} (its WAV {} is back)", s(id), s(audio))?;
        } else {
            moved += 1;
            writeln!(out, "{verb}: {} (WAV missing: {})", s(id), s(audio))?;
        }
    }
    for p in &plan.orphan_wavs {
        writeln!(out, "orphan WAV (left alone): {}", path_text(p))?;
    }
    for p in &plan.orphan_pngs {
        writeln!(out, "orphan PNG (left alone): {}", path_text(p))?;
    }
    if !plan.stale_annotations.is_empty() {
        let verb = if done.is_some() {
            "dropped"
        } else {
            "would drop"
        };
        writeln!(
            out,
            "{verb} annotations of {}",
            count(
                plan.stale_annotations.len(),
                "take that no longer exists",
                "takes that no longer exist"
            )
        )?;
    }
    writeln!(
        out,
        "{verb}: {} with a missing WAV{}; left alone: {}, {}",
        count(moved, "take", "takes"),
        if done.is_some() && moved > 0 {
            " (`genhist undo` restores)"
        } else {
            ""
        },
        count(plan.orphan_wavs.len(), "orphan WAV", "orphan WAVs"),
        count(plan.orphan_pngs.len(), "orphan PNG", "orphan PNGs"),
    )?;
    Ok(())
}

pub(crate) fn print_stats(
    out: &mut impl Write,
    dir: &Path,
    st: &crate::store::Stats,
    json: bool,
) -> Result<()> {
    let trash = crate::store::trash::list(dir).unwrap_or_default();
    let (trash_bytes, trash_takes) = trash.totals();
    let mut models: Vec<_> = st.per_model.iter().collect();
    models.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if json {
        let mut per_model = serde_json::Map::new();
        for (m, n) in &models {
            per_model.insert((*m).clone(), Value::from(**n));
        }
        let v = serde_json::json!({
            "entries": st.count,
            "unreadable": st.invalid,
            "total_bytes": st.total_bytes,
            "trash_takes": trash_takes,
            "trash_batches": trash.batches.len(),
            "trash_bytes": trash_bytes,
            "newest": st.newest,
            "oldest": st.oldest,
            "per_model": per_model,
        });
        writeln!(out, "{}", crate::store::pyjson::to_output_json(&v))?;
        return Ok(());
    }
    writeln!(out, "entries:    {}", st.count)?;
    if st.invalid > 0 {
        writeln!(out, "unreadable: {}", st.invalid)?;
    }
    writeln!(
        out,
        "total size: {} ({} bytes)",
        size(st.total_bytes),
        st.total_bytes
    )?;
    writeln!(
        out,
        "trash:      {} in {}, {}",
        count(trash_takes, "take", "takes"),
        count(trash.batches.len(), "batch", "batches"),
        size(trash_bytes)
    )?;
    if let (Some(o), Some(n)) = (&st.oldest, &st.newest) {
        let p = crate::store::time::parse_timestamp_us;
        writeln!(out, "newest:     {}", local_time(p(n), n))?;
        writeln!(out, "oldest:     {}", local_time(p(o), o))?;
    }
    writeln!(out, "per model:")?;
    for (m, n) in models {
        writeln!(out, "  {n:>7}  {}", s(m))?;
    }
    Ok(())
}
