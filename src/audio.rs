//! WAV files: writing generated audio (16-bit int, 24-bit int, 32-bit float, as
//! the seed's `export_wav`) and reading them back as interleaved `f32`.

use std::path::Path;

/// Interleaved samples in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBuffer {
    pub channels: u16,
    pub sample_rate: u32,
    pub samples: Vec<f32>,
}

impl AudioBuffer {
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }

    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / self.sample_rate.max(1) as f64
    }
}

/// Sample formats genhist writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitDepth {
    Int16,
    Int24,
    Float32,
}

impl BitDepth {
    pub fn parse(s: &str) -> Option<BitDepth> {
        match s {
            "16" | "int16" => Some(BitDepth::Int16),
            "24" | "int24" => Some(BitDepth::Int24),
            "32f" | "32" | "float32" | "float" => Some(BitDepth::Float32),
            _ => None,
        }
    }
}

/// Writes `buf` as a WAV file.
pub fn write_wav(path: &Path, buf: &AudioBuffer, depth: BitDepth) -> Result<(), hound::Error> {
    let f = std::fs::File::create(path)?;
    write_wav_to(std::io::BufWriter::new(f), buf, depth)
}

/// Writes `buf` as WAV data into `w` (an open file, say).
pub fn write_wav_to<W: std::io::Write + std::io::Seek>(
    w: W,
    buf: &AudioBuffer,
    depth: BitDepth,
) -> Result<(), hound::Error> {
    let (bits, format) = match depth {
        BitDepth::Int16 => (16, hound::SampleFormat::Int),
        BitDepth::Int24 => (24, hound::SampleFormat::Int),
        BitDepth::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: buf.channels,
        sample_rate: buf.sample_rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut w = hound::WavWriter::new(w, spec)?;
    match depth {
        BitDepth::Int16 => {
            let mut w16 = w.get_i16_writer(buf.samples.len() as u32);
            for &s in &buf.samples {
                w16.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16);
            }
            w16.flush()?;
        }
        BitDepth::Int24 => {
            for &s in &buf.samples {
                w.write_sample((s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32)?;
            }
        }
        BitDepth::Float32 => {
            for &s in &buf.samples {
                w.write_sample(s)?;
            }
        }
    }
    w.finalize()
}

/// Reads a WAV hound understands (8/16/24/32-bit int, 32-bit float).
pub fn read_wav(path: &Path) -> Result<(AudioBuffer, BitDepth), String> {
    let mut r = hound::WavReader::open(path).map_err(|e| describe_hound_error(&e))?;
    let spec = r.spec();
    let (samples, depth) = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => (
            r.samples::<f32>()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| describe_hound_error(&e))?,
            BitDepth::Float32,
        ),
        (hound::SampleFormat::Int, bits) if bits <= 32 => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            let s = r
                .samples::<i32>()
                .map(|x| x.map(|v| v as f32 * scale))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| describe_hound_error(&e))?;
            let depth = if bits <= 16 {
                BitDepth::Int16
            } else if bits <= 24 {
                BitDepth::Int24
            } else {
                BitDepth::Float32
            };
            (s, depth)
        }
        (f, b) => return Err(format!("unsupported WAV sample format {f:?} {b}-bit")),
    };
    Ok((
        AudioBuffer {
            channels: spec.channels,
            sample_rate: spec.sample_rate,
            samples,
        },
        depth,
    ))
}

/// Turns hound's errors into words a user understands.
pub fn describe_hound_error(e: &hound::Error) -> String {
    match e {
        hound::Error::IoError(io) => io.to_string(),
        hound::Error::FormatError(m) => format!("not a valid WAV file ({m})"),
        hound::Error::Unsupported => "WAV encoding not supported".into(),
        other => other.to_string(),
    }
}
