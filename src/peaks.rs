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

use crate::audio::{wav_layout, Encoding};

/// Computes peaks of the WAV at `path` into `buckets` slices.
pub fn peaks_from_file(path: &Path, buckets: usize) -> Result<Peaks, String> {
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "the WAV file is missing".to_string(),
        _ => e.to_string(),
    })?;
    peaks_from_reader(f, buckets)
}

/// Computes peaks of the WAV read from `r` (an already opened file).
pub fn peaks_from_reader(r: impl std::io::Read, buckets: usize) -> Result<Peaks, String> {
    peaks_of(r, buckets).map_err(|e| e.to_string())
}

/// Peaks of the WAV read from `r`, or why there are none: an encoding
/// genhist cannot read, or a file that is not a usable WAV.
pub fn peaks_of(mut r: impl std::io::Read, buckets: usize) -> Result<Peaks, PeakError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|e| PeakError::Invalid(e.to_string()))?;
    match peaks_from_wav_bytes(&bytes, buckets) {
        Err(PeakError::Unsupported(what)) => peaks_via_decoder(bytes, buckets)
            .map_err(|e| PeakError::Unsupported(format!("{what}; decoder: {e}"))),
        other => other,
    }
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

/// Peaks from WAV bytes for PCM 8/16/24/32 and float 32/64.
pub fn peaks_from_wav_bytes(bytes: &[u8], buckets: usize) -> Result<Peaks, PeakError> {
    let l = wav_layout(bytes).map_err(PeakError::Invalid)?;
    let data = &bytes[l.data.clone()];
    let ch = l.channels as usize;
    let frames = data.len() / l.block_align;
    let buckets = buckets.max(1);
    let mut mins = vec![vec![0f32; buckets]; ch];
    let mut maxs = vec![vec![0f32; buckets]; ch];
    let bytes_per_sample = l.block_align / ch;
    let mut squares = 0f64;
    macro_rules! scan {
        ($decode:expr, $scale:expr) => {{
            for b in 0..buckets {
                let f0 = b * frames / buckets;
                let f1 = ((b + 1) * frames / buckets).max(f0);
                if f0 == f1 {
                    continue;
                }
                for c in 0..ch {
                    let mut lo_i = f64::MAX;
                    let mut hi_i = f64::MIN;
                    for f in f0..f1 {
                        let off = f * l.block_align + c * bytes_per_sample;
                        let v: f64 = $decode(&data[off..off + bytes_per_sample]);
                        squares += (v * $scale) * (v * $scale);
                        if v < lo_i {
                            lo_i = v;
                        }
                        if v > hi_i {
                            hi_i = v;
                        }
                    }
                    mins[c][b] = (lo_i * $scale) as f32;
                    maxs[c][b] = (hi_i * $scale) as f32;
                }
            }
        }};
    }
    match l.encoding {
        Encoding::Pcm(16) if bytes_per_sample == 2 => {
            // Hot path: integer min/max over i16, one pass per bucket.
            for b in 0..buckets {
                let f0 = b * frames / buckets;
                let f1 = ((b + 1) * frames / buckets).max(f0);
                if f0 == f1 {
                    continue;
                }
                let chunk = &data[f0 * l.block_align..f1 * l.block_align];
                let mut lo = [i16::MAX; 8];
                let mut hi = [i16::MIN; 8];
                let mut sq = 0i64;
                if ch == 1 {
                    let (mut l0, mut h0) = (i16::MAX, i16::MIN);
                    for s in chunk.chunks_exact(2) {
                        let v = i16::from_le_bytes([s[0], s[1]]);
                        l0 = l0.min(v);
                        h0 = h0.max(v);
                        sq += i64::from(v) * i64::from(v);
                    }
                    lo[0] = l0;
                    hi[0] = h0;
                } else {
                    for (i, s) in chunk.chunks_exact(2).enumerate() {
                        let v = i16::from_le_bytes([s[0], s[1]]);
                        sq += i64::from(v) * i64::from(v);
                        let c = i % ch;
                        if c < 8 {
                            lo[c] = lo[c].min(v);
                            hi[c] = hi[c].max(v);
                        }
                    }
                }
                squares += sq as f64 / (32768.0 * 32768.0);
                for c in 0..ch.min(8) {
                    mins[c][b] = lo[c] as f32 / 32768.0;
                    maxs[c][b] = hi[c] as f32 / 32768.0;
                }
            }
        }
        Encoding::Pcm(8) => scan!(|s: &[u8]| s[0] as f64 - 128.0, 1.0 / 128.0),
        Encoding::Pcm(24) if bytes_per_sample == 3 => scan!(
            |s: &[u8]| (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f64,
            1.0 / 8_388_608.0
        ),
        Encoding::Pcm(32) if bytes_per_sample == 4 => scan!(
            |s: &[u8]| i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f64,
            1.0 / 2_147_483_648.0
        ),
        Encoding::Float(32) if bytes_per_sample == 4 => scan!(
            |s: &[u8]| f32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f64,
            1.0
        ),
        Encoding::Float(64) if bytes_per_sample == 8 => scan!(
            |s: &[u8]| f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
            1.0
        ),
        other => {
            return Err(PeakError::Unsupported(format!(
                "unsupported WAV encoding {other:?}"
            )))
        }
    }
    for c in 0..ch {
        for b in 0..buckets {
            mins[c][b] = mins[c][b].clamp(-1.0, 1.0);
            maxs[c][b] = maxs[c][b].clamp(-1.0, 1.0);
        }
    }
    Ok(Peaks {
        channels: l.channels,
        sample_rate: l.sample_rate,
        frames: frames as u64,
        mins,
        maxs,
        rms: rms_of(squares, frames * ch),
    })
}

fn rms_of(squares: f64, samples: usize) -> f32 {
    if samples == 0 {
        0.0
    } else {
        (squares / samples as f64).sqrt() as f32
    }
}

/// Peaks through rodio's (symphonia) decoder: µ-law, a-law and the rest.
fn peaks_via_decoder(bytes: Vec<u8>, buckets: usize) -> Result<Peaks, String> {
    use rodio::Source;
    let dec = rodio::Decoder::new_wav(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let ch = dec.channels().get() as usize;
    let rate = dec.sample_rate().get();
    let samples: Vec<f32> = dec.collect();
    let frames = samples.len() / ch.max(1);
    let buckets = buckets.max(1);
    let mut mins = vec![vec![0f32; buckets]; ch];
    let mut maxs = vec![vec![0f32; buckets]; ch];
    for b in 0..buckets {
        let f0 = b * frames / buckets;
        let f1 = ((b + 1) * frames / buckets).max(f0);
        for c in 0..ch {
            let it = (f0..f1).map(|f| samples[f * ch + c]);
            let (lo, hi) = it.fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(v), h.max(v)));
            if f1 > f0 {
                mins[c][b] = lo.clamp(-1.0, 1.0);
                maxs[c][b] = hi.clamp(-1.0, 1.0);
            }
        }
    }
    let squares = samples.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    Ok(Peaks {
        channels: ch as u16,
        sample_rate: rate,
        frames: frames as u64,
        mins,
        maxs,
        rms: rms_of(squares, samples.len()),
    })
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
