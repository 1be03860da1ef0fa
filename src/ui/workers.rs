//! Background threads of the browser: waveform peaks (newest request wins,
//! cached by the caller), the index watcher and total-size counting.

use crate::fsutil::Dir;
use crate::peaks::{peaks_from_reader, Peaks};
use crate::query::SearchIndex;
use crate::store::paths::{self, Located, RelPath};
use crate::store::{FileStamp, GenerationHistory, HistoryEntry, INDEX_FILE};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::time::Duration;

/// Buckets per channel kept for each entry: enough for a full-width waveform.
pub const PEAK_BUCKETS: usize = 1024;

/// An entry's id and its audio path, checked without I/O (or why it is refused).
pub type Job = (String, Result<RelPath, String>);

/// A take's waveform peaks, as the worker computes them.
pub fn read_peaks(dir: &std::path::Path, p: &RelPath) -> Result<Peaks, String> {
    let root = Dir::open(dir).map_err(|e| e.to_string())?;
    match paths::locate(&root, p) {
        Located::Present { parent, name, .. } => {
            let f = parent.open_regular(&name).map_err(|e| e.to_string())?;
            peaks_from_reader(f, PEAK_BUCKETS)
        }
        Located::Missing => Err("the WAV file is missing".into()),
        Located::Refused(why) => Err(format!("invalid path: {why}")),
    }
}

pub struct PeaksWorker {
    tx: Sender<(PathBuf, Vec<Job>)>,
    rx: Receiver<(String, Result<Peaks, String>)>,
}

impl PeaksWorker {
    pub fn spawn() -> PeaksWorker {
        let (tx, jobs) = channel::<(PathBuf, Vec<Job>)>();
        let (out, rx) = channel();
        std::thread::spawn(move || {
            let mut queue: Vec<Job> = Vec::new();
            let mut dir = PathBuf::new();
            loop {
                if queue.is_empty() {
                    match jobs.recv() {
                        Ok((d, q)) => (dir, queue) = (d, q),
                        Err(_) => return,
                    }
                }
                // The newest request replaces what is still queued.
                loop {
                    match jobs.try_recv() {
                        Ok((d, q)) => (dir, queue) = (d, q),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                }
                if queue.is_empty() {
                    continue;
                }
                let (id, path) = queue.remove(0);
                let result = path.and_then(|p| read_peaks(&dir, &p));
                if out.send((id, result)).is_err() {
                    return;
                }
            }
        });
        PeaksWorker { tx, rx }
    }

    pub fn request(&self, dir: PathBuf, jobs: Vec<Job>) {
        let _ = self.tx.send((dir, jobs));
    }

    pub fn try_recv(&self) -> Option<(String, Result<Peaks, String>)> {
        self.rx.try_recv().ok()
    }
}

/// A store loaded off the UI thread, with its search index.
pub type Loaded = Result<(GenerationHistory, SearchIndex), String>;

fn load(dir: &std::path::Path) -> Loaded {
    let store = GenerationHistory::open(dir).map_err(|e| e.to_string())?;
    let index = SearchIndex::build(store.entries(), store.generation());
    Ok((store, index))
}

/// Polls `history.json` every 250 ms; on change, re-reads it off the UI thread.
pub struct Watcher {
    rx: Receiver<Loaded>,
}

impl Watcher {
    /// Watches `dir`'s index; with `load_now`, first sends a full load (the
    /// store on screen holds only the newest entries).
    pub fn spawn(dir: PathBuf, load_now: bool) -> Watcher {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let path = dir.join(INDEX_FILE);
            let mut seen = FileStamp::of(&path);
            if load_now && tx.send(load(&dir)).is_err() {
                return;
            }
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let now = FileStamp::of(&path);
                if now != seen {
                    seen = now;
                    if tx.send(load(&dir)).is_err() {
                        return;
                    }
                }
            }
        });
        Watcher { rx }
    }

    pub fn try_recv(&self) -> Option<Loaded> {
        self.rx.try_recv().ok()
    }
}

/// Sums file sizes off the UI thread (a stat per file adds up at 100,000 entries).
pub struct SizeWorker {
    tx: Sender<(PathBuf, Vec<String>)>,
    rx: Receiver<u64>,
}

impl SizeWorker {
    pub fn spawn() -> SizeWorker {
        let (tx, jobs) = channel::<(PathBuf, Vec<String>)>();
        let (out, rx) = channel();
        std::thread::spawn(move || {
            while let Ok(mut job) = jobs.recv() {
                while let Ok(newer) = jobs.try_recv() {
                    job = newer;
                }
                let (dir, files) = job;
                let Ok(root) = Dir::open(&dir) else { continue };
                let total: u64 = files
                    .iter()
                    .filter_map(|rel| RelPath::parse(rel).ok())
                    .map(|p| match paths::locate(&root, &p) {
                        Located::Present { bytes, .. } => bytes,
                        _ => 0,
                    })
                    .sum();
                if out.send(total).is_err() {
                    return;
                }
            }
        });
        SizeWorker { tx, rx }
    }

    /// Sums the sizes of the files the entries name (their paths only are
    /// copied: a copy of 100,000 entries would double the browser's memory).
    pub fn request(&self, dir: PathBuf, entries: &[HistoryEntry]) {
        let files = entries
            .iter()
            .flat_map(|e| [e.audio_file.clone(), e.thumbnail_file.clone()])
            .collect();
        let _ = self.tx.send((dir, files));
    }

    pub fn try_recv(&self) -> Option<u64> {
        self.rx.try_recv().ok()
    }
}
