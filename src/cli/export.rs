//! `genhist export` (the keepers out, named, with their parameters) and
//! `genhist params` (a take's parameters back to the generator).

use super::UsageError;
use crate::export::{self, name::Template, Link, Options, Report};
use crate::store::lite::IndexText;
use crate::store::HistoryEntry;
use crate::text::sanitize;
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A directory (made when missing), or NAME.wav to export one take under that name
    pub dest: PathBuf,
    /// Full ids or unique prefixes (4+ characters) of the takes to export
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// The takes matching EXPR, the browser's :filter language (e.g. 'rating>=4 !rejected')
    #[arg(long, value_name = "EXPR", conflicts_with_all = ["ids", "all"])]
    pub filter: Option<String>,
    /// Every take
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// File names from fields: {model} {model_id} {preset} {seed} {rating} {tags} {date} {time} {id} {id8} {n} (default: [export] name in the config, else {model}_{preset}_{seed}_{id8})
    #[arg(long, value_name = "TEMPLATE")]
    pub name: Option<String>,
    /// Link instead of copying (hard: same file system; sym: a symbolic link). Links carry no INFO chunk
    #[arg(long, value_name = "KIND", value_parser = ["hard", "sym"])]
    pub link: Option<String>,
    /// The PNG thumbnails too
    #[arg(long)]
    pub png: bool,
    /// Replace files that are in DEST already (never the history's own)
    #[arg(long)]
    pub overwrite: bool,
    /// Print the names it would write; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print what was done as JSON
    #[arg(long)]
    pub json: bool,
}

/// The takes `a` chooses, in order: the ids as given, else the matching or
/// all takes newest first.
fn chosen(
    a: &ExportArgs,
    dir: &std::path::Path,
    t: &IndexText,
    notes: &crate::store::annotations::AnnotationFile,
) -> Result<Vec<HistoryEntry>> {
    if !a.ids.is_empty() {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for id in &a.ids {
            let e = t.find(id)?;
            if seen.insert(e.entry_id.clone()) {
                out.push(e);
            }
        }
        return Ok(out);
    }
    let (all, invalid) = t.newest(None, None);
    super::warn_invalid(t.path(), &invalid);
    match &a.filter {
        Some(f) => {
            let f =
                crate::query::Filter::parse(f).map_err(|e| UsageError(format!("--filter: {e}")))?;
            let typed = notes.typed();
            let measured = if f.uses_measures() {
                crate::analysis::cache::measured(dir, &all)
            } else {
                Default::default()
            };
            let facts = crate::analysis::Facts {
                notes: &typed,
                measures: &measured,
            };
            Ok(all.into_iter().filter(|e| f.matches(e, facts)).collect())
        }
        None if a.all => Ok(all),
        None => Err(UsageError(
            "say which takes: IDs, --filter EXPR or --all (see genhist export --help)".into(),
        )
        .into()),
    }
}

/// `genhist export`; the exit code (1 when a file was skipped or failed).
pub(super) fn run(out: &mut impl Write, dir: &std::path::Path, a: &ExportArgs) -> Result<i32> {
    let template = match &a.name {
        Some(n) => {
            Template::parse(n, &|_| false).map_err(|e| UsageError(format!("--name: {e}")))?
        }
        None => crate::config::load().0.browser.export_name,
    };
    let t = super::open_text(dir)?;
    let notes = super::triage::load_or_warn(dir);
    let entries = chosen(a, dir, &t, &notes)?;
    if entries.is_empty() {
        eprintln!("no take matches: nothing to export");
        return Ok(0);
    }
    let measured = crate::analysis::cache::measured(dir, &entries);
    let takes = export::takes_of(entries, &notes, &measured);
    let opts = Options {
        dest: crate::fsutil::expand_home(&a.dest.to_string_lossy()),
        template,
        link: a
            .link
            .as_deref()
            .map(|l| if l == "hard" { Link::Hard } else { Link::Sym }),
        png: a.png,
        overwrite: a.overwrite,
        dry_run: a.dry_run,
    };
    let bar = super::progress::Progress::new(
        !a.dry_run && !a.json,
        "exporting {bar:30} {pos}/{len} files  {eta} left",
    );
    let report = export::export(dir, &t.claims(), &takes, &opts, &mut |done, total| {
        bar.tick(done, total)
    })
    .map_err(anyhow::Error::msg)?;
    bar.finish();
    if a.json {
        writeln!(
            out,
            "{}",
            crate::store::pyjson::to_output_json(&report_json(&report))
        )?;
    } else {
        print_report(out, &report)?;
    }
    Ok(if report.complete() { 0 } else { 1 })
}

fn print_report(out: &mut impl Write, r: &Report) -> Result<()> {
    let s = |x: &str| sanitize(x).into_owned();
    let verb = if r.dry_run { "would write" } else { "wrote" };
    for p in &r.written {
        writeln!(
            out,
            "{verb} {}  ({})",
            s(&p.file),
            s(crate::text::short_id(&p.entry_id))
        )?;
    }
    for p in &r.already {
        writeln!(
            out,
            "there already: {}  ({})",
            s(&p.file),
            s(crate::text::short_id(&p.entry_id))
        )?;
    }
    for p in &r.skipped {
        writeln!(
            out,
            "skipped {}: {} (--overwrite replaces it)",
            s(&p.file),
            s(&p.why)
        )?;
    }
    for p in &r.failed {
        writeln!(out, "failed {}: {}", s(&p.file), s(&p.why))?;
    }
    if let Some(e) = &r.manifest_error {
        writeln!(out, "manifest not written: {}", s(e))?;
    }
    writeln!(out, "{}", r.summary())?;
    Ok(())
}

fn report_json(r: &Report) -> Value {
    let placed = |l: &[export::Placed]| -> Value {
        l.iter()
            .map(|p| json!({"file": p.file, "entry_id": p.entry_id, "bytes": p.bytes}))
            .collect()
    };
    let not = |l: &[export::NotPlaced]| -> Value {
        l.iter()
            .map(|p| json!({"file": p.file, "entry_id": p.entry_id, "why": p.why}))
            .collect()
    };
    json!({
        "dest": r.dest.display().to_string(),
        "dry_run": r.dry_run,
        "written": placed(&r.written),
        "already": placed(&r.already),
        "skipped": not(&r.skipped),
        "failed": not(&r.failed),
        "manifest_error": r.manifest_error,
    })
}

/// The fields a generator needs to make a take again, in the seed's order.
const GENERATION: [&str; 10] = [
    "model_id",
    "model_name",
    "slider_positions",
    "n_components",
    "seed",
    "preset_name",
    "stereo_mode",
    "duration_s",
    "sample_rate",
    "latent_vector",
];

/// `genhist params ID`: the take's generation parameters (a latent vector
/// only when it has one), as `key: value` lines or JSON.
pub(super) fn params(out: &mut impl Write, e: &HistoryEntry, as_json: bool) -> Result<()> {
    let Value::Object(stored) = e.to_json() else {
        unreachable!("an entry is an object")
    };
    let mut p = Map::new();
    for k in GENERATION {
        match stored.get(k) {
            Some(Value::Null) if k == "latent_vector" => {}
            Some(v) => {
                p.insert(k.to_string(), v.clone());
            }
            None => {}
        }
    }
    if as_json {
        writeln!(
            out,
            "{}",
            crate::store::pyjson::to_output_json(&Value::Object(p))
        )?;
    } else {
        for (k, v) in &p {
            writeln!(out, "{k}: {}", sanitize(&crate::store::pyjson::display(v)))?;
        }
    }
    Ok(())
}
