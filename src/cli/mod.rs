//! The command line: `genhist [DIR]` opens the browser; subcommands do the same
//! work without the screen. Errors go to stderr; exit 1 on failure, 2 on bad
//! usage. A closed pipe (`genhist list | head`) ends a command quietly.

mod add;
mod analyze;
mod export;
mod man;
mod play;
mod progress;
mod report;
mod triage;

use crate::store::annotations::Edit;
use crate::store::lite::IndexText;
use crate::store::rewrite::Selection;
use crate::store::trash::{self, DeleteOptions, PurgeWhat};
use crate::store::{Field, HistoryDir, InvalidEntry, INDEX_FILE};
use crate::text::sanitize;
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "genhist",
    version,
    about = "Browse, play and prune generative-audio history directories",
    long_about = "Browse, play and prune generative-audio history directories.\n\nWithout a subcommand, genhist opens the full-screen browser over DIR."
)]
pub struct Cli {
    /// History directory (default: $GENHIST_DIR, else the current directory if it holds history.json); before or after the subcommand
    #[arg(long, value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    /// Open the demo history (created on first use in your data directory)
    #[arg(long)]
    pub demo: bool,
    /// File for the command bar's input history (default: DIR/.genhist_history)
    #[arg(long, value_name = "FILE")]
    pub command_history: Option<PathBuf>,
    /// Output device for the browser and `play`: its name (see `genhist devices`) or a unique part of it (else $GENHIST_DEVICE, else [audio] device in the config, else the default)
    #[arg(long, value_name = "NAME", global = true)]
    pub device: Option<String>,
    /// Open the browser with the default volume, sort and filter, forgetting the ones it remembers for DIR
    #[arg(long)]
    pub fresh: bool,
    /// History directory to browse (same as --dir)
    #[arg(value_name = "DIR")]
    pub path: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// List takes, newest first
    List {
        /// Only takes of this model (its id or its name)
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
        /// At most N takes
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Only takes matching EXPR, the browser's :filter language (e.g. 'rating>=4 !rejected tag=keep')
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
        /// Print the takes as stored (unknown fields included) as JSON, with their annotations
        #[arg(long)]
        json: bool,
    },
    /// Show every field of one take, with its files
    Show {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// Print the take as stored, as JSON, with its annotations
        #[arg(long)]
        json: bool,
    },
    /// Rate a take from 1 to 5 stars (0 removes the rating)
    Rate {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// 0 to 5
        #[arg(value_parser = clap::value_parser!(u8).range(0..=5))]
        rating: u8,
    },
    /// Mark a take as rejected (`genhist purge` moves rejected takes to the trash)
    Reject {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// Take the reject mark away
        #[arg(long)]
        clear: bool,
    },
    /// Add (+TAG or TAG) or remove (-TAG) tags of a take
    Tag {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// +TAG adds, -TAG removes
        #[arg(required = true, allow_hyphen_values = true, value_name = "TAG")]
        changes: Vec<String>,
    },
    /// Set a take's note ("" removes it)
    Note {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// The note (several words are joined with spaces)
        #[arg(required = true, allow_hyphen_values = true, value_name = "TEXT")]
        text: Vec<String>,
    },
    /// Move every rejected take to the trash (`genhist undo` brings them back)
    Purge {
        /// Say what would be moved, move nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// The parameters two takes differ in
    Diff {
        /// Full id or a unique prefix (4+ characters)
        a: String,
        /// Full id or a unique prefix (4+ characters)
        b: String,
        /// An object whose keys are the differing fields, each [value_a, value_b]
        #[arg(long)]
        json: bool,
    },
    /// The takes most like one take, nearest first (latent vectors, else parameters)
    Similar {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// At most N takes
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// An array of {entry_id, distance}, nearest first
        #[arg(long)]
        json: bool,
    },
    /// Add a WAV as a new take; prints the new id
    Add(Box<add::AddArgs>),
    /// Measure takes (loudness, range, peaks, clipping, DC, silence, centroid); what is measured is kept
    Analyze(Box<analyze::AnalyzeArgs>),
    /// Write a take's spectrogram as a PNG
    Spectrogram(Box<analyze::SpectrogramArgs>),
    /// Copy (or link) takes out of the history, named from a template, with their parameters in each WAV and in manifest.json / manifest.csv
    Export(Box<export::ExportArgs>),
    /// Print a take's generation parameters (`--json` feeds `genhist add --params`)
    Params {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        /// As a JSON object
        #[arg(long)]
        json: bool,
    },
    /// Delete takes with their WAV and PNG (into the trash: `genhist undo` brings them back)
    Delete {
        /// Full ids or unique prefixes (4+ characters)
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Say what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
        /// Remove the files for good instead of moving them to the trash
        #[arg(long)]
        permanent: bool,
    },
    /// Take back the newest decision: a rating, reject, tag, note, delete, purge or repair
    Undo {
        /// List the decisions that can be undone (newest first) and redone
        #[arg(long)]
        list: bool,
    },
    /// Do again the decision the last undo took back
    Redo,
    /// See or empty the trash of deleted takes
    Trash {
        #[command(subcommand)]
        action: TrashAction,
    },
    /// Move takes whose WAV is missing to the trash; report files no take refers to
    Repair {
        /// Say what would be done, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Count, total size, trash size, per-model counts, oldest and newest
    Stats {
        /// Print the statistics as JSON
        #[arg(long)]
        json: bool,
    },
    /// Play one take to the default audio output and exit when it ends
    Play {
        /// Full id or a unique prefix (4+ characters)
        id: String,
    },
    /// List the output devices (the default marked); `--device` takes a name
    Devices {
        /// An array of {name, description, default}
        #[arg(long)]
        json: bool,
    },
    /// Write a demo history into DIR
    Demo {
        /// Directory to create the demo in
        dir: PathBuf,
        /// Number of takes
        #[arg(long, default_value_t = 40)]
        count: usize,
        /// Index only, no WAV/PNG files (fast; for benchmarks)
        #[arg(long)]
        no_audio: bool,
        /// Seed of the generator (same seed, same takes)
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Add the fake takes even to a directory that already holds takes
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (see the README for where it goes)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): genhist man > ~/.local/share/man/man1/genhist.1
    Man,
}

#[derive(Subcommand, Debug)]
pub enum TrashAction {
    /// List what the trash holds, newest first
    List,
    /// Remove trash batches for good (default: those past the retention setting)
    Purge {
        /// Only batches older than this (30m, 12h, 7d, 2w)
        #[arg(long, value_name = "DURATION", conflicts_with = "all", value_parser = crate::text::parse_duration)]
        older_than: Option<std::time::Duration>,
        /// Everything in the trash
        #[arg(long)]
        all: bool,
    },
}

/// The command line with every `--dir DIR` (or `--dir=DIR`) before a `--`
/// moved to the front, so `--dir` works after any subcommand, even after
/// words a tag or note takes (`genhist note ID hello --dir D`); after `--`
/// everything is words (`genhist note ID -- --dir is text`).
pub fn hoist_dir(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args = args.into_iter();
    let mut out: Vec<std::ffi::OsString> = args.next().into_iter().collect();
    let (mut dirs, mut rest) = (Vec::new(), Vec::new());
    let mut ended = false;
    while let Some(a) = args.next() {
        if ended {
            rest.push(a);
            continue;
        }
        match a.to_str() {
            Some("--") => {
                ended = true;
                rest.push(a);
            }
            Some("--dir") => {
                dirs.push(a);
                if let Some(v) = args.next() {
                    dirs.push(v);
                }
            }
            Some(s) if s.starts_with("--dir=") => dirs.push(a),
            _ => rest.push(a),
        }
    }
    out.extend(dirs);
    out.extend(rest);
    out
}

/// Where the history directory is: --dir, else $GENHIST_DIR, else the current
/// directory when it holds history.json.
fn resolve_dir(cli_dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = cli_dir {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("GENHIST_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    if cwd.join(INDEX_FILE).exists() {
        return Ok(cwd);
    }
    bail!(
        "no history directory: {} has no {INDEX_FILE}.\n  Point genhist at one with --dir DIR or GENHIST_DIR=DIR,\n  or try the demo: genhist --demo (or: genhist demo /tmp/genhist-demo && genhist --dir /tmp/genhist-demo)",
        cwd.display()
    )
}

/// The history directory as changes see it (retention from the config).
fn history_dir(dir: &Path) -> HistoryDir {
    let (config, problem) = crate::config::load();
    if let Some(p) = problem {
        eprintln!("warning: {}", sanitize(&p));
    }
    HistoryDir::new(dir)
        .with_retention(config.trash_retention)
        .with_notes(std::sync::Arc::new(|n: &str| {
            eprintln!("note: {}", sanitize(n));
        }))
}

fn check_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    Ok(())
}

/// Before a command that reads: finish what a killed genhist left unfinished.
fn recover(dir: &Path) {
    for note in crate::store::change::recover_if_needed(&HistoryDir::new(dir)) {
        eprintln!("note: {}", sanitize(&note));
    }
}

/// Reads the index without parsing every entry (for commands that touch a few).
fn open_text(dir: &Path) -> Result<IndexText> {
    check_dir(dir)?;
    recover(dir);
    read_text(dir)
}

/// Looks one take up ([`crate::store::find_entry`]: the index streamed,
/// not held, when it is large), with who refers to which files when
/// `claims`. The outer `Err`: the index cannot be read; the inner: no take
/// is found (after the index's warnings, as a command reading it says).
fn find_one(
    dir: &Path,
    id: &str,
    claims: bool,
) -> Result<std::result::Result<crate::store::Found, crate::store::StoreError>> {
    check_dir(dir)?;
    recover(dir);
    let (seen, found) = crate::store::find_entry(dir, id, claims)?;
    if let Some(w) = crate::store::version_warning(&seen.path, seen.version.as_ref(), seen.exists) {
        eprintln!("warning: {}", sanitize(&w));
    }
    Ok(found)
}

/// [`open_text`] once the directory is checked and recovered.
fn read_text(dir: &Path) -> Result<IndexText> {
    let t = IndexText::read(dir)?;
    if let Some(w) = crate::store::version_warning(t.path(), t.version().as_ref(), t.exists()) {
        eprintln!("warning: {}", sanitize(&w));
    }
    Ok(t)
}

fn warn_invalid(index: &Path, invalid: &[InvalidEntry]) {
    if invalid.is_empty() {
        return;
    }
    eprintln!(
        "warning: {} in {} could not be read (run `genhist show ID` for details): {}",
        crate::text::count(invalid.len(), "take", "takes"),
        sanitize(&index.display().to_string()),
        invalid
            .iter()
            .take(5)
            .map(|e| sanitize(&e.entry_id).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Prints `genhist list`'s answer (the filter, model and limit asked, to
/// explain an empty one).
#[allow(clippy::too_many_arguments)]
fn print_list(
    out: &mut impl Write,
    dir: &Path,
    list: &[crate::store::HistoryEntry],
    notes: &crate::store::annotations::AnnotationFile,
    json: bool,
    filter: Option<&str>,
    model: Option<&str>,
    limit: Option<usize>,
) -> Result<i32> {
    if json {
        let measured = crate::analysis::cache::measured(dir, list);
        report::print_json_list(out, list, notes, &measured)?;
        return Ok(0);
    }
    report::print_table(out, list, &notes.typed())?;
    if list.is_empty() {
        match filter {
            Some(f) => writeln!(
                out,
                "(no take matches the filter '{}'; without --filter every take is listed)",
                sanitize(f)
            )?,
            None if model.is_some() || limit == Some(0) => writeln!(
                out,
                "(no take matches{}; without options every take is listed)",
                match model {
                    Some(m) => format!(" --model '{}'", sanitize(m)),
                    None => " --limit 0".to_string(),
                }
            )?,
            None => writeln!(
                out,
                "(no takes in {})",
                sanitize(&dir.display().to_string())
            )?,
        }
    }
    Ok(0)
}

/// Runs a subcommand; `Ok(code)` is the process exit code.
fn run_command(cli: &Cli, command: &CliCommand) -> Result<i32> {
    let out = std::io::stdout();
    let mut out = out.lock();
    // The commands without a history directory.
    match command {
        CliCommand::Demo {
            dir,
            count,
            no_audio,
            seed,
            force,
        } => {
            // Fake takes never go into a real history by accident.
            if !force && dir.join(INDEX_FILE).exists() {
                let n = IndexText::read(dir).map(|t| t.len()).unwrap_or(1);
                if n > 0 {
                    bail!(
                        "{} already holds {}: the demo would add fake takes to it. Pick an empty directory, or say --force to add them anyway",
                        dir.display(),
                        crate::text::count(n, "take", "takes")
                    );
                }
            }
            let n = crate::demo::write_demo(dir, *count, !no_audio, *seed)?;
            writeln!(out, "wrote {n} demo takes to {}", dir.display())?;
            writeln!(out, "browse them with: genhist --dir {}", dir.display())?;
            return Ok(0);
        }
        CliCommand::Devices { json } => {
            let devices = crate::playback::device::list_devices()
                .map_err(|e| anyhow::anyhow!("cannot list the output devices: {e}"))?;
            if *json {
                let v = serde_json::to_value(&devices)?;
                writeln!(out, "{}", crate::store::pyjson::to_output_json(&v))?;
            } else if devices.is_empty() {
                writeln!(out, "(no output devices)")?;
            } else {
                let w = devices
                    .iter()
                    .map(|d| d.name.chars().count())
                    .max()
                    .unwrap_or(0);
                for d in &devices {
                    writeln!(
                        out,
                        "{} {}  {}",
                        if d.default { "*" } else { " " },
                        crate::text::pad(&sanitize(&d.name), w),
                        sanitize(&d.description)
                    )?;
                }
                writeln!(
                    out,
                    "(* the default; --device NAME, GENHIST_DEVICE or [audio] device picks one)"
                )?;
            }
            return Ok(0);
        }
        // Made in memory first: a closed pipe is an error here, never a
        // panic inside the generator.
        CliCommand::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "genhist", &mut text);
            out.write_all(&text)?;
            return Ok(0);
        }
        CliCommand::Man => {
            let mut text = Vec::new();
            man::render(&mut text)?;
            out.write_all(&text)?;
            return Ok(0);
        }
        _ => {}
    }
    let dir = resolve_dir(cli.dir.as_deref().or(cli.path.as_deref()))?;
    match command {
        CliCommand::List {
            model,
            limit,
            filter,
            json,
            ..
        } => {
            check_dir(&dir)?;
            recover(&dir);
            // The newest few, or a model's, without holding the index.
            let fast = match (filter, model, limit) {
                (None, None, Some(n)) => crate::store::newest_without_full_read(&dir, *n),
                (None, Some(m), n) => {
                    crate::store::newest_of_model(&dir, m, n.unwrap_or(usize::MAX))
                }
                _ => None,
            };
            if let Some(n) = fast {
                if let Some(w) = crate::store::version_warning(&n.path, n.version.as_ref(), true) {
                    eprintln!("warning: {}", sanitize(&w));
                }
                warn_invalid(&n.path, &n.invalid);
                let notes = triage::load_or_warn(&dir);
                return print_list(
                    &mut out,
                    &dir,
                    &n.entries,
                    &notes,
                    *json,
                    None,
                    model.as_deref(),
                    *limit,
                );
            }
            let t = read_text(&dir)?;
            let notes = triage::load_or_warn(&dir);
            let (list, invalid) = match filter {
                None => t.newest(model.as_deref(), *limit),
                Some(f) => {
                    let f = crate::query::Filter::parse(f)
                        .map_err(|e| UsageError(format!("--filter: {e}")))?;
                    let typed = notes.typed();
                    let (all, invalid) = t.newest(model.as_deref(), None);
                    let measured = if f.uses_measures() {
                        crate::analysis::cache::measured(&dir, &all)
                    } else {
                        Default::default()
                    };
                    let list = all
                        .into_iter()
                        .filter(|e| {
                            f.matches(
                                e,
                                crate::analysis::Facts {
                                    notes: &typed,
                                    measures: &measured,
                                },
                            )
                        })
                        .take(limit.unwrap_or(usize::MAX))
                        .collect();
                    (list, invalid)
                }
            };
            warn_invalid(t.path(), &invalid);
            print_list(
                &mut out,
                &dir,
                &list,
                &notes,
                *json,
                filter.as_deref(),
                model.as_deref(),
                *limit,
            )?;
        }
        CliCommand::Show { id, json, .. } => {
            let found = find_one(&dir, id, !*json)??;
            let e = found.entry;
            let notes = triage::load_or_warn(&dir);
            let measured = crate::analysis::cache::measured(&dir, std::slice::from_ref(&e));
            if *json {
                writeln!(
                    out,
                    "{}",
                    crate::store::pyjson::to_output_json(&report::entry_json(
                        &e, &notes, &measured
                    ))
                )?;
            } else {
                report::print_entry(&mut out, &dir, &found.claims, &e)?;
                let a = notes.of(&e.entry_id);
                if !a.is_empty() {
                    writeln!(out, "annotations:      {}", a.summary())?;
                }
                if let Some(m) = measured.get(&e.entry_id) {
                    let shown: Vec<String> = crate::analysis::NAMES
                        .iter()
                        .map(|n| format!("{n} {}", m.show(n)))
                        .collect();
                    writeln!(out, "analysis:         {}", shown.join(", "))?;
                }
            }
        }
        CliCommand::Rate { id, rating, .. } => {
            let e = find_one(&dir, id, false)??;
            triage::annotate(&mut out, &history_dir(&dir), &e, Edit::Rate(*rating))?;
        }
        CliCommand::Reject { id, clear, .. } => {
            let e = find_one(&dir, id, false)??;
            triage::annotate(&mut out, &history_dir(&dir), &e, Edit::Reject(!clear))?;
        }
        CliCommand::Tag { id, changes, .. } => {
            // Index, then tag, then id errors, as before.
            let found = find_one(&dir, id, false)?;
            let edit = triage::tag_edit(changes)?;
            let e = found?;
            triage::annotate(&mut out, &history_dir(&dir), &e, edit)?;
        }
        CliCommand::Note { id, text, .. } => {
            let note = crate::command_history::clean_command(&text.join(" "));
            let e = find_one(&dir, id, false)??;
            triage::annotate(&mut out, &history_dir(&dir), &e, Edit::Note(note))?;
        }
        CliCommand::Purge { dry_run, .. } => {
            let t = open_text(&dir)?;
            triage::purge(&mut out, &dir, &history_dir(&dir), &t, *dry_run)?;
        }
        CliCommand::Diff { a, b, json, .. } => {
            let t = open_text(&dir)?;
            triage::diff(&mut out, &t, a, b, *json)?;
        }
        CliCommand::Similar {
            id, limit, json, ..
        } => {
            let t = open_text(&dir)?;
            triage::similar(&mut out, &t, id, *limit, *json)?;
        }
        CliCommand::Analyze(args) => {
            let t = open_text(&dir)?;
            return analyze::run(&mut out, &dir, &t, args);
        }
        CliCommand::Spectrogram(args) => {
            let t = open_text(&dir)?;
            analyze::spectrogram(&dir, &t, args)?;
        }
        CliCommand::Export(args) => {
            return export::run(&mut out, &dir, args);
        }
        CliCommand::Params { id, json, .. } => {
            let e = find_one(&dir, id, false)??.entry;
            export::params(&mut out, &e, *json)?;
        }
        CliCommand::Add(args) => {
            check_dir(&dir)?;
            let (new, depth, mut input) = add::build_new_entry(args)?;
            let e = crate::store::change::add(&history_dir(&dir), &mut input, depth, new)?;
            writeln!(out, "{}", e.entry_id)?;
        }
        CliCommand::Delete {
            ids,
            dry_run,
            permanent,
            ..
        } => {
            check_dir(&dir)?;
            if *dry_run {
                let t = open_text(&dir)?;
                let claims = t.claims();
                for id in ids {
                    let e = t.find(id)?;
                    writeln!(
                        out,
                        "would delete {}  {}",
                        sanitize(&e.entry_id),
                        sanitize(e.model_name())
                    )?;
                    for (field, rel) in [
                        (Field::Audio, &e.audio_file()),
                        (Field::Thumbnail, &e.thumbnail_file()),
                    ] {
                        let what = if *permanent {
                            "remove"
                        } else {
                            "move to the trash"
                        };
                        writeln!(
                            out,
                            "  {}",
                            report::describe_for_delete(&dir, &claims, &e, field, rel, what)
                        )?;
                    }
                }
            } else {
                let r = crate::store::change::delete(
                    &history_dir(&dir),
                    Selection::Selectors(ids.clone()),
                    DeleteOptions {
                        permanent: *permanent,
                        ..DeleteOptions::default()
                    },
                )?;
                report::print_delete(&mut out, &r, *permanent)?;
            }
        }
        CliCommand::Undo { list: true } => {
            check_dir(&dir)?;
            recover(&dir);
            report::print_journal(&mut out, &crate::store::journal::list(&dir)?)?;
        }
        CliCommand::Undo { list: false } => {
            check_dir(&dir)?;
            let r = crate::store::change::undo(&history_dir(&dir))?;
            if !report::print_outcome(&mut out, &r, "undid")? {
                return Ok(1);
            }
        }
        CliCommand::Redo => {
            check_dir(&dir)?;
            let r = crate::store::change::redo(&history_dir(&dir))?;
            if !report::print_outcome(&mut out, &r, "redid")? {
                return Ok(1);
            }
        }
        CliCommand::Trash { action, .. } => {
            check_dir(&dir)?;
            match action {
                TrashAction::List => {
                    recover(&dir);
                    report::print_trash(&mut out, &trash::list(&dir)?)?;
                }
                TrashAction::Purge { older_than, all } => {
                    let hd = history_dir(&dir);
                    let what = match (older_than, all) {
                        (_, true) => PurgeWhat::All,
                        (Some(d), false) => PurgeWhat::OlderThan(*d),
                        (None, false) => match hd.retention {
                            Some(r) => PurgeWhat::OlderThan(r),
                            None => bail!(
                                "trash.retention is \"never\": say --older-than DURATION or --all"
                            ),
                        },
                    };
                    // Purge here is explicit: keep the automatic one out of its way.
                    let r = crate::store::change::purge(&hd.with_retention(None), what)?;
                    for name in &r.skipped {
                        writeln!(out, "skipped {}: not a trash batch", sanitize(name))?;
                    }
                    writeln!(
                        out,
                        "purged {} ({})",
                        crate::text::count(r.batches, "batch", "batches"),
                        crate::text::size(r.bytes)
                    )?;
                }
            }
        }
        CliCommand::Repair { dry_run, .. } => {
            check_dir(&dir)?;
            recover(&dir);
            let plan = crate::store::repair::plan(&dir)?;
            if *dry_run {
                report::print_repair(&mut out, &plan, None)?;
            } else {
                let r = crate::store::change::repair(&history_dir(&dir), &plan)?;
                report::print_repair(&mut out, &plan, Some(&r))?;
            }
        }
        CliCommand::Stats { json, .. } => {
            // Every entry parsed and dropped (counted as the full load
            // would); a large index streamed, its text never whole.
            check_dir(&dir)?;
            recover(&dir);
            let index = crate::store::read::locate_index(&dir)?;
            let (st, invalid) = match crate::store::streamed::stats(&dir, &index)? {
                Some((st, invalid, version)) => {
                    let w = crate::store::version_warning(index.path(), version.as_ref(), true);
                    if let Some(w) = w {
                        eprintln!("warning: {}", sanitize(&w));
                    }
                    (st, invalid)
                }
                None => read_text(&dir)?.stats(&dir),
            };
            warn_invalid(index.path(), &invalid);
            report::print_stats(&mut out, &dir, &st, *json)?;
        }
        CliCommand::Play { id, .. } => {
            let device = chosen_device(cli)?;
            let t = open_text(&dir)?;
            let e = t.find(id)?;
            let (file, path) = crate::store::open_file(&dir, &t.claims(), &e, Field::Audio)?;
            let src = crate::playback::Source::new(file, path);
            return play::play_blocking(&src, device.as_deref(), &mut out);
        }
        CliCommand::Demo { .. }
        | CliCommand::Devices { .. }
        | CliCommand::Completions { .. }
        | CliCommand::Man => {
            unreachable!("handled above")
        }
    }
    if rewrites_index(command) {
        // The sidecar this rewrite carried over is checked against the
        // whole index once now, so the next open and `list` of a large
        // history need not.
        crate::store::newest::confirm_soon(&dir);
    }
    Ok(0)
}

/// Whether `command` rewrites `history.json` (when it succeeds).
fn rewrites_index(command: &CliCommand) -> bool {
    match command {
        CliCommand::Add(_) | CliCommand::Undo { list: false } | CliCommand::Redo => true,
        CliCommand::Delete { dry_run, .. }
        | CliCommand::Purge { dry_run, .. }
        | CliCommand::Repair { dry_run, .. } => !dry_run,
        _ => false,
    }
}

/// Bad usage found after parsing (a filter that does not parse, say): exit
/// code 2, as clap's own usage errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit code for an error: 2 for bad usage, else 1.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}

/// True when `e` comes from writing to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The device asked for (`--device`, else `GENHIST_DEVICE`, else the
/// config's `[audio] device`), resolved among the host's devices: its exact
/// name, else a unique part of it. `None`: the default. An unknown or
/// ambiguous name is an error listing the candidates.
fn chosen_device(cli: &Cli) -> Result<Option<String>> {
    let asked = cli
        .device
        .clone()
        .or_else(|| {
            std::env::var("GENHIST_DEVICE")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .or_else(|| crate::config::load().0.browser.device);
    let Some(asked) = asked else {
        return Ok(None);
    };
    let devices = crate::playback::device::list_devices()
        .map_err(|e| anyhow::anyhow!("cannot list the output devices: {e}"))?;
    crate::playback::device::resolve(&asked, &devices)
        .map(Some)
        .map_err(anyhow::Error::msg)
}

/// Entry point after parsing: a subcommand, or the full-screen browser.
pub fn main(cli: Cli) -> Result<i32> {
    match &cli.command {
        Some(cmd) => run_command(&cli, cmd),
        None => {
            let dir = if cli.demo {
                crate::demo::demo_dir()?
            } else {
                let dir = resolve_dir(cli.dir.as_deref().or(cli.path.as_deref()))?;
                if !dir.is_dir() {
                    bail!(
                        "{} is not a directory (to run a command, see genhist --help)",
                        dir.display()
                    );
                }
                dir
            };
            let (config, problem) = crate::config::load();
            let mut settings = config.browser;
            settings.device = chosen_device(&cli)?;
            crate::ui::run(
                &dir,
                cli.command_history.clone(),
                settings,
                config.trash_retention,
                problem,
                cli.fresh,
            )
        }
    }
}
