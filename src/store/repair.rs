//! `repair`: entries whose WAV is missing leave the index, through the
//! trash, so `undo` brings them back (a WAV missing for a moment, on a drive
//! not mounted, costs nothing). WAVs and PNGs no entry refers to are
//! reported and left alone (the seed's rule: the user may want them), and
//! annotations of takes that no longer exist are dropped.

use super::error::StoreError;
use super::paths::{self, Located, RelPath};
use super::read;
use super::rewrite::Selection;
use super::stream::{self, Item};
use super::trash::{self, BatchKind, DeleteOptions, DeleteReport};

use crate::fsutil::Dir;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What a repair would do.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RepairPlan {
    /// (id, audio path) of entries whose WAV is missing.
    pub missing: Vec<(String, String)>,
    /// WAVs in `audio/` and PNGs in `thumbnails/` that no entry refers to.
    pub orphan_wavs: Vec<PathBuf>,
    pub orphan_pngs: Vec<PathBuf>,
    /// Ids in annotations.json that are not in the index.
    pub stale_annotations: Vec<String>,
}

impl RepairPlan {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.stale_annotations.is_empty()
    }
}

/// What a repair did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RepairReport {
    pub plan: RepairPlan,
    /// The removal (through the trash).
    pub deleted: DeleteReport,
    /// Entries of the plan whose WAV came back before the repair ran.
    pub came_back: Vec<String>,
}

/// Looks at every entry's WAV and at `audio/` and `thumbnails/`.
pub(crate) fn plan(dir: &Path) -> Result<RepairPlan, StoreError> {
    let index = read::locate_index(dir)?;
    let root = Dir::open(dir).map_err(|e| StoreError::io("open", dir, e))?;
    let mut p = RepairPlan::default();
    let mut referenced: HashSet<String> = HashSet::new();
    let mut ids: HashSet<String> = HashSet::new();
    if let Some((f, _)) = index.open()? {
        let r = stream::stream(f, |item| {
            if let Item::Entry(e) = item {
                let id = e.key().into_owned();
                for rel in [e.audio_file(), e.thumbnail_file()].into_iter().flatten() {
                    if let Ok(rp) = RelPath::parse(&rel) {
                        referenced.insert(rp.to_string());
                    }
                }
                if let Some(audio) = e.audio_file() {
                    if let Ok(rp) = RelPath::parse(&audio) {
                        if matches!(paths::locate(&root, &rp), Located::Missing) {
                            p.missing.push((id.clone(), audio.into_owned()));
                        }
                    }
                }
                ids.insert(id);
            }
            Ok::<(), std::convert::Infallible>(())
        });
        if let Err(e) = r {
            match read::stream_error(&index, e)? {}
        }
    }
    for (sub, ext, out) in [
        ("audio", "wav", &mut p.orphan_wavs),
        ("thumbnails", "png", &mut p.orphan_pngs),
    ] {
        let Ok(d) = root.sub(sub) else { continue };
        for (name, kind) in d.entries().unwrap_or_default() {
            let Some(name) = name.to_str() else { continue };
            let is_file = kind == rustix::fs::FileType::RegularFile;
            let ours = name.starts_with('.');
            let matches = Path::new(name)
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case(ext));
            if is_file && matches && !ours && !referenced.contains(&format!("{sub}/{name}")) {
                out.push(dir.join(sub).join(name));
            }
        }
        out.sort();
    }
    if let Ok(a) = super::annotations::load(dir) {
        p.stale_annotations = a
            .takes
            .keys()
            .filter(|k| !ids.contains(*k))
            .cloned()
            .collect();
    }
    Ok(p)
}

/// Carries out `plan`: the entries whose WAV is still missing go to the
/// trash (one batch, undoable); stale annotations are dropped.
pub(crate) fn apply_in(
    txn: &mut super::txn::Txn,
    plan: &RepairPlan,
) -> Result<RepairReport, StoreError> {
    let root = txn
        .root()
        .try_clone()
        .map_err(|e| StoreError::io("open", txn.root().path(), e))?;
    let mut report = RepairReport {
        plan: plan.clone(),
        ..RepairReport::default()
    };
    let mut gone = Vec::new();
    for (id, audio) in &plan.missing {
        let still = RelPath::parse(audio)
            .is_ok_and(|p| matches!(paths::locate(&root, &p), Located::Missing));
        if still {
            gone.push(id.clone());
        } else {
            report.came_back.push(id.clone());
        }
    }
    if !gone.is_empty() {
        report.deleted = trash::delete_in(
            txn,
            Selection::Ids(gone),
            DeleteOptions {
                kind: BatchKind::Repair,
                permanent: false,
                journal: true,
            },
        )?;
    }
    if !plan.stale_annotations.is_empty() {
        let stale = plan.stale_annotations.clone();
        let ids = txn.index_ids()?;
        super::annotations::update_in(txn, |a| {
            let before = a.takes.len();
            for id in &stale {
                if !ids.contains(id) {
                    a.takes.remove(id);
                }
            }
            a.takes.len() != before
        })?;
    }
    Ok(report)
}
