//! The analysis worker: measures takes in the background at low priority,
//! newest first (takes that arrive later go first), keeping each result
//! in the cache (`analysis::cache`), which it shares with the peaks worker.
//! A take whose WAV did not change since it was measured is read from the
//! cache, not decoded. Results go to the app in batches.

use super::super::event::{AnalysisDone, AnalyzeJob, Event};
use crate::analysis::cache::{self, Shared};
use crate::analysis::Measures;
use crate::fsutil::Dir;
use crate::store::paths::{locate, Located};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often results are sent while measuring.
const EVERY: Duration = Duration::from_millis(200);

pub(crate) struct AnalysisWorker {
    tx: Sender<Vec<AnalyzeJob>>,
}

/// Measures one take: from the cache when its WAV did not change, else
/// decoded and measured, and kept.
fn measure(root: &Dir, cache: &Shared, job: &AnalyzeJob) -> Result<Measures, String> {
    let p = job.audio()?;
    let (parent, name) = match locate(root, &p) {
        Located::Present { parent, name, .. } => (parent, name),
        Located::Missing => return Err("the WAV is missing".into()),
        Located::Refused(why) => return Err(why),
    };
    let st = parent
        .stat(&name)
        .map_err(|e| e.to_string())?
        .ok_or("the WAV is missing")?;
    let key = cache::Key::of_stat(&st);
    if let Some(m) = cache
        .get(Duration::ZERO)
        .as_ref()
        .and_then(|c| c.measures(job.id(), key))
    {
        return Ok(m);
    }
    crate::fault::point("analysis");
    let f = parent.open_regular(&name).map_err(|e| e.to_string())?;
    let (m, peaks) = crate::analysis::analyze_file(f, cache::BUCKETS)?;
    if let Some(c) = cache.get(Duration::ZERO).as_mut() {
        if let Err(e) = c.put(job.id(), key, &m, &peaks) {
            tracing::warn!("keeping the analysis of {}: {e}", job.id());
        }
    }
    Ok(m)
}

fn take_new(rx: &Receiver<Vec<AnalyzeJob>>, queue: &mut VecDeque<AnalyzeJob>) -> bool {
    loop {
        match rx.try_recv() {
            // Newer takes first, in their order.
            Ok(jobs) => {
                for j in jobs.into_iter().rev() {
                    queue.push_front(j);
                }
            }
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
}

impl AnalysisWorker {
    /// Starts the worker over `dir`; `cache` is filled from the file first.
    pub(crate) fn spawn(dir: PathBuf, cache: Arc<Shared>, events: Sender<Event>) -> Self {
        let (tx, rx) = channel::<Vec<AnalyzeJob>>();
        super::spawn_background("genhist-analysis", move || {
            cache.load(&dir);
            let Ok(root) = Dir::open(&dir) else { return };
            let mut queue: VecDeque<AnalyzeJob> = VecDeque::new();
            let mut batch: Vec<(String, Result<Measures, String>)> = Vec::new();
            let mut sent = Instant::now();
            loop {
                if queue.is_empty() {
                    if !batch.is_empty() {
                        let measured = std::mem::take(&mut batch);
                        let _ = events.send(Event::Analysis(AnalysisDone { measured, left: 0 }));
                    }
                    // A million jobs leave a 32 MB ring behind: give it back,
                    // with what measuring them freed.
                    if queue.capacity() > 0 {
                        queue.shrink_to_fit();
                        crate::sys::release_freed_memory();
                    }
                    match rx.recv() {
                        Ok(jobs) => queue.extend(jobs),
                        Err(_) => return,
                    }
                }
                if !take_new(&rx, &mut queue) {
                    return;
                }
                let Some(job) = queue.pop_front() else {
                    continue;
                };
                let r = super::catch("measuring a take", || measure(&root, &cache, &job))
                    .and_then(|r| r);
                batch.push((job.id().to_string(), r));
                if sent.elapsed() >= EVERY {
                    sent = Instant::now();
                    let measured = std::mem::take(&mut batch);
                    let done = AnalysisDone {
                        measured,
                        left: queue.len(),
                    };
                    if events.send(Event::Analysis(done)).is_err() {
                        return;
                    }
                }
            }
        });
        AnalysisWorker { tx }
    }

    pub(crate) fn request(&self, jobs: Vec<AnalyzeJob>) {
        let _ = self.tx.send(jobs);
    }
}
