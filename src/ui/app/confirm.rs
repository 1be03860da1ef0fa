//! Questions before what cannot be taken back at once (gitui's
//! ConfirmAction): a delete, a purge of rejected takes, a repair. `y` does
//! it, `n` or Esc does not.

use super::{App, Effect, Mode};
use crate::playback::PlayerCmd;
use crate::store::repair::RepairPlan;
use crate::ui::command::Command;
use crate::ui::event::StoreJob;

/// What is being asked, before it is done.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Delete these takes; `hidden` of them are not shown (filtered out).
    Delete {
        ids: Vec<String>,
        hidden: usize,
        permanent: bool,
    },
    /// Move these rejected takes to the trash (those still rejected when
    /// it is done).
    Purge { ids: Vec<String>, hidden: usize },
    /// Move these takes (WAV missing) to the trash.
    Repair(RepairPlan),
    /// Export the shown takes.
    Export {
        ids: Vec<String>,
        dest: std::path::PathBuf,
        overwrite: bool,
    },
}

impl Confirm {
    /// The takes it would change.
    fn ids(&self) -> Box<dyn Iterator<Item = &String> + '_> {
        match self {
            Confirm::Delete { ids, .. } | Confirm::Purge { ids, .. } => Box::new(ids.iter()),
            // An export changes no take.
            Confirm::Export { .. } => Box::new(std::iter::empty()),
            Confirm::Repair(plan) => Box::new(plan.missing.iter().map(|(id, _)| id)),
        }
    }
}

impl App {
    /// Asks whether to delete `ids`, saying how many the filter hides.
    pub(super) fn confirm_delete(&mut self, ids: Vec<String>, permanent: bool) {
        let hidden = ids.len() - self.shown_count(&ids);
        self.mode = Mode::Confirm(Confirm::Delete {
            ids,
            hidden,
            permanent,
        });
    }

    /// `d`, `:delete [ID...]`: the given takes, else the marked ones (shown
    /// ones in display order, then hidden ones), else the selected one.
    pub(super) fn ask_delete(&mut self, ids: Vec<String>, permanent: bool) -> Vec<Effect> {
        let targets: Vec<String> = if !ids.is_empty() {
            let mut full = Vec::new();
            for id in ids {
                match self.store.get(&id) {
                    Ok(e) => full.push(e.entry_id.clone()),
                    Err(e) => {
                        self.error(e.to_string());
                        return vec![];
                    }
                }
            }
            full
        } else if !self.list.marked.is_empty() {
            self.marked_in_order()
        } else {
            self.selected_entry()
                .map(|e| vec![e.entry_id.clone()])
                .unwrap_or_default()
        };
        if targets.is_empty() {
            self.info("nothing to delete");
            return vec![];
        }
        self.confirm_delete(targets, permanent);
        vec![]
    }

    /// `:purge`: every rejected take in the store, after y/n.
    pub(super) fn ask_purge(&mut self) -> Vec<Effect> {
        let mut ids: Vec<String> = self
            .triage
            .notes
            .iter()
            .filter(|(id, a)| a.rejected && self.store.get_exact(id).is_some())
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            self.info("no rejected takes (x rejects the selected take)");
            return vec![];
        }
        ids.sort();
        let hidden = ids.len() - self.shown_count(&ids);
        self.mode = Mode::Confirm(Confirm::Purge { ids, hidden });
        vec![]
    }

    pub(super) fn run_confirm(&mut self, cmd: Command) -> Vec<Effect> {
        if !matches!(cmd, Command::Yes | Command::No) {
            return vec![];
        }
        let Mode::Confirm(c) = std::mem::replace(&mut self.mode, Mode::Normal) else {
            return vec![];
        };
        if cmd == Command::No {
            self.info(match c {
                Confirm::Delete { .. } => "delete cancelled",
                Confirm::Purge { .. } => "purge cancelled",
                Confirm::Repair(_) => "repair cancelled",
                Confirm::Export { .. } => "export cancelled",
            });
            return vec![];
        }
        let mut fx = Vec::new();
        if self
            .player
            .status
            .id
            .as_ref()
            .is_some_and(|p| c.ids().any(|id| id == p))
        {
            fx.push(Effect::Player(PlayerCmd::Stop));
        }
        fx.extend(match c {
            Confirm::Delete { ids, permanent, .. } => {
                self.store_job(StoreJob::Delete { ids, permanent }, "deleting…")
            }
            Confirm::Purge { ids, .. } => self.store_job(StoreJob::Purge(ids), "purging…"),
            Confirm::Repair(plan) => self.store_job(StoreJob::Repair(plan), "repairing…"),
            Confirm::Export {
                ids,
                dest,
                overwrite,
            } => self.start_export(ids, dest, overwrite),
        });
        fx
    }
}
