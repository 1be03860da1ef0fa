//! Deciding what to keep from the command line: `rate`, `reject`, `tag`,
//! `note` (annotations in `.genhist/annotations.json`, never in
//! `history.json`), `purge` (every rejected take to the trash), `diff` and
//! `similar`.

use super::report;
use crate::store::annotations::{self, AnnotationFile, Edit};
use crate::store::lite::IndexText;
use crate::store::{HistoryDir, HistoryEntry};
use crate::text::sanitize;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// `+TAG -TAG TAG` → the tags to add and to remove (one argument is one
/// tag, spaces and all; a leading `#` is not part of it).
pub(crate) fn tag_edit(changes: &[String]) -> Result<Edit> {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for c in changes {
        let (list, tag) = match c.strip_prefix('-') {
            Some(t) => (&mut remove, t),
            None => (&mut add, c.strip_prefix('+').unwrap_or(c)),
        };
        let tag = crate::ui::command::clean_tag(tag)
            .map_err(|e| anyhow::anyhow!("'{}' is not a tag: {e}", sanitize(c)))?;
        list.push(tag);
    }
    Ok(Edit::Tags { add, remove })
}

/// Applies `edit` to the take `id` (full id or prefix) and says what it is now.
pub(crate) fn annotate(
    out: &mut impl Write,
    hd: &HistoryDir,
    found: &crate::store::Found,
    edit: Edit,
) -> Result<()> {
    let e = &found.entry;
    let all = crate::store::change::annotate(
        hd,
        std::slice::from_ref(&e.entry_id),
        &edit,
        crate::store::change::Presence::Found { ident: found.ident },
    )?;
    let a = all.get(&e.entry_id).cloned().unwrap_or_default();
    writeln!(out, "{}  {}", sanitize(e.short_id()), a.summary())?;
    Ok(())
}

/// The annotations file, or a warning and none (commands that only read
/// still work when it cannot be read).
pub(crate) fn load_or_warn(dir: &Path) -> AnnotationFile {
    match annotations::load(dir) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("warning: {}", sanitize(&e.to_string()));
            AnnotationFile::default()
        }
    }
}

/// `genhist purge`: every rejected take that is still in the index.
pub(super) fn purge(
    out: &mut impl Write,
    dir: &Path,
    hd: &HistoryDir,
    t: &IndexText,
    dry_run: bool,
) -> Result<()> {
    let notes = annotations::load(dir)?;
    let typed = notes.typed();
    let (entries, _) = t.newest(None, None);
    let rejected: Vec<&HistoryEntry> = entries
        .iter()
        .filter(|e| typed.get(&e.entry_id).is_some_and(|a| a.rejected))
        .collect();
    if rejected.is_empty() {
        writeln!(out, "no rejected takes")?;
        return Ok(());
    }
    if dry_run {
        for e in &rejected {
            writeln!(
                out,
                "would move to the trash: {}  {}",
                sanitize(&e.entry_id),
                sanitize(e.model_name())
            )?;
        }
        writeln!(
            out,
            "{} would go to the trash (`genhist undo` would bring them back)",
            crate::text::count(rejected.len(), "rejected take", "rejected takes")
        )?;
        return Ok(());
    }
    // Which takes are rejected is decided again under the lock.
    let r = crate::store::change::purge_rejected(hd, None)?;
    if r.removed.is_empty() {
        writeln!(out, "no rejected takes")?;
    }
    report::print_delete(out, &r, false)?;
    Ok(())
}

/// `genhist diff A B`.
pub(super) fn diff(
    out: &mut impl Write,
    t: &IndexText,
    a: &str,
    b: &str,
    json: bool,
) -> Result<()> {
    let (ea, eb) = (t.find(a)?, t.find(b)?);
    if json {
        let v = serde_json::Value::Object(crate::diff::fields(&ea, &eb));
        writeln!(out, "{}", crate::store::pyjson::to_output_json(&v))?;
        return Ok(());
    }
    let rows = crate::diff::rows(&ea, &eb);
    if rows.is_empty() {
        writeln!(
            out,
            "{} and {} were made with the same parameters",
            sanitize(ea.short_id()),
            sanitize(eb.short_id())
        )?;
        return Ok(());
    }
    let w = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let wa = rows
        .iter()
        .map(|r| sanitize(&r.a).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 40);
    writeln!(
        out,
        "{:<w$}  {:<wa$}  {}",
        "",
        sanitize(ea.short_id()),
        sanitize(eb.short_id())
    )?;
    for r in rows {
        writeln!(
            out,
            "{:<w$}  {:<wa$}  {}",
            sanitize(&r.label),
            crate::text::truncate(&sanitize(&r.a), 40),
            crate::text::truncate(&sanitize(&r.b), 40)
        )?;
    }
    Ok(())
}

/// `genhist similar ID`: the other takes, nearest first.
pub(super) fn similar(
    out: &mut impl Write,
    t: &IndexText,
    id: &str,
    limit: Option<usize>,
    json: bool,
) -> Result<()> {
    let reference = std::sync::Arc::new(t.find(id)?);
    let (entries, _) = t.newest(None, None);
    // Not `into_iter().map().collect()`, which would keep the entries'
    // allocation for the pointers.
    let mut shared: Vec<std::sync::Arc<HistoryEntry>> = Vec::with_capacity(entries.len());
    shared.extend(entries.into_iter().map(std::sync::Arc::new));
    let entries = shared;
    let r = crate::similar::Reference::new(reference.clone());
    let ranked: Vec<_> = r
        .rank(&entries)
        .into_iter()
        .filter(|(e, _)| e.entry_id != reference.entry_id)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    if json {
        let arr = serde_json::Value::Array(
            ranked
                .iter()
                .map(|(e, d)| serde_json::json!({"entry_id": e.entry_id, "distance": d}))
                .collect(),
        );
        writeln!(out, "{}", crate::store::pyjson::to_output_json(&arr))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>8}  {:<8}  {:<22}  PRESET",
        "DISTANCE", "ID", "MODEL"
    )?;
    for (e, d) in ranked {
        writeln!(
            out,
            "{d:>8.4}  {:<8}  {}  {}",
            sanitize(e.short_id()),
            crate::text::pad(&crate::text::truncate(&sanitize(e.model_name()), 22), 22),
            sanitize(e.preset_name())
        )?;
    }
    Ok(())
}
