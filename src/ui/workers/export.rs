//! The browser's exports, each on a thread of its own: the takes are read
//! from the index as it is now, exported (see [`crate::export`]), and the
//! progress and the report sent back as events.

use super::super::event::{Event, ExportEvent, ExportJob};
use std::path::Path;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// How often progress is reported.
const EVERY: Duration = Duration::from_millis(100);

pub(super) fn run(dir: &Path, job: ExportJob, events: &Sender<Event>) {
    let send = |e| {
        let _ = events.send(Event::Export(e));
    };
    let r = super::catch("exporting", || export(dir, &job, &send)).and_then(|r| r);
    send(ExportEvent::Done(r));
}

fn export(
    dir: &Path,
    job: &ExportJob,
    send: &dyn Fn(ExportEvent),
) -> Result<crate::export::Report, String> {
    let t = crate::store::lite::IndexText::read(dir).map_err(|e| e.to_string())?;
    let notes = crate::store::annotations::load(dir).unwrap_or_default();
    let entries = job
        .ids
        .iter()
        .map(|id| t.find(id).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let measured = crate::analysis::cache::measured(dir, &entries);
    let takes = crate::export::takes_of(entries, &notes, &measured);
    let opts = crate::export::Options {
        dest: job.dest.clone(),
        template: job.template.clone(),
        link: None,
        png: false,
        overwrite: job.overwrite,
        dry_run: false,
    };
    let mut last = Instant::now();
    crate::export::export(dir, &t.claims(), &takes, &opts, &mut |done, total| {
        if last.elapsed() >= EVERY {
            last = Instant::now();
            send(ExportEvent::Progress { done, total });
        }
    })
}
