//! Sorting, filtering and searching 100,000 takes off the UI thread: the
//! newest job wins; the result comes back numbered, and `App` keeps only the
//! newest one.

use super::super::event::{Event, StoreEvent, ViewDone, ViewJob};
use std::sync::mpsc::{channel, Sender};

pub struct ViewWorker {
    tx: Sender<ViewJob>,
}

impl ViewWorker {
    pub fn spawn(events: Sender<Event>) -> ViewWorker {
        let (tx, rx) = channel::<ViewJob>();
        super::spawn_background("genhist-view", move || {
            while let Ok(first) = rx.recv() {
                let Some(job) = super::newest(&rx, first) else {
                    return;
                };
                let rows = super::catch("sorting the list", || {
                    super::super::view::compute(&job.entries, &job.spec, &job.notes)
                });
                let rows = match rows {
                    Ok(r) => r,
                    Err(why) => {
                        let _ = events.send(Event::Store(Box::new(StoreEvent::Failed(why))));
                        job.entries
                    }
                };
                if events
                    .send(Event::View(ViewDone { seq: job.seq, rows }))
                    .is_err()
                {
                    return;
                }
            }
        });
        ViewWorker { tx }
    }

    pub fn request(&self, job: ViewJob) {
        let _ = self.tx.send(job);
    }
}
