//! `genhist add`: a WAV plus what the user says about it becomes a new take.

use crate::audio::BitDepth;
use crate::store::NewEntry;
use crate::wav::WavStream;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Number, Value};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The WAV file to add (16/24/32-bit int or 32-bit float)
    pub wav: PathBuf,
    /// Id of the model that generated it (required, here or in --params)
    #[arg(long, value_name = "ID")]
    pub model_id: Option<String>,
    /// Display name of the model (default: the model id)
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
    /// Random seed of the generation (any integer)
    #[arg(long, allow_hyphen_values = true, value_name = "N")]
    pub seed: Option<String>,
    /// Slider positions, e.g. 1,0,-2
    #[arg(long, allow_hyphen_values = true, value_name = "LIST")]
    pub sliders: Option<String>,
    /// Number of components (default: the number of sliders)
    #[arg(long, value_name = "N")]
    pub n_components: Option<i64>,
    /// Preset name (default: custom)
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// mono or stereo (default: from the WAV's channel count)
    #[arg(long, value_name = "MODE", value_parser = ["mono", "stereo"])]
    pub stereo_mode: Option<String>,
    /// quality_score as a JSON object, e.g. '{"snr_db": 20}'
    #[arg(long, value_name = "JSON")]
    pub quality: Option<String>,
    /// latent_vector as a JSON array of numbers
    #[arg(long, value_name = "JSON")]
    pub latent: Option<String>,
    /// The take's parameters as JSON (`genhist params ID --json`, or `show --json`; flags override it). Without it, the parameters a genhist export put in the WAV are used
    #[arg(long, value_name = "FILE.json")]
    pub params: Option<PathBuf>,
    /// Sample format of the stored WAV: 16, 24 or 32f (default: that of the input)
    #[arg(long, value_name = "FORMAT")]
    pub bit_depth: Option<String>,
}

/// The WAV being added, read as a stream.
pub(crate) type Input = WavStream<std::io::BufReader<std::fs::File>>;

/// What `add` stores: the entry's fields, the WAV's format, and the WAV
/// opened for reading (streamed into the history: memory does not grow
/// with the file).
pub(crate) fn build_new_entry(a: &AddArgs) -> Result<(NewEntry, BitDepth, Input)> {
    let cannot = |e: String| anyhow!("cannot read {}: {e}", a.wav.display());
    let file = std::fs::File::open(&a.wav).map_err(|e| cannot(e.to_string()))?;
    let buf = crate::wav::open_file(file).map_err(cannot)?;
    if buf.is_truncated() {
        return Err(cannot(format!(
            "the file is truncated: its header says {:.1} s of audio, it holds {:.1} s",
            buf.header_duration_s().unwrap_or_default(),
            buf.duration_s()
        )));
    }
    let src_depth = crate::audio::depth_of(buf.encoding);
    let mut params = parameters(a)?;
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
    let model_id =
        model_id.ok_or_else(|| anyhow!("--model-id is required (or model_id in --params)"))?;
    let model_name = model_name.unwrap_or_else(|| model_id.clone());
    let wav_mode = if buf.channels == 1 { "mono" } else { "stereo" };
    if let Some(s) = &stereo {
        // Other modes a generator may use (mid/side, ...) are stereo.
        if s.eq_ignore_ascii_case("mono") != (buf.channels == 1) {
            bail!(
                "stereo mode '{s}' contradicts {}, which has {} channel{}",
                a.wav.display(),
                buf.channels,
                if buf.channels == 1 { "" } else { "s" }
            );
        }
    }
    let seed = match (&a.seed, params.remove("seed")) {
        (Some(s), _) => Some(
            serde_json::from_str::<Number>(s)
                .ok()
                .filter(|n| n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E']))
                .ok_or_else(|| anyhow!("--seed must be an integer, not '{s}'"))?,
        ),
        (None, Some(Value::Number(n)))
            if n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E']) =>
        {
            Some(n)
        }
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
    if n_components < 0 {
        bail!("n_components cannot be negative ({n_components})");
    }
    let quality = match (&a.quality, params.remove("quality_score")) {
        (Some(q), _) => match serde_json::from_str(q).context("--quality is not valid JSON")? {
            Value::Object(m) => m,
            _ => bail!("--quality must be a JSON object like '{{\"snr_db\": 20}}'"),
        },
        (None, Some(Value::Object(m))) => m,
        (None, Some(Value::Null) | None) => Map::new(),
        (None, Some(other)) => bail!("quality_score in --params must be an object, not {other}"),
    };
    let deep = depth(&Value::Object(quality.clone()));
    if deep > MAX_NESTING {
        bail!(
            "quality_score is nested {deep} levels deep; genhist stores at most {MAX_NESTING} (deeper, no reader of the index could take it back)"
        );
    }
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
        stereo_mode: Some(stereo.unwrap_or_else(|| wav_mode.to_string())),
        preset_name: preset,
        quality_score: quality,
        latent_vector: latent,
        timestamp: None,
    };
    Ok((new, depth, buf))
}

/// The deepest nesting of a quality score `add` stores (genhist reads an
/// index nested to 127 levels; a take's members start three levels down).
const MAX_NESTING: usize = 64;

/// How deep `v` is nested (a number: 0, `[1]`: 1).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The parameters `add` takes from a snapshot (each may also come from a
/// flag). The take's own fields (id, time, paths, duration, rate) come
/// from the new take; anything else is never written to the index.
const PARAMETERS: [&str; 9] = [
    "model_id",
    "model_name",
    "slider_positions",
    "n_components",
    "seed",
    "preset_name",
    "stereo_mode",
    "quality_score",
    "latent_vector",
];

/// The take's own fields, which a snapshot has and `add` does not take.
const OWN_FIELDS: [&str; 6] = [
    "entry_id",
    "timestamp",
    "audio_file",
    "thumbnail_file",
    "duration_s",
    "sample_rate",
];

/// The parameters of `--params FILE`, or else of the INFO chunk a genhist
/// export wrote into the WAV; only [`PARAMETERS`] are kept, and the other
/// keys (but the take's own fields) are named on stderr as ignored.
fn parameters(a: &AddArgs) -> Result<Map<String, Value>> {
    let (mut params, from) = match &a.params {
        Some(p) => {
            let text = crate::fsutil::read_regular_bounded(p, 16 << 20)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let text = crate::store::nonfinite::to_markers(&text);
            match serde_json::from_slice(&text)
                .with_context(|| format!("{} is not valid JSON", p.display()))?
            {
                Value::Object(m) => (m, p.display().to_string()),
                _ => bail!("{} must hold a JSON object", p.display()),
            }
        }
        None => match from_wav_info(&a.wav) {
            Some(m) => (m, format!("the INFO chunk of {}", a.wav.display())),
            None => return Ok(Map::new()),
        },
    };
    let ignored: Vec<String> = params
        .keys()
        .filter(|k| !PARAMETERS.contains(&k.as_str()) && !OWN_FIELDS.contains(&k.as_str()))
        .map(|k| crate::text::sanitize(k).into_owned())
        .collect();
    if !ignored.is_empty() {
        eprintln!(
            "note: ignored from {} (not parameters of a take): {}",
            crate::text::sanitize(&from),
            ignored.join(", ")
        );
    }
    let own: Vec<&str> = OWN_FIELDS
        .iter()
        .copied()
        .filter(|k| params.contains_key(*k))
        .collect();
    if !own.is_empty() && a.params.is_some() {
        eprintln!(
            "note: {} come from the new take, not from {}",
            own.join(", "),
            crate::text::sanitize(&from)
        );
    }
    params.retain(|k, _| PARAMETERS.contains(&k.as_str()));
    Ok(params)
}

/// The take's JSON a genhist export put in the WAV at `path`, if any.
fn from_wav_info(path: &std::path::Path) -> Option<Map<String, Value>> {
    let mut f = std::fs::File::open(path).ok()?;
    let found = crate::export::riff::read(&mut f, 16 << 20).ok()?;
    let text = found.json?;
    let text = crate::store::nonfinite::to_markers(text.as_bytes());
    match serde_json::from_slice(&text).ok()? {
        // Only a take's JSON: another tool's comment is no snapshot.
        Value::Object(m) if m.contains_key("model_id") => Some(m),
        _ => None,
    }
}
