//! Spectrograms for the panel and the A/B view, on a thread of their own:
//! the newest request wins (moving through the list never queues up
//! spectrograms of takes already left).

use super::super::event::{Event, SpectrumDone, SpectrumJob};
use crate::fsutil::Dir;
use crate::store::paths::{locate, Located};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

pub(crate) struct SpectrumWorker {
    tx: Sender<Vec<SpectrumJob>>,
}

fn compute(
    dir: &std::path::Path,
    job: &SpectrumJob,
) -> Result<crate::analysis::spectrum::Spectrogram, String> {
    let root = Dir::open(dir).map_err(|e| e.to_string())?;
    let p = job.audio.as_ref().map_err(Clone::clone)?;
    let (parent, name) = match locate(&root, p) {
        Located::Present { parent, name, .. } => (parent, name),
        Located::Missing => return Err("the WAV is missing".into()),
        Located::Refused(why) => return Err(why),
    };
    let f = parent.open_regular(&name).map_err(|e| e.to_string())?;
    let mut w = crate::wav::open_file(f)?;
    crate::analysis::spectrum::compute(&mut w, job.cols, job.rows)
}

impl SpectrumWorker {
    pub(crate) fn spawn(dir: PathBuf, events: Sender<Event>) -> SpectrumWorker {
        let (tx, rx) = channel::<Vec<SpectrumJob>>();
        super::spawn_background("genhist-spectrum", move || loop {
            let Ok(first) = rx.recv() else { return };
            let Some(jobs) = super::newest(&rx, first) else {
                return;
            };
            for job in jobs {
                let r = super::catch("drawing a spectrogram", || compute(&dir, &job))
                    .and_then(|r| r)
                    .map(Arc::new);
                let done = SpectrumDone {
                    id: job.id,
                    cols: job.cols,
                    rows: job.rows,
                    spectrogram: r,
                };
                if events.send(Event::Spectrum(done)).is_err() {
                    return;
                }
            }
        });
        SpectrumWorker { tx }
    }

    pub(crate) fn request(&self, jobs: Vec<SpectrumJob>) {
        let _ = self.tx.send(jobs);
    }
}
