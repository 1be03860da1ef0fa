//! Measuring a take, in one decode pass: integrated loudness and loudness
//! range (ITU-R BS.1770-4 / EBU R128, by the `ebur128` crate, which passes
//! the EBU Tech 3341/3342 tests), sample and true peak, clipped samples,
//! DC offset, silence at the head and tail, spectral centroid, and the
//! waveform peaks the browser draws. [`cache`] keeps the results under
//! `DIR/.genhist/`; [`spectrum`] draws spectrograms.

pub mod cache;
pub mod spectrum;

use crate::audio::{Frames, BLOCK_FRAMES};
use crate::peaks::{PeakAcc, Peaks};
use ebur128::{EbuR128, Mode};
use realfft::RealFftPlanner;

/// Level below which a sample counts as silence (dBFS).
pub const SILENCE_DBFS: f64 = -60.0;

/// Shortest take with an integrated loudness: one 400 ms gating block.
const MIN_GATED_S: f64 = 0.4;

/// Shortest take with a loudness range: one 3 s short-term block.
const MIN_LRA_S: f64 = 3.0;

/// FFT size of the spectral centroid.
const CENTROID_FFT: usize = 2048;

/// What genhist measures in a take. `None`: not defined for it (too short
/// for a gated measure, silent).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Measures {
    /// Integrated loudness, LUFS.
    pub lufs: Option<f64>,
    /// Loudness range, LU.
    pub lra: Option<f64>,
    /// Largest sample, dBFS.
    pub peak: Option<f64>,
    /// Largest inter-sample peak (BS.1770 4× oversampling), dBTP.
    pub true_peak: Option<f64>,
    /// Samples at the format's full scale.
    pub clipped: u64,
    /// The largest per-channel mean, dBFS.
    pub dc: Option<f64>,
    /// Seconds before the signal first rises above -60 dBFS.
    pub silence_head: f64,
    /// Seconds after it last does.
    pub silence_tail: f64,
    /// Spectral centroid of the whole take, Hz.
    pub centroid: Option<f64>,
    pub duration_s: f64,
}

/// The measures of the takes measured so far, by take id.
pub type Measured = crate::store::ById<Measures>;

/// What filters and sorts read besides a take's stored fields: its
/// annotations and its measures.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    pub notes: &'a crate::store::annotations::Annotations,
    pub measures: &'a Measured,
}

static NO_MEASURES: std::sync::LazyLock<Measured> = std::sync::LazyLock::new(Measured::default);

impl<'a> Facts<'a> {
    /// Annotations only (no take measured).
    pub fn notes(notes: &'a crate::store::annotations::Annotations) -> Facts<'a> {
        Facts {
            notes,
            measures: &NO_MEASURES,
        }
    }
}

/// The names of the measures, as filters, sorts, columns and JSON say them.
pub const NAMES: [&str; 9] = [
    "lufs",
    "lra",
    "peak",
    "true_peak",
    "clipped",
    "dc",
    "silence_head",
    "silence_tail",
    "centroid",
];

impl Measures {
    /// A measure by its name (see [`NAMES`]).
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "lufs" => self.lufs,
            "lra" => self.lra,
            "peak" => self.peak,
            "true_peak" => self.true_peak,
            "clipped" => Some(self.clipped as f64),
            "dc" => self.dc,
            "silence_head" => Some(self.silence_head),
            "silence_tail" => Some(self.silence_tail),
            "centroid" => self.centroid,
            _ => None,
        }
    }

    /// A measure as a person reads it: `-23.0 LUFS`, `n/a`.
    pub fn show(&self, name: &str) -> String {
        let v = self.get(name);
        let Some(v) = v else {
            return "n/a".into();
        };
        match name {
            "lufs" => format!("{v:.1} LUFS"),
            "lra" => format!("{v:.1} LU"),
            "peak" | "dc" => format!("{v:.1} dBFS"),
            "true_peak" => format!("{v:.1} dBTP"),
            "clipped" => format!("{}", v as u64),
            "silence_head" | "silence_tail" => format!("{v:.2} s"),
            "centroid" if v >= 1000.0 => format!("{:.1} kHz", v / 1000.0),
            "centroid" => format!("{v:.0} Hz"),
            _ => format!("{v}"),
        }
    }

    /// The measures as JSON (numbers; null when undefined).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for n in NAMES {
            let v = match n {
                "clipped" => serde_json::Value::from(self.clipped),
                _ => self
                    .get(n)
                    .and_then(|x| serde_json::Number::from_f64(round(x)))
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
            };
            m.insert(n.to_string(), v);
        }
        serde_json::Value::Object(m)
    }
}

/// Four decimals: far below what any measure here can tell apart.
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn db(x: f64) -> Option<f64> {
    (x > 0.0 && x.is_finite()).then(|| 20.0 * x.log10())
}

/// Measures `audio` and gathers its waveform peaks (`buckets` per channel)
/// in the same pass.
pub fn analyze(audio: &mut dyn Frames, buckets: usize) -> Result<(Measures, Peaks), String> {
    let channels = audio.channels().max(1) as usize;
    let rate = audio.sample_rate();
    let mut meter = EbuR128::new(channels as u32, rate, Mode::I | Mode::LRA | Mode::TRUE_PEAK)
        .map_err(|e| format!("cannot measure loudness at {rate} Hz: {e:?}"))?;
    let mut peaks = PeakAcc::new(audio.channels(), rate, audio.frames(), buckets);
    let mut sums = vec![0f64; channels];
    let mut peak = 0f32;
    let threshold = 10f32.powf(SILENCE_DBFS as f32 / 20.0);
    let (mut first_loud, mut last_loud) = (None::<u64>, None::<u64>);
    let mut frames: u64 = 0;
    let mut centroid = Centroid::new();
    let mut block = Vec::new();
    loop {
        let n = audio.read(&mut block, BLOCK_FRAMES)?;
        if n == 0 {
            break;
        }
        meter
            .add_frames_f32(&block)
            .map_err(|e| format!("loudness: {e:?}"))?;
        peaks.push(&block);
        for (i, frame) in block.chunks_exact(channels).enumerate() {
            let mut loud = 0f32;
            let mut mono = 0f32;
            for (c, &v) in frame.iter().enumerate() {
                sums[c] += f64::from(v);
                loud = loud.max(v.abs());
                mono += v;
            }
            peak = peak.max(loud);
            if loud > threshold {
                let at = frames + i as u64;
                first_loud.get_or_insert(at);
                last_loud = Some(at);
            }
            centroid.push(mono / channels as f32);
        }
        frames += n as u64;
    }
    let duration_s = frames as f64 / f64::from(rate.max(1));
    let loudness = meter.loudness_global().ok().filter(|l| l.is_finite());
    let lra = meter.loudness_range().ok().filter(|l| l.is_finite());
    let true_peak = (0..channels as u32)
        .filter_map(|c| meter.true_peak(c).ok())
        .fold(0f64, f64::max)
        .max(f64::from(peak));
    let dc = sums
        .iter()
        .map(|s| (s / frames.max(1) as f64).abs())
        .fold(0f64, f64::max);
    let secs = |f: u64| f as f64 / f64::from(rate.max(1));
    let measures = Measures {
        lufs: loudness.filter(|_| duration_s >= MIN_GATED_S),
        lra: lra.filter(|_| duration_s >= MIN_LRA_S),
        peak: db(f64::from(peak)),
        true_peak: db(true_peak),
        clipped: 0,
        dc: db(dc),
        silence_head: first_loud.map_or(duration_s, secs),
        silence_tail: last_loud.map_or(duration_s, |l| secs(frames - 1 - l)),
        centroid: centroid.finish(rate),
        duration_s,
    };
    Ok((measures, peaks.finish()))
}

/// Measures a WAV file (its clipped samples counted at the format's full
/// scale as it decodes).
pub fn analyze_file(f: std::fs::File, buckets: usize) -> Result<(Measures, Peaks), String> {
    let mut w = crate::wav::open_file(f)?;
    let (mut m, p) = analyze(&mut w, buckets)?;
    m.clipped = w.clipped;
    Ok((m, p))
}

/// The long-term average magnitude spectrum of the mono mix, in frames of
/// [`CENTROID_FFT`] samples (Hann window, no overlap), and its centroid.
struct Centroid {
    frame: Vec<f32>,
    sums: Vec<f64>,
    fft: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
    window: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
}

impl Centroid {
    fn new() -> Centroid {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(CENTROID_FFT);
        let window = (0..CENTROID_FFT)
            .map(|i| {
                let x = std::f32::consts::PI * 2.0 * i as f32 / CENTROID_FFT as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        Centroid {
            frame: Vec::with_capacity(CENTROID_FFT),
            sums: vec![0.0; CENTROID_FFT / 2 + 1],
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
        }
    }

    fn push(&mut self, v: f32) {
        self.frame.push(v);
        if self.frame.len() == CENTROID_FFT {
            self.transform();
        }
    }

    fn transform(&mut self) {
        let n = self.frame.len();
        self.frame.resize(CENTROID_FFT, 0.0);
        for (x, w) in self.frame.iter_mut().zip(&self.window) {
            *x *= w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .is_ok()
        {
            // A last, shorter frame counts for its share.
            let weight = n as f64 / CENTROID_FFT as f64;
            for (s, c) in self.sums.iter_mut().zip(&self.spectrum) {
                *s += f64::from(c.norm()) * weight;
            }
        }
        self.frame.clear();
    }

    fn finish(mut self, rate: u32) -> Option<f64> {
        if !self.frame.is_empty() {
            self.transform();
        }
        let bin_hz = f64::from(rate) / CENTROID_FFT as f64;
        let (mut num, mut den) = (0f64, 0f64);
        for (i, m) in self.sums.iter().enumerate() {
            num += i as f64 * bin_hz * m;
            den += m;
        }
        (den > 1e-12).then(|| num / den)
    }
}
