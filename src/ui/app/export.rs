//! `:export DEST`: the marked takes; with none marked, the shown takes
//! when a filter or search narrows the list (after y/n, with their count);
//! else the selected one. The export runs on a thread of its own; its
//! progress is in the status line, its report in a message.

use super::{App, Confirm, Effect, Mode};
use crate::export::name::Template;
use crate::ui::event::{ExportEvent, ExportJob};

/// The browser's exports.
#[derive(Debug, Default)]
pub struct Exports {
    /// The name template (`[export] name` in the config).
    pub template: Template,
    /// (files done, files in all) while an export runs.
    pub running: Option<(usize, usize)>,
    /// `q` was pressed once while an export ran (the next one quits).
    pub(super) quit_warned: bool,
}

/// Why `dest` is inside the history directory `dir`, when it is (the
/// nearest place of it that exists, resolved).
fn inside_history(dir: &std::path::Path, dest: &std::path::Path) -> Option<String> {
    let root = dir.canonicalize().ok()?;
    let there = dest.ancestors().find(|a| a.exists())?.canonicalize().ok()?;
    there.starts_with(&root).then(|| {
        format!(
            "{} is inside the history directory {}; an export never writes there",
            dest.display(),
            dir.display()
        )
    })
}

impl App {
    /// `:export DEST` (`overwrite` for `:export!`).
    pub(super) fn export_command(&mut self, dest: &str, overwrite: bool) -> Vec<Effect> {
        if self.exports.running.is_some() {
            self.info("an export is still running; wait for it to finish");
            return vec![];
        }
        let dest = crate::fsutil::expand_home(dest);
        // Inside the history: said before any question (the export checks
        // again, by identity, when it runs).
        if let Some(why) = inside_history(self.store.dir(), &dest) {
            self.error(format!("export failed: {why}"));
            return vec![];
        }
        if !self.list.marked.is_empty() {
            let ids = self.marked_in_order();
            return self.start_export(ids, dest, overwrite);
        }
        let spec = &self.list.view.spec;
        if !spec.search.is_empty() || !spec.filter.is_empty() {
            let ids: Vec<String> = self
                .list
                .view
                .rows
                .iter()
                .map(|e| e.entry_id.clone())
                .collect();
            if ids.is_empty() {
                self.info("no take is shown: nothing to export");
                return vec![];
            }
            self.mode = Mode::Confirm(Confirm::Export {
                ids,
                dest,
                overwrite,
            });
            return vec![];
        }
        match self.selected_entry().map(|e| e.entry_id.clone()) {
            Some(id) => self.start_export(vec![id], dest, overwrite),
            None => {
                self.info("no take selected");
                vec![]
            }
        }
    }

    pub(super) fn start_export(
        &mut self,
        ids: Vec<String>,
        dest: std::path::PathBuf,
        overwrite: bool,
    ) -> Vec<Effect> {
        self.exports.running = Some((0, ids.len()));
        self.exports.quit_warned = false;
        vec![Effect::Export(ExportJob {
            ids,
            dest,
            overwrite,
            template: self.exports.template.clone(),
        })]
    }

    pub(super) fn on_export(&mut self, e: ExportEvent) -> Vec<Effect> {
        match e {
            ExportEvent::Progress { done, total } => {
                if self.exports.running.is_some() {
                    self.exports.running = Some((done, total));
                }
            }
            ExportEvent::Done(r) => {
                self.exports.running = None;
                match r {
                    Ok(report) if report.complete() => self.info(report.summary()),
                    Ok(report) if !report.skipped.is_empty() => {
                        self.error(format!("{} (:export! replaces them)", report.summary()))
                    }
                    Ok(report) => self.error(report.summary()),
                    Err(e) => self.error(format!("export failed: {e}")),
                }
            }
        }
        vec![]
    }

    /// A quit while an export runs: the first `q` says so, the second quits
    /// (the export can be run again: it completes what is missing).
    pub(super) fn export_holds_quit(&mut self) -> bool {
        if self.exports.running.is_none() || self.exports.quit_warned {
            return false;
        }
        self.exports.quit_warned = true;
        self.info("an export is running; q again quits (running the export again completes it)");
        true
    }
}
