//! Waveform peaks: per-bucket min/max of each channel, computed straight from
//! the WAV's data chunk (fast path for PCM and float), or through rodio's
//! decoder for encodings hound cannot read (64-bit float, µ-law, a-law).

use std::path::Path;

/// Min/max of each channel over `buckets` equal slices of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Peaks {
    pub channels: u16,
    pub sample_rate: u32,
    pub frames: u64,
    /// `mins[ch][bucket]`, `maxs[ch][bucket]`, in [-1, 1].
    pub mins: Vec<Vec<f32>>,
    pub maxs: Vec<Vec<f32>>,
    /// Root mean square of all samples of all channels (for loudness matching).
    pub rms: f32,
}

impl Peaks {
    pub fn buckets(&self) -> usize {
        self.mins.first().map_or(0, Vec::len)
    }

    /// The largest sample magnitude of any channel (0..1).
    pub fn sample_peak(&self) -> f32 {
        self.mins
            .iter()
            .chain(&self.maxs)
            .flatten()
            .fold(0f32, |m, v| m.max(v.abs()))
    }

    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate.max(1) as f64
    }

    /// Peak absolute level of all channels, resampled to `width` columns.
    pub fn envelope(&self, width: usize) -> Vec<f32> {
        let n = self.buckets();
        if n == 0 || width == 0 {
            return vec![0.0; width];
        }
        (0..width)
            .map(|col| {
                let a = col * n / width;
                let b = ((col + 1) * n / width).max(a + 1).min(n);
                let mut peak = 0f32;
                for ch in 0..self.mins.len() {
                    for i in a..b {
                        peak = peak.max(self.maxs[ch][i].abs()).max(self.mins[ch][i].abs());
                    }
                }
                peak
            })
            .collect()
    }

    /// Min/max per column for one channel, resampled to `width` columns.
    pub fn columns(&self, ch: usize, width: usize) -> Vec<(f32, f32)> {
        let n = self.buckets();
        if n == 0 || width == 0 || ch >= self.mins.len() {
            return vec![(0.0, 0.0); width];
        }
        (0..width)
            .map(|col| {
                let a = col * n / width;
                let b = ((col + 1) * n / width).max(a + 1).min(n);
                let lo = self.mins[ch][a..b].iter().copied().fold(f32::MAX, f32::min);
                let hi = self.maxs[ch][a..b].iter().copied().fold(f32::MIN, f32::max);
                (lo, hi)
            })
            .collect()
    }
}

/// Computes peaks of the WAV at `path` into `buckets` slices.
pub fn peaks_from_file(path: &Path, buckets: usize) -> Result<Peaks, String> {
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "the WAV file is missing".to_string(),
        _ => e.to_string(),
    })?;
    peaks_of(f, buckets).map_err(|e| e.to_string())
}

/// Why a WAV has no peaks.
#[derive(Debug)]
pub enum PeakError {
    /// An encoding genhist cannot read.
    Unsupported(String),
    /// Not a usable WAV file, or it cannot be read.
    Invalid(String),
}

impl std::fmt::Display for PeakError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeakError::Unsupported(m) | PeakError::Invalid(m) => f.write_str(m),
        }
    }
}

impl From<String> for PeakError {
    fn from(m: String) -> PeakError {
        if m.starts_with("unsupported") {
            PeakError::Unsupported(m)
        } else {
            PeakError::Invalid(m)
        }
    }
}

use crate::audio::{Frames, BLOCK_FRAMES};

/// Peaks of the WAV file `f`, read as a stream (memory does not grow with
/// the file), or why there are none.
pub fn peaks_of(f: std::fs::File, buckets: usize) -> Result<Peaks, PeakError> {
    let mut w = crate::wav::open_file(f)?;
    let mut acc = PeakAcc::new(w.channels, w.sample_rate, w.frames(), buckets);
    let mut block = Vec::new();
    while w.read(&mut block, BLOCK_FRAMES)? > 0 {
        acc.push(&block);
    }
    Ok(acc.finish())
}

/// Peaks built a block of frames at a time.
pub(crate) struct PeakAcc {
    peaks: Peaks,
    /// Frames seen so far.
    at: u64,
    /// The bucket being filled, and the first frame after it.
    bucket: usize,
    end: u64,
    squares: f64,
}

impl PeakAcc {
    pub(crate) fn new(channels: u16, sample_rate: u32, frames: u64, buckets: usize) -> PeakAcc {
        let buckets = buckets.max(1);
        let ch = channels.max(1) as usize;
        PeakAcc {
            peaks: Peaks {
                channels,
                sample_rate,
                frames,
                // Folded with every sample; a bucket no frame fell in ends as 0.
                mins: vec![vec![f32::MAX; buckets]; ch],
                maxs: vec![vec![f32::MIN; buckets]; ch],
                rms: 0.0,
            },
            at: 0,
            bucket: 0,
            end: frames / buckets as u64,
            squares: 0.0,
        }
    }

    /// Takes the next interleaved frames (bucket `b` holds frames
    /// `b * frames / buckets` up to `(b + 1) * frames / buckets`).
    pub(crate) fn push(&mut self, block: &[f32]) {
        let ch = self.peaks.mins.len();
        let n = self.peaks.buckets();
        let total = self.peaks.frames;
        let mut rest = block;
        while rest.len() >= ch {
            while self.at >= self.end && self.bucket + 1 < n {
                self.bucket += 1;
                self.end = (self.bucket as u64 + 1) * total / n as u64;
            }
            let room = if self.bucket + 1 < n {
                (self.end - self.at) as usize
            } else {
                usize::MAX
            };
            let take = room.min(rest.len() / ch);
            let (seg, tail) = rest.split_at(take * ch);
            let b = self.bucket;
            for c in 0..ch {
                let (mut lo, mut hi) = (self.peaks.mins[c][b], self.peaks.maxs[c][b]);
                for &v in seg.iter().skip(c).step_by(ch) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                self.peaks.mins[c][b] = lo;
                self.peaks.maxs[c][b] = hi;
            }
            self.squares += seg
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>();
            self.at += take as u64;
            rest = tail;
        }
    }

    pub(crate) fn finish(mut self) -> Peaks {
        let samples = self.at as usize * self.peaks.mins.len();
        self.peaks.frames = self.at;
        for c in 0..self.peaks.mins.len() {
            for b in 0..self.peaks.buckets() {
                let (lo, hi) = (self.peaks.mins[c][b], self.peaks.maxs[c][b]);
                // Buckets no frame fell in (fewer frames than buckets) are 0.
                let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
                self.peaks.mins[c][b] = lo.clamp(-1.0, 1.0);
                self.peaks.maxs[c][b] = hi.clamp(-1.0, 1.0);
            }
        }
        self.peaks.rms = if samples == 0 {
            0.0
        } else {
            (self.squares / samples as f64).sqrt() as f32
        };
        self.peaks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{write_wav, AudioBuffer, BitDepth};

    fn buf(channels: u16) -> AudioBuffer {
        let frames = 4800;
        let mut samples = Vec::new();
        for i in 0..frames {
            let v = if i < frames / 2 { 0.5 } else { -0.25 };
            for c in 0..channels {
                samples.push(if c == 0 { v } else { -v });
            }
        }
        AudioBuffer {
            channels,
            sample_rate: 48000,
            samples,
        }
    }

    #[test]
    fn peaks_of_every_written_depth() {
        let d = tempfile::tempdir().unwrap();
        for depth in [BitDepth::Int16, BitDepth::Int24, BitDepth::Float32] {
            for ch in [1, 2] {
                let p = d.path().join(format!("{depth:?}{ch}.wav"));
                write_wav(&p, &buf(ch), depth).unwrap();
                let pk = peaks_from_file(&p, 2).unwrap();
                assert_eq!(pk.channels, ch);
                assert_eq!(pk.frames, 4800);
                assert!((pk.maxs[0][0] - 0.5).abs() < 1e-3, "{depth:?}");
                assert!((pk.mins[0][1] + 0.25).abs() < 1e-3, "{depth:?}");
                if ch == 2 {
                    assert!((pk.mins[1][0] + 0.5).abs() < 1e-3);
                }
                // Half at 0.5, half at 0.25 (in magnitude), every channel.
                let rms = ((0.25f32 + 0.0625) / 2.0).sqrt();
                assert!((pk.rms - rms).abs() < 1e-3, "{depth:?}: rms {}", pk.rms);
            }
        }
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.wav");
        std::fs::write(&p, b"hello, not audio").unwrap();
        let e = peaks_from_file(&p, 10).unwrap_err();
        assert!(e.contains("not a WAV"), "{e}");
    }
}
