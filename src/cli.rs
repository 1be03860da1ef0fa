//! The command line: `genhist [DIR]` opens the browser; subcommands do the same
//! work without the screen. Errors go to stderr; exit 1 on failure, 2 on bad usage.

use crate::audio::{read_wav, BitDepth};
use crate::store::index_file::IndexText;
use crate::store::{
    FileState, GenerationHistory, HistoryEntry, InvalidEntry, NewEntry, INDEX_FILE,
};
use crate::text::{age, duration, local_time, pad, sanitize, size, truncate};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::{Map, Number, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "genhist",
    version,
    about = "Browse, play and prune generative-audio history directories"
)]
pub struct Cli {
    /// History directory (default: $GENHIST_DIR, else the current directory if it holds history.json)
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Open the demo history (created on first use in your data directory)
    #[arg(long)]
    pub demo: bool,
    /// File for the command bar's input history (default: DIR/.genhist_history)
    #[arg(long, global = true, value_name = "FILE")]
    pub command_history: Option<PathBuf>,
    /// History directory to browse (same as --dir)
    #[arg(value_name = "DIR")]
    pub path: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List entries, newest first
    List {
        /// Only entries of this model id
        #[arg(long)]
        model: Option<String>,
        /// At most N entries
        #[arg(long)]
        limit: Option<usize>,
        /// Print the entries as stored (unknown fields included) as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show every field of one entry, with its files
    Show {
        /// Full id or a unique prefix (4+ characters)
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a WAV as a new entry; prints the new id
    Add(Box<AddArgs>),
    /// Delete entries with their WAV and PNG files
    Delete {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Say what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove entries whose WAV is missing; report WAVs no entry refers to
    Repair {
        #[arg(long)]
        dry_run: bool,
    },
    /// Count, total size, per-model counts, oldest and newest
    Stats,
    /// Play one entry to the default audio output and exit when it ends
    Play { id: String },
    /// Write a demo history into DIR
    Demo {
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
    },
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The WAV file to add (16/24/32-bit int or 32-bit float)
    pub wav: PathBuf,
    #[arg(long)]
    pub model_id: Option<String>,
    #[arg(long)]
    pub model_name: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub seed: Option<String>,
    /// Slider positions, e.g. 1,0,-2
    #[arg(long, allow_hyphen_values = true)]
    pub sliders: Option<String>,
    #[arg(long)]
    pub n_components: Option<i64>,
    #[arg(long)]
    pub preset: Option<String>,
    #[arg(long)]
    pub stereo_mode: Option<String>,
    /// quality_score as a JSON object
    #[arg(long)]
    pub quality: Option<String>,
    /// latent_vector as a JSON array of numbers
    #[arg(long)]
    pub latent: Option<String>,
    /// A JSON snapshot with any of the entry's fields (flags override it)
    #[arg(long, value_name = "FILE.json")]
    pub params: Option<PathBuf>,
    /// Sample format of the stored WAV: 16, 24 or 32f (default: that of the input)
    #[arg(long)]
    pub bit_depth: Option<String>,
}

/// Where the history directory is: --dir, else $GENHIST_DIR, else the current
/// directory when it holds history.json.
pub fn resolve_dir(cli_dir: Option<&Path>) -> Result<PathBuf> {
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

fn open(dir: &Path) -> Result<GenerationHistory> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let h = GenerationHistory::open(dir)?;
    if let Some(w) = h.version_warning() {
        eprintln!("warning: {w}");
    }
    warn_invalid(&h.index_path(), h.invalid_entries());
    Ok(h)
}

/// Reads the index without parsing every entry (for commands that touch a few).
fn open_text(dir: &Path) -> Result<IndexText> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let t = IndexText::read(dir)?;
    if let Some(w) = crate::store::version_warning(t.path(), t.version().as_ref(), t.exists()) {
        eprintln!("warning: {w}");
    }
    Ok(t)
}

fn warn_invalid(index: &Path, invalid: &[InvalidEntry]) {
    if invalid.is_empty() {
        return;
    }
    eprintln!(
        "warning: {} entr{} in {} could not be read (run `genhist show ID` for details): {}",
        invalid.len(),
        if invalid.len() == 1 { "y" } else { "ies" },
        index.display(),
        invalid
            .iter()
            .take(5)
            .map(|e| sanitize(&e.entry_id).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Runs a subcommand; `Ok(code)` is the process exit code.
pub fn run_command(cli: &Cli, command: &Command) -> Result<i32> {
    let out = std::io::stdout();
    let mut out = out.lock();
    if let Command::Demo {
        dir,
        count,
        no_audio,
        seed,
    } = command
    {
        let n = crate::demo::write_demo(dir, *count, !no_audio, *seed)?;
        writeln!(out, "wrote {n} demo takes to {}", dir.display())?;
        writeln!(out, "browse them with: genhist --dir {}", dir.display())?;
        return Ok(0);
    }
    let dir = resolve_dir(cli.dir.as_deref().or(cli.path.as_deref()))?;
    match command {
        Command::List { model, limit, json } => {
            let t = open_text(&dir)?;
            let (list, invalid) = t.newest(model.as_deref(), *limit);
            warn_invalid(t.path(), &invalid);
            if *json {
                let arr: Vec<Value> = list.iter().map(|e| e.to_json()).collect();
                serde_json::to_writer_pretty(&mut out, &arr)?;
                writeln!(out)?;
            } else {
                print_table(&mut out, &list)?;
                if list.is_empty() {
                    writeln!(out, "(no entries in {})", dir.display())?;
                }
            }
        }
        Command::Show { id, json } => {
            let e = open_text(&dir)?.find(id)?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &e.to_json())?;
                writeln!(out)?;
            } else {
                print_entry(&mut out, &dir, &e)?;
            }
        }
        Command::Add(args) => {
            let mut h = open(&dir)?;
            let (new, depth, buf) = build_new_entry(args)?;
            let e = h.add_entry(&buf, depth, new)?;
            writeln!(out, "{}", e.entry_id)?;
        }
        Command::Delete { ids, dry_run } => {
            if *dry_run {
                let t = open_text(&dir)?;
                for id in ids {
                    let e = t.find(id)?;
                    writeln!(
                        out,
                        "would delete {}  {}",
                        e.entry_id,
                        sanitize(&e.model_name)
                    )?;
                    for rel in [&e.audio_file, &e.thumbnail_file] {
                        writeln!(out, "  {}", describe_file(&dir, rel))?;
                    }
                }
            } else {
                let r = crate::store::delete_ids(&dir, ids, true)?;
                for id in &r.removed {
                    writeln!(out, "deleted {id}")?;
                }
                for (rel, why) in &r.files_skipped {
                    writeln!(out, "  left {}: {}", sanitize(rel), sanitize(why))?;
                }
            }
        }
        Command::Repair { dry_run } => {
            let mut h = open(&dir)?;
            let r = h.repair(*dry_run)?;
            let verb = if *dry_run { "would remove" } else { "removed" };
            for id in &r.removed {
                writeln!(out, "{verb} {id} (WAV missing)")?;
            }
            for p in &r.orphans {
                writeln!(
                    out,
                    "orphan WAV (left alone): {}",
                    sanitize(&p.display().to_string())
                )?;
            }
            writeln!(
                out,
                "{verb} {} entr{}; {} orphan WAV file{}",
                r.removed.len(),
                if r.removed.len() == 1 { "y" } else { "ies" },
                r.orphans.len(),
                if r.orphans.len() == 1 { "" } else { "s" }
            )?;
        }
        Command::Stats => {
            let h = open(&dir)?;
            let s = h.stats();
            writeln!(out, "entries:    {}", s.count)?;
            if s.invalid > 0 {
                writeln!(out, "unreadable: {}", s.invalid)?;
            }
            writeln!(
                out,
                "total size: {} ({} bytes)",
                size(s.total_bytes),
                s.total_bytes
            )?;
            if let (Some(o), Some(n)) = (&s.oldest, &s.newest) {
                let p = crate::store::entry::parse_timestamp_us;
                writeln!(out, "newest:     {}", local_time(p(n), n))?;
                writeln!(out, "oldest:     {}", local_time(p(o), o))?;
            }
            writeln!(out, "per model:")?;
            let mut models: Vec<_> = s.per_model.iter().collect();
            models.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (m, n) in models {
                writeln!(out, "  {n:>7}  {}", sanitize(m))?;
            }
        }
        Command::Play { id } => {
            let e = open_text(&dir)?.find(id)?;
            let path = crate::store::audio_path(&dir, &e)?;
            return crate::player::play_blocking(&path, &mut out);
        }
        Command::Demo { .. } => unreachable!("handled above"),
    }
    Ok(0)
}

fn describe_file(dir: &Path, rel: &str) -> String {
    match crate::store::file_state(dir, rel) {
        FileState::Present { path, bytes } => {
            format!(
                "{}  ({})",
                sanitize(&path.display().to_string()),
                size(bytes)
            )
        }
        FileState::Missing { path } => {
            format!("{}  (missing)", sanitize(&path.display().to_string()))
        }
        FileState::Invalid { reason } => format!("INVALID: {}", sanitize(&reason)),
    }
}

fn print_table(out: &mut impl Write, list: &[HistoryEntry]) -> Result<()> {
    let now = chrono::Utc::now();
    writeln!(
        out,
        "{:<8}  {:<16}  {:>8}  {:<22}  {:<12}  {:>12}  {:>7}  {:>6}  STEREO",
        "ID", "TIME", "AGE", "MODEL", "PRESET", "SEED", "DUR", "RATE"
    )?;
    for e in list {
        writeln!(
            out,
            "{:<8}  {:<16}  {:>8}  {}  {}  {:>12}  {:>7}  {:>6}  {}",
            sanitize(e.short_id()),
            local_time(e.time_us, &e.timestamp),
            age(e.time_us, now),
            pad(&truncate(&sanitize(&e.model_name), 22), 22),
            pad(&truncate(&sanitize(&e.preset_name), 12), 12),
            truncate(&e.seed.to_string(), 12),
            duration(e.duration_s),
            e.sample_rate,
            sanitize(&e.stereo_mode)
        )?;
    }
    Ok(())
}

fn print_entry(out: &mut impl Write, dir: &Path, e: &HistoryEntry) -> Result<()> {
    let now = chrono::Utc::now();
    let s = |x: &str| sanitize(x).into_owned();
    writeln!(out, "entry_id:         {}", s(&e.entry_id))?;
    writeln!(
        out,
        "timestamp:        {}  ({}, {})",
        s(&e.timestamp),
        local_time(e.time_us, &e.timestamp),
        age(e.time_us, now)
    )?;
    writeln!(out, "model_id:         {}", s(&e.model_id))?;
    writeln!(out, "model_name:       {}", s(&e.model_name))?;
    writeln!(
        out,
        "slider_positions: {}",
        e.slider_positions
            .as_ref()
            .map_or("null".into(), |v| format!("{v:?}"))
    )?;
    writeln!(out, "n_components:     {}", e.n_components)?;
    writeln!(out, "seed:             {}", e.seed)?;
    writeln!(
        out,
        "duration_s:       {}",
        crate::store::pyjson::float_repr(e.duration_s)
    )?;
    writeln!(out, "sample_rate:      {}", e.sample_rate)?;
    writeln!(out, "stereo_mode:      {}", s(&e.stereo_mode))?;
    writeln!(out, "preset_name:      {}", s(&e.preset_name))?;
    writeln!(
        out,
        "audio_file:       {}",
        describe_file(dir, &e.audio_file)
    )?;
    writeln!(
        out,
        "thumbnail_file:   {}",
        describe_file(dir, &e.thumbnail_file)
    )?;
    writeln!(
        out,
        "quality_score:    {}",
        s(&serde_json::to_string(&e.quality_score.map())?)
    )?;
    match &e.latent_vector {
        None => writeln!(out, "latent_vector:    null")?,
        Some(v) => writeln!(out, "latent_vector:    {}", latent_summary(v))?,
    }
    for (k, v) in &e.extra {
        writeln!(out, "{:<17} {}", format!("{}:", s(k)), s(&v.to_string()))?;
    }
    Ok(())
}

/// `16 dims, min -1.2, max 2.3, mean 0.1, norm 4.5; first: 0.1, -0.2, …`
pub fn latent_summary(v: &[f64]) -> String {
    if v.is_empty() {
        return "0 dims".into();
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let first: Vec<String> = v.iter().take(4).map(|x| format!("{x:.3}")).collect();
    format!(
        "{} dims, min {min:.3}, max {max:.3}, mean {mean:.3}, norm {norm:.3}; first: {}{}",
        v.len(),
        first.join(", "),
        if v.len() > 4 { ", …" } else { "" }
    )
}

fn build_new_entry(a: &AddArgs) -> Result<(NewEntry, BitDepth, crate::audio::AudioBuffer)> {
    let (buf, src_depth) =
        read_wav(&a.wav).map_err(|e| anyhow!("cannot read {}: {e}", a.wav.display()))?;
    let mut params: Map<String, Value> = match &a.params {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            match serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", p.display()))?
            {
                Value::Object(m) => m,
                _ => bail!("{} must hold a JSON object", p.display()),
            }
        }
        None => Map::new(),
    };
    // Fields derived from the WAV or assigned by the store are not taken from a snapshot.
    for k in [
        "entry_id",
        "duration_s",
        "sample_rate",
        "audio_file",
        "thumbnail_file",
    ] {
        params.remove(k);
    }
    let mut take_str = |k: &str, flag: &Option<String>| -> Result<Option<String>> {
        match (flag, params.remove(k)) {
            (Some(v), _) => Ok(Some(v.clone())),
            (None, Some(Value::String(s))) => Ok(Some(s)),
            (None, Some(other)) => bail!("{k} in --params must be a string, not {other}"),
            (None, None) => Ok(None),
        }
    };
    let model_id = take_str("model_id", &a.model_id)?;
    let model_name = take_str("model_name", &a.model_name)?;
    let preset = take_str("preset_name", &a.preset)?;
    let stereo = take_str("stereo_mode", &a.stereo_mode)?;
    let timestamp = take_str("timestamp", &None)?;
    let model_id =
        model_id.ok_or_else(|| anyhow!("--model-id is required (or model_id in --params)"))?;
    let model_name = model_name.unwrap_or_else(|| model_id.clone());
    let seed = match (&a.seed, params.remove("seed")) {
        (Some(s), _) => Some(
            serde_json::from_str::<Number>(s)
                .ok()
                .filter(|n| n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E']))
                .ok_or_else(|| anyhow!("--seed must be an integer, not '{s}'"))?,
        ),
        (None, Some(Value::Number(n))) => Some(n),
        (None, Some(other)) => bail!("seed in --params must be an integer, not {other}"),
        (None, None) => None,
    };
    let sliders = match (&a.sliders, params.remove("slider_positions")) {
        (Some(s), _) => Some(
            s.split(',')
                .filter(|x| !x.trim().is_empty())
                .map(|x| {
                    x.trim()
                        .parse::<i64>()
                        .map_err(|_| anyhow!("--sliders takes integers like 1,0,-2, not '{x}'"))
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        (None, Some(v)) => serde_json::from_value(v).context("slider_positions in --params")?,
        (None, None) => None,
    };
    let n_components = match (a.n_components, params.remove("n_components")) {
        (Some(n), _) => n,
        (None, Some(v)) => serde_json::from_value(v).context("n_components in --params")?,
        (None, None) => sliders.as_ref().map_or(0, |s: &Vec<i64>| s.len() as i64),
    };
    let quality = match (&a.quality, params.remove("quality_score")) {
        (Some(q), _) => match serde_json::from_str(q).context("--quality is not valid JSON")? {
            Value::Object(m) => m,
            _ => bail!("--quality must be a JSON object like '{{\"snr_db\": 20}}'"),
        },
        (None, Some(Value::Object(m))) => m,
        (None, Some(Value::Null) | None) => Map::new(),
        (None, Some(other)) => bail!("quality_score in --params must be an object, not {other}"),
    };
    let latent: Option<Vec<f64>> = match (&a.latent, params.remove("latent_vector")) {
        (Some(l), _) => {
            Some(serde_json::from_str(l).context("--latent must be a JSON array of numbers")?)
        }
        (None, Some(v)) => serde_json::from_value(v).context("latent_vector in --params")?,
        (None, None) => None,
    };
    let depth = match &a.bit_depth {
        Some(b) => {
            BitDepth::parse(b).ok_or_else(|| anyhow!("--bit-depth is 16, 24 or 32f, not '{b}'"))?
        }
        None => src_depth,
    };
    let new = NewEntry {
        model_id,
        model_name,
        slider_positions: sliders,
        n_components,
        seed,
        stereo_mode: stereo,
        preset_name: preset,
        quality_score: quality,
        latent_vector: latent,
        extra: params,
        timestamp,
    };
    Ok((new, depth, buf))
}

/// Entry point after parsing: a subcommand, or the full-screen browser.
pub fn main(cli: Cli) -> Result<i32> {
    match &cli.command {
        Some(cmd) => run_command(&cli, cmd),
        None => {
            let dir = if cli.demo {
                crate::ui::demo_dir()?
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
            crate::ui::run(&dir, cli.command_history.clone())
        }
    }
}
