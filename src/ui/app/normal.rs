//! The list's commands: one line each, the work in its concern's file.

use super::{App, Effect};
use crate::playback::PlayerCmd;
use crate::ui::command::Command;
use crate::ui::event::StoreJob;

impl App {
    pub(super) fn run_normal(&mut self, cmd: Command) -> Vec<Effect> {
        let page = self.page() as isize;
        let last = self.list.view.rows.len().saturating_sub(1);
        if let Some(edit) = Self::edit_of(&cmd) {
            return self.annotate_selected(edit);
        }
        match cmd {
            Command::Down => self.move_by(1),
            Command::Up => self.move_by(-1),
            Command::Top => self.move_to(0),
            Command::Bottom => self.move_to(last),
            Command::PageDown => self.move_by(page),
            Command::PageUp => self.move_by(-page),
            Command::HalfDown => self.move_by(page / 2),
            Command::HalfUp => self.move_by(-(page / 2)),
            Command::Search => self.open_search(),
            Command::NextMatch => self.next_match(true),
            Command::PrevMatch => self.next_match(false),
            Command::CommandBar => self.open_bar(),
            Command::HistorySearch => self.open_history_search(),
            Command::Mark => self.toggle_mark(),
            Command::Delete { ids, permanent } => self.ask_delete(ids, permanent),
            Command::Undo => self.store_job(StoreJob::Undo, "undoing…"),
            Command::Redo => self.store_job(StoreJob::Redo, "redoing…"),
            Command::Spectrogram => self.toggle_spectrogram(),
            Command::Device => self.ask_devices(),
            Command::Filter(f) => self.set_filter(f),
            Command::Sort(s) => self.set_sort(s),
            Command::SortNext => self.next_sort(),
            Command::Clear => self.clear(),
            Command::Goto(prefix) => self.goto(&prefix),
            Command::Export { dest, overwrite } => self.export_command(&dest, overwrite),
            Command::Repair => self.ask_repair(),
            Command::Stats => self.show_stats(),
            Command::History(n) => self.show_history(n),
            Command::Messages => self.show_messages(),
            Command::Help(only) => self.show_help(only),
            Command::Quit => self.quit(),
            Command::Cull => self.toggle_culling(),
            Command::Purge => self.ask_purge(),
            Command::Similar => self.order_by_likeness(),
            Command::Ab(ids) => self.open_compare(ids),
            Command::Play(id) => self.play_command(id),
            Command::Pause => vec![Effect::Player(PlayerCmd::TogglePause)],
            Command::Stop => vec![Effect::Player(PlayerCmd::Stop)],
            Command::Seek(to) => self.seek(to),
            Command::Volume { value, relative } => self.set_volume(value, relative),
            Command::Loop => self.toggle_loop(),
            Command::Autoplay => self.toggle_autoplay(),
            // Annotations are handled above; the rest are other modes' keys.
            Command::Rate(_)
            | Command::Reject
            | Command::Tag { .. }
            | Command::Note(_)
            | Command::AbSwitch
            | Command::AbLevel
            | Command::Accept
            | Command::Cancel
            | Command::Older
            | Command::Newer
            | Command::Complete
            | Command::CompleteBack
            | Command::Yes
            | Command::No
            | Command::Close => vec![],
        }
    }

    /// `:repair`: asks the store worker for the plan (the answer asks y/n).
    fn ask_repair(&mut self) -> Vec<Effect> {
        if self.store.loading().is_some() {
            self.info("still loading the history; try again in a moment");
            return vec![];
        }
        self.store_job(StoreJob::PlanRepair, "looking for missing WAVs…")
    }
}
