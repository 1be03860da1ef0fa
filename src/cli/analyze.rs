//! `genhist analyze` (measure what is missing, print the measures) and
//! `genhist spectrogram ID --png FILE`.

use crate::analysis::cache::{self, Cache};
use crate::analysis::Measures;
use crate::fsutil::Dir;
use crate::store::lite::IndexText;
use crate::store::HistoryEntry;
use crate::text::sanitize;
use anyhow::{bail, Result};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Full ids or unique prefixes (4+ characters); default: every take
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// An array of {entry_id, lufs, lra, peak, true_peak, clipped, dc, silence_head, silence_tail, centroid} (numbers; null when undefined)
    #[arg(long)]
    pub json: bool,
    /// Takes measured at once (default: the number of cores)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(clap::Args, Debug)]
pub struct SpectrogramArgs {
    /// Full id or a unique prefix (4+ characters)
    pub id: String,
    /// The PNG file to write (time left to right, 20 Hz at the bottom to the Nyquist frequency at the top, brighter = louder)
    #[arg(long, value_name = "FILE", required = true)]
    pub png: PathBuf,
    /// Pixels across
    #[arg(long, value_name = "W", default_value_t = 800, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub width: u32,
    /// Pixels high
    #[arg(long, value_name = "H", default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub height: u32,
}

/// Measures `entries` that the cache does not hold (on `jobs` threads,
/// `progress` hearing how far), keeping the results. Returns each take's
/// measures or why it has none, in `entries`' order.
pub(crate) fn measure_all(
    dir: &Path,
    entries: &[HistoryEntry],
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Result<Measures, String>> {
    let cache = Mutex::new(Cache::open(dir));
    let Ok(root) = Dir::open(dir) else {
        return entries
            .iter()
            .map(|_| Err(format!("cannot open {}", dir.display())))
            .collect();
    };
    let lock = || cache.lock().unwrap_or_else(|p| p.into_inner());
    let mut out: Vec<Option<Result<Measures, String>>> = Vec::with_capacity(entries.len());
    let mut todo = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        match cache::key_of(&root, &e.audio_file()) {
            None => out.push(Some(Err(missing(&root, e)))),
            Some(key) => match lock().measures(&e.entry_id, key) {
                Some(m) => out.push(Some(Ok(m))),
                None => {
                    out.push(None);
                    todo.push((i, key));
                }
            },
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let total = todo.len();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, 64).min(total.max(1)) {
            s.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(i, key)) = todo.get(n) else { break };
                let e = &entries[i];
                let r = measure_one(&root, e).map(|(m, peaks)| {
                    if let Err(err) = lock().put(&e.entry_id, key, &m, &peaks) {
                        tracing::warn!("keeping the analysis of {}: {err}", e.entry_id);
                    }
                    m
                });
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((i, r));
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(d, total);
            });
        }
    });
    for (i, r) in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not measured".into())))
        .collect()
}

fn measure_one(root: &Dir, e: &HistoryEntry) -> Result<(Measures, crate::peaks::Peaks), String> {
    let p = crate::store::paths::RelPath::parse(&e.audio_file())?;
    let (parent, name, _) = crate::export::open_source(root, &p)?;
    let f = parent.open_regular(&name).map_err(|e| e.to_string())?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::analysis::analyze_file(f, cache::BUCKETS)
    }))
    .unwrap_or_else(|p| {
        Err(format!(
            "measuring failed: {}",
            crate::text::panic_text(&*p)
        ))
    })
}

fn missing(root: &Dir, e: &HistoryEntry) -> String {
    match crate::store::paths::RelPath::parse(&e.audio_file()) {
        Err(why) => why,
        Ok(p) => match crate::export::open_source(root, &p) {
            Err(why) => why,
            Ok(_) => "the WAV cannot be read".into(),
        },
    }
}

/// A take's measures as `analyze --json` prints them.
pub(crate) fn measures_json(id: &str, m: &Measures) -> Value {
    let mut v = serde_json::Map::new();
    v.insert("entry_id".into(), id.into());
    if let Value::Object(o) = m.to_json() {
        v.extend(o);
    }
    Value::Object(v)
}

/// `genhist analyze`; the exit code (1 when a take could not be measured).
pub(super) fn run(out: &mut impl Write, dir: &Path, t: &IndexText, a: &AnalyzeArgs) -> Result<i32> {
    let entries: Vec<HistoryEntry> = if a.ids.is_empty() {
        let (all, invalid) = t.newest(None, None);
        super::warn_invalid(t.path(), &invalid);
        all
    } else {
        a.ids
            .iter()
            .map(|id| t.find(id))
            .collect::<Result<_, _>>()?
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar =
        super::progress::Progress::new(true, "measuring {bar:30} {pos}/{len} takes  {eta} left");
    let bar = Mutex::new(bar);
    let results = measure_all(dir, &entries, jobs, &|d, n| {
        bar.lock().unwrap_or_else(|p| p.into_inner()).tick(d, n)
    });
    bar.lock().unwrap_or_else(|p| p.into_inner()).finish();
    let mut failed = 0;
    if a.json {
        let arr: Vec<Value> = entries
            .iter()
            .zip(&results)
            .filter_map(|(e, r)| r.as_ref().ok().map(|m| measures_json(&e.entry_id, m)))
            .collect();
        writeln!(
            out,
            "{}",
            crate::store::pyjson::to_output_json(&Value::Array(arr))
        )?;
    } else {
        writeln!(
            out,
            "{:<8}  {:>6}  {:>5}  {:>6}  {:>6}  {:>6}  {:>6}  {:>5}  {:>5}  {:>7}",
            "ID", "LUFS", "LRA", "PEAK", "TP", "CLIP", "DC", "HEAD", "TAIL", "CENTR"
        )?;
    }
    for (e, r) in entries.iter().zip(&results) {
        match r {
            Ok(m) if !a.json => {
                let n = |k: &str, p: usize| match m.get(k) {
                    Some(v) => format!("{v:.p$}"),
                    None => "n/a".into(),
                };
                writeln!(
                    out,
                    "{}  {:>6}  {:>5}  {:>6}  {:>6}  {:>6}  {:>6}  {:>5}  {:>5}  {:>7}",
                    crate::text::pad(&sanitize(e.short_id()), 8),
                    n("lufs", 1),
                    n("lra", 1),
                    n("peak", 1),
                    n("true_peak", 1),
                    m.clipped,
                    n("dc", 1),
                    n("silence_head", 2),
                    n("silence_tail", 2),
                    n("centroid", 0)
                )?;
            }
            Ok(_) => {}
            Err(why) => {
                failed += 1;
                eprintln!(
                    "cannot measure {}: {}",
                    sanitize(e.short_id()),
                    sanitize(why)
                );
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `genhist spectrogram ID --png FILE`.
pub(super) fn spectrogram(dir: &Path, t: &IndexText, a: &SpectrogramArgs) -> Result<()> {
    let e = t.find(&a.id)?;
    let root = Dir::open(dir)?;
    let p = crate::store::paths::RelPath::parse(&e.audio_file()).map_err(anyhow::Error::msg)?;
    let (parent, name, _) = crate::export::open_source(&root, &p).map_err(anyhow::Error::msg)?;
    let f = parent.open_regular(&name)?;
    let mut w = crate::wav::open_file(f).map_err(anyhow::Error::msg)?;
    let s = crate::analysis::spectrum::compute(&mut w, a.width as usize, a.height as usize)
        .map_err(anyhow::Error::msg)?;
    let img = crate::analysis::spectrum::picture(&s);
    let dest = crate::fsutil::expand_home(&a.png.to_string_lossy());
    crate::export::refuse_inside(dir, &t.claims(), &dest).map_err(anyhow::Error::msg)?;
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = dest
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("{} is not a file name", dest.display()))?;
    let pdir = Dir::open(parent)?;
    if let Some(st) = pdir.stat(file)? {
        if crate::fsutil::kind(&st) != rustix::fs::FileType::RegularFile {
            bail!(
                "{} is not a regular file; nothing was written",
                dest.display()
            );
        }
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    let mut tmp = crate::fsutil::TempFile::create(&pdir, file, None)?;
    tmp.write_with(|w| w.write_all(&png))?;
    tmp.commit(file)?;
    Ok(())
}
