//! Waveform thumbnails: a 400x60 PNG of the min/max envelope, like the seed's
//! `generate_waveform_thumbnail` (channels mixed, centred, on a dark background).

use crate::audio::AudioBuffer;
use std::path::Path;

pub(crate) const THUMB_WIDTH: u32 = 400;
const THUMB_HEIGHT: u32 = 60;

/// A thumbnail built as the audio streams by: the min/max of the channels'
/// mix in each of `width` columns.
pub(crate) struct Thumb {
    acc: crate::peaks::PeakAcc,
    channels: usize,
    mono: Vec<f32>,
}

impl Thumb {
    pub(crate) fn new(channels: u16, frames: u64, width: u32) -> Thumb {
        Thumb {
            acc: crate::peaks::PeakAcc::new(1, 1, frames, width as usize),
            channels: channels.max(1) as usize,
            mono: Vec::new(),
        }
    }

    /// Takes the next interleaved frames.
    pub(crate) fn push(&mut self, block: &[f32]) {
        let ch = self.channels;
        self.mono.clear();
        self.mono.extend(
            block
                .chunks_exact(ch)
                .map(|f| f.iter().sum::<f32>() / ch as f32),
        );
        self.acc.push(&self.mono);
    }

    /// The picture, `height` pixels high.
    pub(crate) fn image(self, height: u32) -> image::RgbaImage {
        let p = self.acc.finish();
        let width = p.buckets() as u32;
        let mut img = image::RgbaImage::from_pixel(width, height, image::Rgba([24, 24, 32, 255]));
        let mid = (height as f32 - 1.0) / 2.0;
        for x in 0..width {
            let (lo, hi) = (p.mins[0][x as usize], p.maxs[0][x as usize]);
            let y0 = (mid - hi.clamp(-1.0, 1.0) * mid).round() as u32;
            let y1 = (mid - lo.clamp(-1.0, 1.0) * mid).round() as u32;
            for y in y0.min(height - 1)..=y1.min(height - 1) {
                img.put_pixel(x, y, image::Rgba([86, 180, 233, 255]));
            }
        }
        img
    }

    /// Writes the 400x60 PNG into `w` (an open file, say).
    pub(crate) fn write_to<W: std::io::Write + std::io::Seek>(
        self,
        w: &mut W,
    ) -> Result<(), String> {
        self.image(THUMB_HEIGHT)
            .write_to(w, image::ImageFormat::Png)
            .map_err(|e| e.to_string())
    }
}

/// Draws the waveform of `buf` into a `width`x`height` RGBA picture.
pub(crate) fn render(buf: &AudioBuffer, width: u32, height: u32) -> image::RgbaImage {
    let mut t = Thumb::new(buf.channels, buf.frames() as u64, width);
    t.push(&buf.samples);
    t.image(height)
}

/// Writes the thumbnail PNG of `buf` to `path`.
pub(crate) fn write_thumbnail(path: &Path, buf: &AudioBuffer) -> Result<(), String> {
    render(buf, THUMB_WIDTH, THUMB_HEIGHT)
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| e.to_string())
}

/// Writes the thumbnail PNG of `buf` into `w` (an open file, say).
pub fn write_thumbnail_to<W: std::io::Write + std::io::Seek>(
    w: &mut W,
    buf: &AudioBuffer,
) -> Result<(), String> {
    render(buf, THUMB_WIDTH, THUMB_HEIGHT)
        .write_to(w, image::ImageFormat::Png)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_is_400x60_and_shows_the_loud_part() {
        let mut samples = vec![0f32; 48000];
        for s in samples.iter_mut().take(24000) {
            *s = 0.9;
        }
        let buf = AudioBuffer {
            channels: 1,
            sample_rate: 48000,
            samples,
        };
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.png");
        write_thumbnail(&p, &buf).unwrap();
        let img = image::open(&p).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (400, 60));
        // The loud half reaches the top rows; the silent half does not.
        assert_ne!(img.get_pixel(100, 3), &image::Rgba([24, 24, 32, 255]));
        assert_eq!(img.get_pixel(300, 3), &image::Rgba([24, 24, 32, 255]));
    }
}
