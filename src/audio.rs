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

/// Frames decoded at a time when audio is streamed.
pub(crate) const BLOCK_FRAMES: usize = 1 << 14;

/// Audio that can be read a block at a time: a WAV file streamed
/// (`wav::WavStream`), or samples in memory ([`AudioBuffer::stream`]).
pub trait Frames {
    fn channels(&self) -> u16;
    fn sample_rate(&self) -> u32;
    /// Frames in all (known before reading).
    fn frames(&self) -> u64;
    /// Up to `max` frames, interleaved, into `out` (cleared first); 0 at
    /// the end.
    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, String>;
}

/// Samples in memory, read as a stream.
pub struct BufferFrames<'a> {
    buf: &'a AudioBuffer,
    at: usize,
}

impl AudioBuffer {
    /// The buffer as a [`Frames`] stream.
    pub fn stream(&self) -> BufferFrames<'_> {
        BufferFrames { buf: self, at: 0 }
    }
}

impl Frames for BufferFrames<'_> {
    fn channels(&self) -> u16 {
        self.buf.channels
    }

    fn sample_rate(&self) -> u32 {
        self.buf.sample_rate
    }

    fn frames(&self) -> u64 {
        self.buf.frames() as u64
    }

    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, String> {
        out.clear();
        let ch = self.buf.channels.max(1) as usize;
        let n = max.min(self.buf.frames().saturating_sub(self.at));
        out.extend_from_slice(&self.buf.samples[self.at * ch..(self.at + n) * ch]);
        self.at += n;
        Ok(n)
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
pub(crate) fn write_frames_to<W: std::io::Write + std::io::Seek>(
    w: W,
    src: &mut dyn Frames,
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
            .read(&mut block, BLOCK_FRAMES)
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
pub(crate) fn depth_of(encoding: Encoding) -> BitDepth {
    match encoding {
        Encoding::Pcm(b) if b <= 16 => BitDepth::Int16,
        Encoding::Pcm(24) => BitDepth::Int24,
        Encoding::Pcm(_) | Encoding::Float(_) => BitDepth::Float32,
        Encoding::Other(_) => BitDepth::Int16,
    }
}

/// Turns hound's errors into words a user understands.
pub(crate) fn describe_hound_error(e: &hound::Error) -> String {
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
