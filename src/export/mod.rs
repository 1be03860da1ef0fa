//! Export of the keepers: each chosen take's WAV (and, when asked, its
//! PNG) copied or linked into a place outside the history, under a name
//! made from a template, with the take's parameters inside the WAV (see
//! [`riff`]) and in `manifest.json` / `manifest.csv` beside the files.
//!
//! Nothing in the destination is ever written over unless asked (a file
//! that is there is skipped and named); each file is written under a
//! temporary name and renamed, so a killed export leaves no partial file
//! under a final name, and running it again completes only what is
//! missing (a file that is there already and holds the same take counts
//! as exported). Nothing inside the history directory is ever written
//! (see [`target`]).

pub(crate) mod manifest;
pub mod name;
pub(crate) mod riff;
mod target;

use crate::fsutil::{Dir, TempFile};
use crate::store::annotations::Annotation;
use crate::store::paths::{Claims, RelPath};
use crate::store::HistoryEntry;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// How the files get to the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// A hard link to the take's file (same file system; no INFO chunk).
    Hard,
    /// A symbolic link to the take's file (no INFO chunk).
    Sym,
}

/// What to export, where and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// A directory (made when missing), or a `.wav` file name for one take.
    pub dest: PathBuf,
    pub template: name::Template,
    /// Links instead of copies.
    pub link: Option<Link>,
    /// The PNG thumbnails too.
    pub png: bool,
    /// Replace files that are there (never genhist's or a take's own).
    pub overwrite: bool,
    /// Say what would be written; write nothing.
    pub dry_run: bool,
}

/// A take to export: its entry, its stored fields with its annotations
/// (as `genhist show --json` prints them), its annotation.
#[derive(Debug, Clone)]
pub struct Take {
    pub entry: HistoryEntry,
    pub json: Map<String, Value>,
    pub annotation: Annotation,
    /// Its measures, when it has been measured (name fields, manifest).
    pub measures: Option<crate::analysis::Measures>,
}

/// A file of the export: where, for which take, how many bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub entry_id: String,
    pub file: String,
    pub bytes: u64,
}

/// A file not written, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NotPlaced {
    pub entry_id: String,
    pub file: String,
    pub why: String,
}

/// What an export did (or, in a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The directory the files are in.
    pub dest: PathBuf,
    pub written: Vec<Placed>,
    /// There already, holding the same take.
    pub already: Vec<Placed>,
    /// There already, something else (written over only with `overwrite`).
    pub skipped: Vec<NotPlaced>,
    /// Could not be written.
    pub failed: Vec<NotPlaced>,
    /// The manifest could not be read or written.
    pub manifest_error: Option<String>,
    pub dry_run: bool,
}

impl Report {
    /// Takes whose WAV is in the destination now (written or already).
    pub fn takes(&self) -> usize {
        self.written
            .iter()
            .chain(&self.already)
            .filter(|p| p.file.to_ascii_lowercase().ends_with(".wav"))
            .count()
    }

    /// True when everything asked for is there.
    pub fn complete(&self) -> bool {
        self.skipped.is_empty() && self.failed.is_empty() && self.manifest_error.is_none()
    }

    /// One line for the end of an export.
    pub fn summary(&self) -> String {
        let bytes: u64 = self.written.iter().map(|p| p.bytes).sum();
        let verb = if self.dry_run {
            "would export"
        } else {
            "exported"
        };
        let mut s = format!(
            "{verb} {} to {} ({} written, {}",
            crate::text::count(self.takes(), "take", "takes"),
            crate::text::sanitize(&self.dest.display().to_string()),
            crate::text::count(self.written.len(), "file", "files"),
            crate::text::size(bytes)
        );
        if !self.already.is_empty() {
            s.push_str(&format!(", {} already there", self.already.len()));
        }
        s.push(')');
        if !self.skipped.is_empty() {
            s.push_str(&format!(
                "; skipped {} already there: {}",
                crate::text::count(self.skipped.len(), "file", "files"),
                names(&self.skipped)
            ));
        }
        if !self.failed.is_empty() {
            s.push_str(&format!(
                "; {} failed: {}",
                crate::text::count(self.failed.len(), "file", "files"),
                self.failed
                    .iter()
                    .take(3)
                    .map(|f| format!("{} ({})", f.file, f.why))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(e) = &self.manifest_error {
            s.push_str(&format!("; manifest not written: {e}"));
        }
        crate::text::sanitize(&s).into_owned()
    }
}

fn names(list: &[NotPlaced]) -> String {
    let mut s: Vec<String> = list.iter().take(3).map(|n| n.file.clone()).collect();
    if list.len() > 3 {
        s.push(format!("and {} more", list.len() - 3));
    }
    s.join(", ")
}

/// One file to place.
struct Job<'a> {
    take: &'a Take,
    /// Its path in the history.
    source: String,
    /// Its name in the destination.
    file: String,
    wav: bool,
}

pub(crate) use target::open_source;

/// Refuses `dest` (a file to write) when it is inside the history
/// directory in `dir` however reached, or is the index or a take's file.
pub(crate) fn refuse_inside(dir: &Path, claims: &Claims, dest: &Path) -> Result<(), String> {
    let mut guard = target::Protected::of(dir, claims)?;
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(there) = parent.ancestors().find(|a| a.exists()) {
        guard.check_dir(there)?;
    }
    if std::fs::symlink_metadata(dest).is_ok() {
        guard.check_file(dest)?;
    }
    Ok(())
}

/// The takes to export for `entries`, with their annotations from `notes`.
pub fn takes_of(
    entries: Vec<HistoryEntry>,
    notes: &crate::store::annotations::AnnotationFile,
    measured: &crate::analysis::Measured,
) -> Vec<Take> {
    entries
        .into_iter()
        .map(|entry| {
            let json = match notes.entry_json(&entry) {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let annotation = notes.of(&entry.entry_id);
            let measures = measured.get(&entry.entry_id).copied();
            Take {
                entry,
                json,
                annotation,
                measures,
            }
        })
        .collect()
}

/// The names the takes get, in order (the template, made safe and unique).
pub fn plan_names(takes: &[Take], template: &name::Template) -> Vec<String> {
    let of = takes.len();
    let stems = takes
        .iter()
        .enumerate()
        .map(|(i, t)| {
            name::safe_name(&template.render(&name::NameOf {
                entry: &t.entry,
                annotation: &t.annotation,
                n: i + 1,
                of,
                // A measure as a name field: one decimal, `na` undefined.
                more: &|f| {
                    let m = t.measures.as_ref()?;
                    Some(match m.get(f) {
                        Some(v) if f == "clipped" => format!("{}", v as u64),
                        Some(v) => format!("{v:.1}"),
                        None => "na".into(),
                    })
                },
            }))
        })
        .collect();
    name::unique(stems)
}

/// Exports `takes` from the history in `dir` as `opts` says; `progress`
/// hears (files done, files in all) as it goes. An error before anything
/// is written (a place inside the history, a destination that cannot be
/// made); afterwards each file's failure is in the report.
pub fn export(
    dir: &Path,
    claims: &Claims,
    takes: &[Take],
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, String> {
    let guard = target::Protected::of(dir, claims)?;
    let one_file = opts
        .dest
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        && !opts.dest.is_dir();
    let (dest, stems) = if one_file {
        if takes.len() != 1 {
            return Err(format!(
                "{} names one file; give a directory to export {}",
                opts.dest.display(),
                crate::text::count(takes.len(), "take", "takes")
            ));
        }
        let parent = opts
            .dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let stem = opts
            .dest
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{} is not a file name", opts.dest.display()))?;
        (parent, vec![stem.to_string()])
    } else {
        (opts.dest.clone(), plan_names(takes, &opts.template))
    };
    // Checked before anything is made: the nearest place that exists.
    if let Some(there) = dest.ancestors().find(|a| a.exists()) {
        guard.check_dir(there)?;
    }
    if !opts.dry_run {
        std::fs::create_dir_all(&dest)
            .map_err(|e| format!("cannot make the directory {}: {e}", dest.display()))?;
        guard.check_dir(&dest)?;
    }
    let dest = dest.canonicalize().unwrap_or(dest);
    let mut report = Report {
        dest: dest.clone(),
        dry_run: opts.dry_run,
        ..Report::default()
    };
    let mut jobs = Vec::new();
    for (t, stem) in takes.iter().zip(&stems) {
        jobs.push(Job {
            take: t,
            source: t.entry.audio_file().into_owned(),
            file: format!("{stem}.wav"),
            wav: true,
        });
        if opts.png {
            jobs.push(Job {
                take: t,
                source: t.entry.thumbnail_file().into_owned(),
                file: format!("{stem}.png"),
                wav: false,
            });
        }
    }
    let root = Dir::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = match Dir::open(&dest) {
        Ok(d) => Some(d),
        Err(_) if opts.dry_run => None,
        Err(e) => return Err(format!("{}: {e}", dest.display())),
    };
    if let (Some(out), false) = (&out, opts.dry_run) {
        target::sweep(out);
    }
    let old_manifest = if one_file {
        Ok(Vec::new())
    } else {
        manifest::read(&dest)
    };
    let mut rows = Vec::new();
    let total = jobs.len();
    let results = place_all(&root, out.as_ref(), &dest, &jobs, opts, guard, progress);
    for (job, r) in jobs.iter().zip(results) {
        let in_place = matches!(r, Ok(Outcome::Written(_) | Outcome::Already(_)));
        let placed = |bytes| Placed {
            entry_id: job.take.entry.entry_id.clone(),
            file: job.file.clone(),
            bytes,
        };
        let not = |why: String| NotPlaced {
            entry_id: job.take.entry.entry_id.clone(),
            file: job.file.clone(),
            why,
        };
        match r {
            Ok(Outcome::Written(bytes)) => report.written.push(placed(bytes)),
            Ok(Outcome::Already(bytes)) => report.already.push(placed(bytes)),
            Ok(Outcome::Skipped(why)) => report.skipped.push(not(why)),
            Err(why) => report.failed.push(not(why)),
        }
        if in_place && job.wav {
            let mut row = manifest::row(&job.file, &job.take.json, &job.take.annotation);
            if let Some(Value::Object(m)) = job.take.measures.map(|m| m.to_json()) {
                for (k, v) in m {
                    row.insert(format!("analysis.{k}"), v);
                }
            }
            rows.push(row);
        }
    }
    progress(total, total);
    if !one_file && !opts.dry_run {
        report.manifest_error = match old_manifest {
            // Nothing exported, nothing there: no empty manifest.
            Ok(old) if old.is_empty() && rows.is_empty() => None,
            Ok(old) => manifest::merge_and_write(&dest, old, rows).err(),
            Err(e) => Some(e),
        };
    }
    Ok(report)
}

enum Outcome {
    Written(u64),
    Already(u64),
    Skipped(String),
}

/// Places every job, on as many threads as there are cores (at most 4):
/// copying is bound by memory bandwidth, which one thread does not fill.
/// `progress` hears from this thread as files finish. Results in the
/// jobs' order.
fn place_all(
    root: &Dir,
    out: Option<&Dir>,
    dest: &Path,
    jobs: &[Job<'_>],
    opts: &Options,
    guard: target::Protected,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<Result<Outcome, String>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = Mutex::new(guard);
    let results: Mutex<Vec<Option<Result<Outcome, String>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let total = jobs.len();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, results, guard) = (&next, &results, &guard);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    place(root, out, dest, job, opts, guard)
                }))
                .unwrap_or_else(|p| Err(format!("failed: {}", crate::text::panic_text(&*p))));
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                let _ = tx.send(());
            });
        }
        drop(tx);
        // Each file done is heard here; the channel closes when all are.
        let mut done = 0;
        while rx.recv().is_ok() {
            done += 1;
            progress(done, total);
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not placed".into())))
        .collect()
}

/// Places one file (see [`export`]).
fn place(
    root: &Dir,
    out: Option<&Dir>,
    dest: &Path,
    job: &Job<'_>,
    opts: &Options,
    guard: &std::sync::Mutex<target::Protected>,
) -> Result<Outcome, String> {
    let rel = RelPath::parse(&job.source).map_err(|why| format!("{}: {why}", job.source))?;
    let (parent, name, bytes) = target::open_source(root, &rel)?;
    let path = dest.join(&job.file);
    let there = out.and_then(|o| o.stat(&job.file).ok().flatten());
    let mut replace = None;
    if let Some(st) = there {
        let o = out.expect("a stat came from it");
        // A link to the take itself is never replaced (there is nothing to
        // replace it with); a copy of it only when asked.
        let link = crate::fsutil::kind(&st) == rustix::fs::FileType::Symlink
            || parent
                .stat(&name)
                .ok()
                .flatten()
                .is_some_and(|s| (s.st_dev, s.st_ino) == (st.st_dev, st.st_ino));
        if same_take(o, &job.file, &st, &parent, &name, job)? && (!opts.overwrite || link) {
            return Ok(Outcome::Already(st.st_size as u64));
        }
        if !opts.overwrite {
            return Ok(Outcome::Skipped("there already".into()));
        }
        guard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .check_file(&path)?;
        replace = Some(st);
    }
    if opts.dry_run {
        return Ok(Outcome::Written(bytes));
    }
    let out = out.expect("made unless a dry run");
    match opts.link {
        Some(Link::Hard) => link_hard(&parent, &name, out, &job.file, replace.is_some())?,
        Some(Link::Sym) => {
            let target = root
                .path()
                .canonicalize()
                .unwrap_or(root.path().to_path_buf());
            link_sym(
                &target.join(rel.to_string()),
                out,
                &job.file,
                replace.is_some(),
            )?
        }
        None => {
            let written = copy(&parent, &name, out, &job.file, job, replace.as_ref())?;
            return Ok(Outcome::Written(written));
        }
    }
    Ok(Outcome::Written(bytes))
}

/// Whether the file `file` in `out` (stat `st`) is this take's export
/// already: the same file (a link), or a copy whose INFO names the take,
/// or (a PNG) the same bytes.
fn same_take(
    out: &Dir,
    file: &str,
    st: &crate::fsutil::Stat,
    parent: &Dir,
    name: &str,
    job: &Job<'_>,
) -> Result<bool, String> {
    let src = parent
        .stat(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} is missing", job.source))?;
    if (st.st_dev, st.st_ino) == (src.st_dev, src.st_ino) {
        return Ok(true);
    }
    if crate::fsutil::kind(st) == rustix::fs::FileType::Symlink {
        use std::os::unix::ffi::OsStrExt;
        let to = rustix::fs::readlinkat(out, file, Vec::new()).map_err(|e| e.to_string())?;
        let to = out.path().join(std::ffi::OsStr::from_bytes(to.as_bytes()));
        let (a, b) = (
            std::fs::canonicalize(to),
            std::fs::canonicalize(parent.join(name)),
        );
        return Ok(matches!((a, b), (Ok(a), Ok(b)) if a == b));
    }
    if crate::fsutil::kind(st) != rustix::fs::FileType::RegularFile {
        return Ok(false);
    }
    let Ok(mut f) = out.open_regular(file) else {
        return Ok(false);
    };
    if job.wav {
        let found = riff::read(&mut f, 1 << 20).unwrap_or_default();
        let id = found
            .json
            .and_then(|j| {
                serde_json::from_slice::<Value>(&crate::store::nonfinite::to_markers(j.as_bytes()))
                    .ok()
            })
            .and_then(|v| {
                v.get("entry_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        if id.as_deref() != Some(job.take.entry.entry_id.as_str()) {
            return Ok(false);
        }
        // And whole: its audio as long as the take's (a copy cut short by a
        // crash or by hand is written again).
        let mut s = parent.open_regular(name).map_err(|e| e.to_string())?;
        let (Some(mine), Some(theirs)) = (
            riff::audio_bytes(&mut f, st.st_size as u64),
            riff::audio_bytes(&mut s, src.st_size as u64),
        ) else {
            return Ok(false);
        };
        return Ok(mine == theirs);
    }
    if st.st_size != src.st_size {
        return Ok(false);
    }
    let mut a = Vec::new();
    let mut b = Vec::new();
    use std::io::Read;
    f.read_to_end(&mut a).map_err(|e| e.to_string())?;
    parent
        .open_regular(name)
        .and_then(|mut s| s.read_to_end(&mut b))
        .map_err(|e| e.to_string())?;
    Ok(a == b)
}

/// Copies the take's file `name` (in `parent`) to `file` in `out`: a WAV
/// with the take's INFO chunk, anything else as it is; through a temp file.
fn copy(
    parent: &Dir,
    name: &str,
    out: &Dir,
    file: &str,
    job: &Job<'_>,
    replace: Option<&crate::fsutil::Stat>,
) -> Result<u64, String> {
    let shown = || out.join(file).display().to_string();
    let mut src = parent
        .open_regular(name)
        .map_err(|e| format!("{}: {e}", job.source))?;
    let mut tmp = TempFile::create(out, file, None).map_err(|e| format!("{}: {e}", shown()))?;
    let written = if job.wav {
        let e = &job.take.entry;
        let created = e
            .time_us()
            .and_then(chrono::DateTime::from_timestamp_micros)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or_else(|| e.timestamp().get(..10).unwrap_or_default().to_string());
        let stem = file.strip_suffix(".wav").unwrap_or(file).to_string();
        let info = riff::Info::new(stem, &Value::Object(job.take.json.clone()), created);
        riff::copy_with_info(&mut src, tmp.file(), &info)
            .map_err(|e| format!("{}: {e}", job.source))?
    } else {
        std::io::copy(&mut src, tmp.file()).map_err(|e| format!("{}: {e}", shown()))?
    };
    crate::fault::kill_point("export-written");
    let placed = match replace {
        Some(_) => tmp
            .commit_if(file, |now| {
                now.is_none_or(|st| crate::fsutil::kind(st) == rustix::fs::FileType::RegularFile)
            })
            .map_err(|e| format!("{}: {e}", shown()))?,
        None => match tmp.commit_new_unsynced(file) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(
                    "another program put a file there meanwhile; it was left as it is".into(),
                )
            }
            Err(e) => return Err(format!("{}: {e}", shown())),
        },
    };
    if !placed {
        return Err(
            "it changed into something that is not a regular file; it was left as it is".into(),
        );
    }
    Ok(written)
}

fn link_hard(parent: &Dir, name: &str, out: &Dir, file: &str, replace: bool) -> Result<(), String> {
    use rustix::fs::{linkat, renameat, AtFlags};
    let cross = |e: rustix::io::Errno| {
        if e == rustix::io::Errno::XDEV {
            "the destination is on another file system than the history; a hard link cannot \
             cross (use --link sym, or copies)"
                .to_string()
        } else {
            e.to_string()
        }
    };
    if !replace {
        return linkat(parent, name, out, file, AtFlags::empty()).map_err(cross);
    }
    let tmp = format!(".{file}.{}.link.tmp", std::process::id());
    let _ = rustix::fs::unlinkat(out, tmp.as_str(), AtFlags::empty());
    linkat(parent, name, out, tmp.as_str(), AtFlags::empty()).map_err(cross)?;
    renameat(out, tmp.as_str(), out, file).map_err(|e| e.to_string())
}

fn link_sym(to: &Path, out: &Dir, file: &str, replace: bool) -> Result<(), String> {
    use rustix::fs::{renameat, symlinkat, AtFlags};
    if !replace {
        return symlinkat(to, out, file).map_err(|e| e.to_string());
    }
    let tmp = format!(".{file}.{}.link.tmp", std::process::id());
    let _ = rustix::fs::unlinkat(out, tmp.as_str(), AtFlags::empty());
    symlinkat(to, out, tmp.as_str()).map_err(|e| e.to_string())?;
    renameat(out, tmp.as_str(), out, file).map_err(|e| e.to_string())
}
