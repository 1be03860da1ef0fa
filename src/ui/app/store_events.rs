//! What the store worker reports: the full load, changes by other programs,
//! the answers to deletes, undos, repairs, exports and saves, sizes, notes.

use super::{App, Cause, Confirm, Effect, Mode};
use crate::store::journal::Outcome;
use crate::store::trash::DeleteReport;
use crate::store::{reload::Delta, StoreError};
use crate::text::count;
use crate::ui::event::{DeleteHow, Loaded, StoreEvent};

impl App {
    pub(super) fn on_store(&mut self, s: StoreEvent) -> Vec<Effect> {
        match s {
            StoreEvent::Loaded(Ok(loaded)) => {
                self.messages.clear_cause(Cause::Index);
                let Loaded { history, analyze } = *loaded;
                let mut fx = self.replace_store(history);
                // Every take is measured (or read from the cache), newest first.
                self.analysis.left = analyze.len();
                if !analyze.is_empty() {
                    fx.push(Effect::Analyze(analyze));
                }
                self.say_index_problems();
                fx
            }
            StoreEvent::Loaded(Err(e)) | StoreEvent::Reloaded(Err(e)) => {
                self.messages.error_about(Cause::Index, e.to_string());
                vec![]
            }
            StoreEvent::Reloaded(Ok(delta)) => {
                self.messages.clear_cause(Cause::Index);
                self.apply_delta(Some(delta), &[], &[])
            }
            StoreEvent::Deleted { result, delta, how } => {
                self.busy = None;
                match result {
                    Ok(r) => self.deleted(r, delta, how),
                    Err(e) => {
                        self.error(e.to_string());
                        vec![]
                    }
                }
            }
            StoreEvent::Undone {
                redo,
                result,
                delta,
            } => {
                self.busy = None;
                match result {
                    Ok(r) => self.undone(r, delta, redo),
                    Err(e @ (StoreError::NothingToUndo | StoreError::NothingToRedo)) => {
                        self.info(e.to_string());
                        vec![]
                    }
                    Err(e) => {
                        self.error(e.to_string());
                        vec![]
                    }
                }
            }
            StoreEvent::RepairPlanned(result) => {
                self.busy = None;
                match result {
                    Ok(plan) if plan.is_empty() => self.info(format!(
                        "nothing to repair: every take has its WAV ({}, {} left alone)",
                        count(plan.orphan_wavs.len(), "orphan WAV", "orphan WAVs"),
                        count(plan.orphan_pngs.len(), "orphan PNG", "orphan PNGs")
                    )),
                    Ok(plan) => self.mode = Mode::Confirm(Confirm::Repair(plan)),
                    Err(e) => self.error(e.to_string()),
                }
                vec![]
            }
            StoreEvent::Repaired { result, delta } => {
                self.busy = None;
                match result {
                    Ok(r) => {
                        let fx = self.apply_delta(delta, &r.deleted.removed_ids(), &[]);
                        let mut msg = format!(
                            "repair: moved {} with a missing WAV to the trash (u undoes)",
                            count(r.deleted.removed.len(), "take", "takes")
                        );
                        if !r.came_back.is_empty() {
                            msg.push_str(&format!(
                                "; kept {} whose WAV is back",
                                count(r.came_back.len(), "take", "takes")
                            ));
                        }
                        self.info(msg);
                        fx
                    }
                    Err(e) => {
                        self.error(e.to_string());
                        vec![]
                    }
                }
            }
            StoreEvent::Sizes(sizes) => {
                self.sizes = sizes;
                vec![]
            }
            StoreEvent::Notes(notes) => {
                for n in notes {
                    self.info(n);
                }
                vec![]
            }
            StoreEvent::HistoryError(e) => {
                self.messages.error_about(Cause::CommandHistory, e);
                vec![]
            }
            StoreEvent::HistorySaved => {
                self.messages.clear_cause(Cause::CommandHistory);
                vec![]
            }
            StoreEvent::Failed(e) => {
                self.busy = None;
                self.error(e);
                // A job that panicked sends no answer of its own.
                self.saves_lost()
            }
            StoreEvent::Annotations(Ok(a)) => {
                self.messages.clear_cause(Cause::Annotations);
                self.notes_read(a)
            }
            StoreEvent::Annotations(Err(e)) => {
                self.messages.error_about(Cause::Annotations, e.to_string());
                vec![]
            }
            StoreEvent::Annotated(r) => self.notes_saved(r),
            StoreEvent::Flushed(n) => self.flushed(n),
        }
    }

    /// Errors about the index as loaded: another format version, entries
    /// that cannot be read.
    pub(crate) fn say_index_problems(&mut self) {
        if let Some(w) = self.store.version_warning() {
            self.messages.error_about(Cause::Index, w);
        } else if !self.store.invalid_entries().is_empty() {
            self.error(format!(
                "{} could not be read (see `genhist show ID`)",
                count(self.store.invalid_entries().len(), "take", "takes")
            ));
        }
    }

    fn deleted(&mut self, r: DeleteReport, delta: Option<Delta>, how: DeleteHow) -> Vec<Effect> {
        let fx = self.apply_delta(delta, &r.removed_ids(), &[]);
        let n = r.removed.len();
        let mut msg = match how {
            DeleteHow::Permanent => format!("deleted {} for good", count(n, "take", "takes")),
            DeleteHow::ToTrash => format!("deleted {} (u undoes)", count(n, "take", "takes")),
            DeleteHow::Purge if n == 0 => "no take is rejected any more: nothing moved".into(),
            DeleteHow::Purge => format!(
                "moved {} to the trash (u undoes)",
                count(n, "rejected take", "rejected takes")
            ),
        };
        if let Some((_, _, why)) = r.left.first() {
            msg.push_str(&format!(
                "; left {} in place: {why}",
                count(r.left.len(), "file", "files")
            ));
        }
        self.info(msg);
        fx
    }

    /// An undo or a redo is done: the list follows, the selection goes to
    /// the take it was about (in culling mode that take plays again).
    fn undone(&mut self, o: Outcome, delta: Option<Delta>, redo: bool) -> Vec<Effect> {
        let verb = if redo { "redid" } else { "undid" };
        let mut msg = format!("{verb} {}", o.action().describe());
        let mut ok = true;
        let mut fx = match &o {
            Outcome::Annotations { .. } => vec![],
            Outcome::AlreadyDone { .. } => {
                let (done, how) = if redo {
                    ("redone", "redo")
                } else {
                    ("undone", "undo")
                };
                msg = format!(
                    "the {} was already {done} (an interrupted {how}, finished now)",
                    o.action().describe()
                );
                self.apply_delta(delta, &[], &[])
            }
            Outcome::Restored { report: r, .. } => {
                let fx = self.apply_delta(delta, &[], &r.restored);
                for (path, why, at) in &r.left {
                    ok = false;
                    match at {
                        Some(_) => msg.push_str(&format!("; {path} stays in the trash: {why}")),
                        None => msg.push_str(&format!("; {path} could not go back: {why}")),
                    }
                }
                if let Some(why) = &r.annotations_pending {
                    ok = false;
                    msg.push_str(&format!(
                        "; their ratings and tags are kept in the trash until they can be written ({why})"
                    ));
                }
                for (id, _) in &r.annotations {
                    self.waves.files.remove(id);
                }
                fx
            }
            Outcome::Deleted { report: r, .. } => {
                let fx = self.apply_delta(delta, &r.removed_ids(), &[]);
                if let Some((_, _, why)) = r.left.first() {
                    ok = false;
                    msg.push_str(&format!(
                        "; left {} in place: {why}",
                        count(r.left.len(), "file", "files")
                    ));
                }
                fx
            }
        };
        // The take it was about (a redone delete has none left).
        let here = match &o {
            Outcome::Annotations { action } | Outcome::AlreadyDone { action } => {
                action.ids().into_iter().next()
            }
            Outcome::Restored { report, .. } => report.restored.first().map(|e| e.id.clone()),
            Outcome::Deleted { .. } => None,
        };
        if let Some(id) = &here {
            self.select_take(id);
            if self.triage.culling {
                fx.extend(self.play(id));
            }
        }
        if ok {
            self.info(msg);
        } else {
            self.error(msg);
        }
        fx
    }
}
