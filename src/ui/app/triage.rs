//! Deciding what to keep: ratings, rejects, tags and notes (shown at once,
//! saved by the store worker), culling mode (rate, then the next take
//! plays), and ordering by likeness (`:similar`).

use super::{App, Effect};
use crate::query::Sort;
use crate::store::annotations::{Annotation, Annotations, Edit};
use crate::ui::command::Command;
use crate::ui::event::StoreJob;
use std::sync::Arc;

/// The takes' annotations as shown, and as the file holds them.
#[derive(Debug, Default)]
pub struct Triage {
    /// What the screen shows (the file's, with edits not yet saved).
    pub notes: Arc<Annotations>,
    /// The annotations as last read from the file (what a failed save
    /// goes back to).
    saved: Arc<Annotations>,
    /// Annotate jobs sent and not yet answered (the screen keeps showing
    /// their changes meanwhile).
    annotating: usize,
    /// Culling mode: rating or rejecting moves to the next take and plays it.
    pub culling: bool,
}

impl App {
    /// Changes the annotations of `ids`: at once in memory (the screen and
    /// culling never wait for the disk), then in the file by the store worker.
    pub(super) fn annotate(&mut self, ids: Vec<String>, edit: Edit) -> Vec<Effect> {
        if ids.is_empty() {
            return vec![];
        }
        let notes = Arc::make_mut(&mut self.triage.notes);
        let mut last = Annotation::default();
        for id in &ids {
            let now = edit.applied_to(&notes.get(id).cloned().unwrap_or_default());
            last = now.clone();
            if now.is_empty() {
                notes.remove(id);
            } else {
                notes.insert(id.clone(), now);
            }
        }
        // Say what was done; an older error about such a command is over.
        self.messages.clear_cause(super::Cause::Edit);
        let who = match &ids[..] {
            [one] => crate::text::sanitize(crate::text::short_id(one)).into_owned(),
            many => crate::text::count(many.len(), "take", "takes"),
        };
        self.info(format!("{who}: {}", done(&edit, &last)));
        self.triage.annotating += 1;
        let mut fx = vec![Effect::Store(StoreJob::Annotate { ids, edit })];
        if self.list.view.spec.uses_annotations() {
            fx.extend(self.refresh_view());
        }
        fx
    }

    /// The file's annotations, as read (`saved`); the screen shows them once
    /// no save is out.
    pub(super) fn notes_read(&mut self, saved: Annotations) -> Vec<Effect> {
        self.triage.saved = Arc::new(saved);
        self.show_saved_notes()
    }

    /// A save is answered: the file's annotations after it, or why not.
    pub(super) fn notes_saved(&mut self, r: Result<Annotations, String>) -> Vec<Effect> {
        self.triage.annotating = self.triage.annotating.saturating_sub(1);
        match r {
            Ok(a) => {
                self.messages.clear_cause(super::Cause::Annotations);
                self.triage.saved = Arc::new(a);
            }
            Err(e) => self.messages.error_about(super::Cause::Annotations, e),
        }
        self.show_saved_notes()
    }

    /// A store job panicked: no save is out any more.
    pub(super) fn saves_lost(&mut self) -> Vec<Effect> {
        self.triage.annotating = 0;
        self.show_saved_notes()
    }

    /// Shows the annotations as the file holds them.
    fn show_saved_notes(&mut self) -> Vec<Effect> {
        if self.triage.annotating > 0 || *self.triage.notes == *self.triage.saved {
            return vec![];
        }
        self.triage.notes = self.triage.saved.clone();
        if self.list.view.spec.uses_annotations() {
            self.refresh_view()
        } else {
            vec![]
        }
    }

    /// Rating, rejecting, tagging or a note for the selected take; in
    /// culling mode a rating or a reject moves on and plays the next take.
    pub(super) fn annotate_selected(&mut self, edit: Edit) -> Vec<Effect> {
        let Some(id) = self.selected_entry().map(|e| e.entry_id.clone()) else {
            return vec![];
        };
        let advance = self.triage.culling && matches!(edit, Edit::Rate(_) | Edit::ToggleReject);
        // The next take, chosen before a filter may hide this one.
        let next = advance
            .then(|| self.list.view.rows.get(self.list.selected + 1).cloned())
            .flatten();
        let mut fx = self.annotate(vec![id], edit);
        if advance {
            match next {
                Some(n) => {
                    self.select_take(&n.entry_id);
                    fx.extend(self.play(&n.entry_id));
                }
                None => self.info("culling: that was the last take"),
            }
        }
        fx
    }

    /// The edit a command makes, if it is one.
    pub(super) fn edit_of(cmd: &Command) -> Option<Edit> {
        Some(match cmd {
            Command::Rate(n) => Edit::Rate(*n),
            Command::Reject => Edit::ToggleReject,
            Command::Tag { add, remove } => Edit::Tags {
                add: add.clone(),
                remove: remove.clone(),
            },
            Command::Note(n) => Edit::Note(n.clone()),
            _ => return None,
        })
    }

    /// `c`: culling mode on / off (starts playing the selected take).
    pub(super) fn toggle_culling(&mut self) -> Vec<Effect> {
        self.triage.culling = !self.triage.culling;
        self.info(if self.triage.culling {
            "culling: 1-5 rate, 0 clears, x rejects, then the next take plays (c ends)"
        } else {
            "culling off"
        });
        if self.triage.culling && self.player.status.state == crate::playback::PlayState::Idle {
            return self.play_selected();
        }
        vec![]
    }

    /// `:similar`: the list ordered by likeness to the selected take.
    pub(super) fn order_by_likeness(&mut self) -> Vec<Effect> {
        let Some(e) = self.selected_entry().cloned() else {
            return vec![];
        };
        let sort = Sort {
            key: crate::query::SortKey::Similar(crate::query::SimilarTo(Arc::new(
                crate::similar::Reference::new(e.clone()),
            ))),
            reverse: false,
        };
        let how = if e.latent_vector().is_some() {
            "latent vector, then parameters"
        } else {
            "parameters: this take has no latent vector"
        };
        self.info(format!(
            "ordered by likeness to {} ({how}); :sort newest goes back",
            e.short_id()
        ));
        // The selection stays on the take, which comes first.
        self.set_sort(sort)
    }
}

/// What an edit did, in words (`rated ★★★★☆`, `tags #a #b`).
fn done(edit: &Edit, after: &Annotation) -> String {
    use crate::text::{sanitize, stars, truncate};
    match edit {
        Edit::Rate(0) => "rating removed".into(),
        Edit::Rate(n) => format!("rated {}", stars(*n)),
        Edit::Reject(_) | Edit::ToggleReject if after.rejected => "rejected".into(),
        Edit::Reject(_) | Edit::ToggleReject => "no longer rejected".into(),
        Edit::Tags { .. } if after.tags.is_empty() => "no tags".into(),
        Edit::Tags { .. } => format!("tags #{}", sanitize(&after.tags.join(" #"))),
        Edit::Note(n) if n.is_empty() => "note removed".into(),
        Edit::Note(n) => format!("note “{}”", sanitize(&truncate(n, 60))),
    }
}
