//! Spectrograms: a short-time Fourier transform of the take's mono mix,
//! one window per column (time left to right), rows on a log-frequency
//! axis from 20 Hz at the bottom to the Nyquist frequency at the top,
//! levels in dB (0 dB: a full-scale sine). The browser draws it with half
//! blocks; `genhist spectrogram ID --png` writes the same picture.

use crate::audio::{Frames, BLOCK_FRAMES};
use realfft::RealFftPlanner;
use std::collections::VecDeque;

/// Window of each column (samples).
const FFT: usize = 2048;

/// The lowest frequency shown.
pub const LOW_HZ: f64 = 20.0;

/// The dB range the colours span (below it: black).
pub const FLOOR_DB: f32 = -100.0;

/// A spectrogram: `db[row * cols + col]`, row 0 at the bottom (20 Hz).
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    pub cols: usize,
    pub rows: usize,
    pub db: Vec<f32>,
    pub duration_s: f64,
    pub sample_rate: u32,
}

impl Spectrogram {
    pub fn at(&self, col: usize, row: usize) -> f32 {
        self.db[row * self.cols + col]
    }

    /// The frequency at the middle of `row` (Hz).
    pub fn row_hz(&self, row: usize) -> f64 {
        row_hz(row as f64 + 0.5, self.rows, self.sample_rate)
    }
}

fn row_hz(at: f64, rows: usize, rate: u32) -> f64 {
    let nyquist = f64::from(rate) / 2.0;
    LOW_HZ * (nyquist / LOW_HZ).powf(at / rows.max(1) as f64)
}

/// The spectrogram of `audio` in `cols` × `rows` cells.
pub fn compute(audio: &mut dyn Frames, cols: usize, rows: usize) -> Result<Spectrogram, String> {
    let (cols, rows) = (cols.max(1), rows.max(1));
    let ch = audio.channels().max(1) as usize;
    let rate = audio.sample_rate().max(1);
    let total = audio.frames();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
    let window: Vec<f32> = (0..FFT)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / FFT as f32).cos())
        .collect();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    // Each row's band of bins (at least one).
    let bin_hz = f64::from(rate) / FFT as f64;
    let bands: Vec<(usize, usize)> = (0..rows)
        .map(|r| {
            let lo = (row_hz(r as f64, rows, rate) / bin_hz).floor() as usize;
            let hi = (row_hz(r as f64 + 1.0, rows, rate) / bin_hz).ceil() as usize;
            let lo = lo.min(FFT / 2);
            (lo, hi.clamp(lo + 1, FFT / 2 + 1))
        })
        .collect();
    // Full scale: a sine of amplitude 1 peaks at FFT/4 through the window.
    let scale = 4.0 / FFT as f32;
    let mut db = vec![FLOOR_DB; rows * cols];
    // The centre of column c is at frame (c + 0.5) * total / cols.
    let centre = |c: usize| ((c as f64 + 0.5) * total as f64 / cols as f64) as i64;
    let mut ring: VecDeque<f32> = VecDeque::with_capacity(FFT);
    let mut at: i64 = 0;
    let mut col = 0;
    let mut block = Vec::new();
    let mut transform = |ring: &VecDeque<f32>, col: usize, db: &mut Vec<f32>| {
        // The window ends at the newest sample; padded with silence before.
        let pad = FFT - ring.len();
        for (i, x) in input.iter_mut().enumerate() {
            *x = if i < pad {
                0.0
            } else {
                ring[i - pad] * window[i]
            };
        }
        if fft
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .is_err()
        {
            return;
        }
        for (r, &(lo, hi)) in bands.iter().enumerate() {
            let m = spectrum[lo..hi]
                .iter()
                .map(|c| c.norm())
                .fold(0f32, f32::max)
                * scale;
            db[r * cols + col] = if m > 0.0 {
                (20.0 * m.log10()).max(FLOOR_DB)
            } else {
                FLOOR_DB
            };
        }
    };
    loop {
        let n = audio.read(&mut block, BLOCK_FRAMES)?;
        if n == 0 {
            break;
        }
        for frame in block.chunks_exact(ch) {
            if ring.len() == FFT {
                ring.pop_front();
            }
            ring.push_back(frame.iter().sum::<f32>() / ch as f32);
            at += 1;
            // A column is done when its window's second half has come.
            while col < cols && at >= centre(col) + (FFT / 2) as i64 {
                transform(&ring, col, &mut db);
                col += 1;
            }
        }
    }
    // The last columns: their windows run past the end (silence after).
    while col < cols {
        transform(&ring, col, &mut db);
        col += 1;
    }
    Ok(Spectrogram {
        cols,
        rows,
        db,
        duration_s: total as f64 / f64::from(rate),
        sample_rate: rate,
    })
}

/// The colour of a level: black, through purple, red and orange, to a
/// pale yellow at full scale (brighter = louder).
pub fn colour(db: f32) -> (u8, u8, u8) {
    const STOPS: [(f32, [f32; 3]); 6] = [
        (0.0, [0.0, 0.0, 0.0]),
        (0.25, [40.0, 10.0, 90.0]),
        (0.5, [150.0, 30.0, 110.0]),
        (0.7, [230.0, 80.0, 40.0]),
        (0.88, [250.0, 180.0, 30.0]),
        (1.0, [255.0, 255.0, 200.0]),
    ];
    let t = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
    let i = STOPS.iter().rposition(|(s, _)| *s <= t).unwrap_or(0).min(4);
    let (s0, c0) = STOPS[i];
    let (s1, c1) = STOPS[i + 1];
    let f = ((t - s0) / (s1 - s0)).clamp(0.0, 1.0);
    let mix = |k: usize| (c0[k] + (c1[k] - c0[k]) * f).round() as u8;
    (mix(0), mix(1), mix(2))
}

/// A level as one of `steps` grey steps (0: darkest).
pub fn grey_step(db: f32, steps: usize) -> usize {
    let t = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
    ((t * steps as f32) as usize).min(steps.saturating_sub(1))
}

/// The spectrogram as an RGB picture, `width` × `height` pixels (time left
/// to right, 20 Hz at the bottom row).
pub fn picture(s: &Spectrogram) -> image::RgbImage {
    image::RgbImage::from_fn(s.cols as u32, s.rows as u32, |x, y| {
        let row = s.rows - 1 - y as usize;
        let (r, g, b) = colour(s.at(x as usize, row));
        image::Rgb([r, g, b])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::AudioBuffer;

    fn tone(rate: u32, secs: f64, hz: f64) -> AudioBuffer {
        let n = (f64::from(rate) * secs) as usize;
        AudioBuffer {
            channels: 1,
            sample_rate: rate,
            samples: (0..n)
                .map(|i| {
                    (0.5 * (std::f64::consts::TAU * hz * i as f64 / f64::from(rate)).sin()) as f32
                })
                .collect(),
        }
    }

    #[test]
    fn a_tone_is_bright_in_its_row_only() {
        let buf = tone(48000, 1.0, 1000.0);
        let s = compute(&mut buf.stream(), 20, 60).unwrap();
        let row = (0..60)
            .max_by(|&a, &b| s.at(10, a).total_cmp(&s.at(10, b)))
            .unwrap();
        let hz = s.row_hz(row);
        assert!((800.0..1250.0).contains(&hz), "{hz}");
        // -6 dB for a half-scale sine, within a few dB (window, band).
        assert!((s.at(10, row) + 6.0).abs() < 2.0, "{}", s.at(10, row));
        assert!(s.at(10, 5) < -60.0, "{}", s.at(10, 5));
        // Rows rise from 20 Hz to the Nyquist frequency.
        assert!(s.row_hz(0) < 25.0 && s.row_hz(59) > 20000.0);
    }
}
