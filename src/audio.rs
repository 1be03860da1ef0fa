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
    write_frames_to(w, &mut buf.stream(), depth, |_| {}).map(drop)
}

/// Writes what `src` streams as WAV data into `w`, a block at a time
/// (memory does not grow with the audio); `each` sees every block as it
/// goes (a thumbnail, say). Returns the frames written.
pub fn write_frames_to<W: std::io::Write + std::io::Seek>(
    w: W,
    src: &mut dyn crate::wav::Frames,
    depth: BitDepth,
    mut each: impl FnMut(&[f32]),
) -> Result<u64, hound::Error> {
    let (bits, format) = match depth {
        BitDepth::Int16 => (16, hound::SampleFormat::Int),
        BitDepth::Int24 => (24, hound::SampleFormat::Int),
        BitDepth::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: src.channels(),
        sample_rate: src.sample_rate(),
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut w = hound::WavWriter::new(w, spec)?;
    let mut block = Vec::new();
    let mut frames = 0u64;
    loop {
        let n = src
            .read(&mut block, crate::peaks::BLOCK_FRAMES)
            .map_err(|e| hound::Error::IoError(std::io::Error::other(e)))?;
        if n == 0 {
            break;
        }
        frames += n as u64;
        each(&block);
        match depth {
            BitDepth::Int16 => {
                let mut w16 = w.get_i16_writer(block.len() as u32);
                for &s in &block {
                    w16.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16);
                }
                w16.flush()?;
            }
            BitDepth::Int24 => {
                for &s in &block {
                    w.write_sample((s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32)?;
                }
            }
            BitDepth::Float32 => {
                for &s in &block {
                    w.write_sample(s)?;
                }
            }
        }
    }
    w.finalize()?;
    Ok(frames)
}

/// The format `add` keeps for a WAV of `encoding` (8-bit and G.711 become
/// 16-bit, 32-bit integer and 64-bit float become 32-bit float).
pub fn depth_of(encoding: Encoding) -> BitDepth {
    match encoding {
        Encoding::Pcm(b) if b <= 16 => BitDepth::Int16,
        Encoding::Pcm(24) => BitDepth::Int24,
        Encoding::Pcm(_) | Encoding::Float(_) => BitDepth::Float32,
        Encoding::Other(_) => BitDepth::Int16,
    }
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

/// How a WAV's samples are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Integer PCM with this many bits.
    Pcm(u16),
    /// IEEE float with this many bits.
    Float(u16),
    /// Another format tag (µ-law 7, a-law 6, ADPCM 2, ...).
    Other(u16),
}

/// Where a WAV file's samples are and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavLayout {
    pub channels: u16,
    pub sample_rate: u32,
    pub encoding: Encoding,
    pub block_align: usize,
    /// The data chunk's byte range (cut at the end of the file when the
    /// header says more than there is).
    pub data: std::ops::Range<usize>,
}

/// Finds `fmt ` and `data` in a RIFF/WAVE file (WAVE_FORMAT_EXTENSIBLE
/// included) and checks what a player or a waveform needs: at least one
/// channel, a sample rate above 0 Hz, a block alignment that holds one sample
/// of every channel. Anything else is a message saying what is wrong.
pub fn wav_layout(bytes: &[u8]) -> Result<WavLayout, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a WAV file (no RIFF/WAVE header)".into());
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u16, u32, u16, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if size < 16 || body + 16 > bytes.len() {
                return Err("truncated fmt chunk".into());
            }
            let b = &bytes[body..];
            let mut tag = u16::from_le_bytes([b[0], b[1]]);
            let channels = u16::from_le_bytes([b[2], b[3]]);
            let rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            let align = u16::from_le_bytes([b[12], b[13]]);
            let bits = u16::from_le_bytes([b[14], b[15]]);
            if tag == 0xFFFE && size >= 40 && body + 26 <= bytes.len() {
                tag = u16::from_le_bytes([b[24], b[25]]);
            }
            fmt = Some((tag, channels, rate, align, bits));
        } else if id == b"data" {
            let (tag, channels, sample_rate, align, bits) =
                fmt.ok_or("data chunk before fmt chunk")?;
            if channels == 0 {
                return Err("the WAV header says 0 channels".into());
            }
            if sample_rate == 0 {
                return Err("the WAV header says a sample rate of 0 Hz".into());
            }
            let encoding = match tag {
                1 => Encoding::Pcm(bits),
                3 => Encoding::Float(bits),
                t => Encoding::Other(t),
            };
            // PCM, float, µ-law and a-law hold whole samples per channel.
            let per_sample = match encoding {
                Encoding::Pcm(b) | Encoding::Float(b) => (b as usize).div_ceil(8).max(1),
                Encoding::Other(6 | 7) => 1,
                Encoding::Other(_) => 0,
            };
            if align == 0 || (align as usize) < per_sample * channels as usize {
                return Err(format!(
                    "the WAV header's block alignment ({align} bytes) cannot hold {channels} channel(s) of {bits}-bit samples"
                ));
            }
            let end = body.saturating_add(size).min(bytes.len());
            return Ok(WavLayout {
                channels,
                sample_rate,
                encoding,
                block_align: align as usize,
                data: body..end,
            });
        }
        pos = body.saturating_add(size.saturating_add(size & 1));
    }
    Err("no data chunk (file truncated?)".into())
}
