//! WAV files read as a stream: the header parsed chunk by chunk, then the
//! samples decoded a block at a time into interleaved `f32`, so a file of
//! any size is read in bounded memory (peaks, analysis, `add`). PCM 8/16/
//! 24/32-bit, float 32/64, G.711 µ-law and a-law; samples at the format's
//! full scale are counted as they pass ([`WavStream::clipped`]).

use crate::audio::Encoding;
pub use crate::audio::Frames;
use std::io::Read;

/// The largest `fmt ` chunk genhist reads (real ones are 16 to 40 bytes).
const MAX_FMT: u32 = 1 << 16;

/// A data size streaming writers leave when they never come back to patch
/// the header: "as long as the file".
fn is_unknown_length(size: u32) -> bool {
    size == 0 || size == u32::MAX
}

/// A WAV file being read.
pub struct WavStream<R> {
    r: R,
    pub channels: u16,
    pub sample_rate: u32,
    pub encoding: Encoding,
    /// Bytes of one frame (every channel's sample).
    pub block_align: usize,
    /// The frames the file really holds (the header's count, cut at the
    /// end of the file when the file is shorter).
    frames: u64,
    /// The frames the header says there are (`None`: it says "unknown").
    pub header_frames: Option<u64>,
    /// Frames not yet read.
    left: u64,
    bytes: Vec<u8>,
    /// Samples at the format's full scale read so far.
    pub clipped: u64,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(n)
}

impl<R: Read> WavStream<R> {
    /// Reads the header up to the data chunk. `file_len`, when known,
    /// bounds the data to what the file really holds.
    pub fn open(mut r: R, file_len: Option<u64>) -> Result<WavStream<R>, String> {
        let mut head = [0u8; 12];
        if read_full(&mut r, &mut head)? < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
            return Err("not a WAV file (no RIFF/WAVE header)".into());
        }
        let mut pos: u64 = 12;
        let mut fmt: Option<(u16, u16, u32, u16, u16)> = None;
        loop {
            let mut ch = [0u8; 8];
            if read_full(&mut r, &mut ch)? < 8 {
                return Err("no data chunk (file truncated?)".into());
            }
            pos += 8;
            let size = u32_at(&ch, 4);
            match &ch[0..4] {
                b"fmt " => {
                    if !(16..=MAX_FMT).contains(&size) {
                        return Err("truncated fmt chunk".into());
                    }
                    let mut b = vec![0u8; size as usize + (size as usize & 1)];
                    let n = read_full(&mut r, &mut b)?;
                    if n < size as usize {
                        return Err("truncated fmt chunk".into());
                    }
                    pos += b.len() as u64;
                    let mut tag = u16_at(&b, 0);
                    if tag == 0xFFFE && size >= 26 {
                        tag = u16_at(&b, 24);
                    }
                    fmt = Some((
                        tag,
                        u16_at(&b, 2),
                        u32_at(&b, 4),
                        u16_at(&b, 12),
                        u16_at(&b, 14),
                    ));
                }
                b"data" => {
                    let (tag, channels, sample_rate, align, bits) =
                        fmt.ok_or("data chunk before fmt chunk")?;
                    let encoding = check_format(tag, channels, sample_rate, align, bits)?;
                    let align = align as u64;
                    let in_file = file_len.map(|l| l.saturating_sub(pos));
                    let header_frames = (!is_unknown_length(size)).then(|| size as u64 / align);
                    let bytes = match (is_unknown_length(size), in_file) {
                        (true, Some(f)) => f,
                        (true, None) => u64::MAX,
                        (false, Some(f)) => f.min(size as u64),
                        (false, None) => size as u64,
                    };
                    let frames = bytes / align;
                    return Ok(WavStream {
                        r,
                        channels,
                        sample_rate,
                        encoding,
                        block_align: align as usize,
                        frames,
                        header_frames,
                        left: frames,
                        bytes: Vec::new(),
                        clipped: 0,
                    });
                }
                _ => {
                    // Skipped by reading: the reader need not seek.
                    let skip = size as u64 + (size as u64 & 1);
                    let n = std::io::copy(&mut (&mut r).take(skip), &mut std::io::sink())
                        .map_err(|e| e.to_string())?;
                    if n < skip {
                        return Err("no data chunk (file truncated?)".into());
                    }
                    pos += skip;
                }
            }
        }
    }

    /// True when the header promises more audio than the file holds.
    pub(crate) fn is_truncated(&self) -> bool {
        self.header_frames.is_some_and(|h| h > self.frames)
    }

    /// The real length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate as f64
    }

    /// The header's length in seconds, when it says one.
    pub(crate) fn header_duration_s(&self) -> Option<f64> {
        self.header_frames
            .map(|f| f as f64 / self.sample_rate as f64)
    }
}

/// Checks what a reader needs: channels, a rate, a block that holds one
/// sample of every channel, an encoding genhist decodes.
fn check_format(
    tag: u16,
    channels: u16,
    rate: u32,
    align: u16,
    bits: u16,
) -> Result<Encoding, String> {
    if channels == 0 {
        return Err("the WAV header says 0 channels".into());
    }
    if rate == 0 {
        return Err("the WAV header says a sample rate of 0 Hz".into());
    }
    if rate > MAX_RATE {
        return Err(format!(
            "the WAV header says a sample rate of {rate} Hz; genhist reads up to {MAX_RATE} Hz"
        ));
    }
    let encoding = match tag {
        1 => Encoding::Pcm(bits),
        3 => Encoding::Float(bits),
        t => Encoding::Other(t),
    };
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
    let width = align as usize / channels as usize;
    let ok = matches!(
        (encoding, width),
        (Encoding::Pcm(8), 1)
            | (Encoding::Pcm(16), 2)
            | (Encoding::Pcm(24), 3)
            | (Encoding::Pcm(32), 4)
            | (Encoding::Float(32), 4)
            | (Encoding::Float(64), 8)
            | (Encoding::Other(6 | 7), 1)
    );
    if !ok {
        return Err(match encoding {
            Encoding::Other(0xFFFE) => "unsupported WAVE_FORMAT_EXTENSIBLE sample format".into(),
            Encoding::Other(t) => format!(
                "unsupported WAV sample format (tag 0x{t:04X}): genhist decodes PCM, \
                 float, µ-law and a-law"
            ),
            Encoding::Pcm(b) => format!("{b}-bit PCM in {width}-byte samples is not supported"),
            Encoding::Float(b) => {
                format!("{b}-bit float in {width}-byte samples is not supported")
            }
        });
    }
    Ok(encoding)
}

/// The highest sample rate genhist reads (8 × 192 kHz, far above any
/// generator's; a header above it is damaged).
pub(crate) const MAX_RATE: u32 = 1_536_000;

/// G.711 µ-law to 16-bit linear.
fn ulaw(b: u8) -> i16 {
    let b = !b;
    let t = ((((b & 0x0F) as i32) << 3) + 0x84) << ((b & 0x70) >> 4);
    (if b & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// G.711 a-law to 16-bit linear.
fn alaw(b: u8) -> i16 {
    let b = b ^ 0x55;
    let seg = (b & 0x70) >> 4;
    let mut t = ((b & 0x0F) as i32) << 4;
    t = match seg {
        0 => t + 8,
        1 => t + 0x108,
        s => (t + 0x108) << (s - 1),
    };
    (if b & 0x80 != 0 { t } else { -t }) as i16
}

impl<R: Read> Frames for WavStream<R> {
    fn channels(&self) -> u16 {
        self.channels
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, String> {
        out.clear();
        let want = (max as u64).min(self.left) as usize;
        if want == 0 {
            return Ok(0);
        }
        self.bytes.resize(want * self.block_align, 0);
        let got = read_full(&mut self.r, &mut self.bytes)?;
        let frames = got / self.block_align;
        if frames < want {
            // The file ended early (it shrank while read): stop there.
            self.left = 0;
        } else {
            self.left -= frames as u64;
        }
        let data = &self.bytes[..frames * self.block_align];
        out.reserve(frames * self.channels as usize);
        let mut clipped = 0u64;
        match self.encoding {
            Encoding::Pcm(8) => out.extend(data.iter().map(|&b| {
                clipped += u64::from(b <= 1 || b == 255);
                (b as f32 - 128.0) / 128.0
            })),
            Encoding::Pcm(16) => out.extend(data.chunks_exact(2).map(|s| {
                let v = i16::from_le_bytes([s[0], s[1]]);
                clipped += u64::from(v == i16::MAX || v <= -i16::MAX);
                v as f32 / 32768.0
            })),
            Encoding::Pcm(24) => out.extend(data.chunks_exact(3).map(|s| {
                let v = i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8;
                clipped += u64::from(v == 0x7F_FFFF || v <= -0x7F_FFFF);
                v as f32 / 8_388_608.0
            })),
            Encoding::Pcm(32) => out.extend(data.chunks_exact(4).map(|s| {
                let v = i32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                clipped += u64::from(v == i32::MAX || v <= -i32::MAX);
                (v as f64 / 2_147_483_648.0) as f32
            })),
            Encoding::Float(32) => out.extend(data.chunks_exact(4).map(|s| {
                let v = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                clipped += u64::from(v.abs() >= 1.0);
                v
            })),
            Encoding::Float(64) => out.extend(data.chunks_exact(8).map(|s| {
                let v = f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
                clipped += u64::from(v.abs() >= 1.0);
                v as f32
            })),
            Encoding::Other(7) => out.extend(data.iter().map(|&b| {
                let v = ulaw(b);
                clipped += u64::from(v.unsigned_abs() >= 32124);
                v as f32 / 32768.0
            })),
            Encoding::Other(6) => out.extend(data.iter().map(|&b| {
                let v = alaw(b);
                clipped += u64::from(v.unsigned_abs() >= 32256);
                v as f32 / 32768.0
            })),
            other => return Err(format!("unsupported WAV encoding {other:?}")),
        }
        self.clipped += clipped;
        Ok(frames)
    }
}

/// Opens the WAV file `f` as a stream (its length bounds the data).
pub fn open_file(f: std::fs::File) -> Result<WavStream<std::io::BufReader<std::fs::File>>, String> {
    // A pipe's length says nothing about its data.
    let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    WavStream::open(std::io::BufReader::with_capacity(1 << 16, f), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_decodes_the_known_points() {
        assert_eq!(ulaw(0xFF), 0);
        assert_eq!(ulaw(0x80), 32124);
        assert_eq!(ulaw(0x00), -32124);
        assert_eq!(alaw(0xD5), 8);
        assert_eq!(alaw(0xAA), 32256);
    }

    fn wav(data_size: u32, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&8000u32.to_le_bytes());
        b.extend_from_slice(&16000u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(b"abc\0");
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_size.to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn real_length_clipping_and_other_chunks() {
        let mut data = Vec::new();
        for v in [0i16, i16::MAX, i16::MIN, 100] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        for (size, truncated) in [(8u32, false), (u32::MAX, false), (800, true)] {
            let b = wav(size, &data);
            let mut s = WavStream::open(&b[..], Some(b.len() as u64)).unwrap();
            assert_eq!(s.frames(), 4);
            assert_eq!(s.is_truncated(), truncated, "{size}");
            let mut out = Vec::new();
            assert_eq!(s.read(&mut out, 100).unwrap(), 4);
            assert_eq!(out[1], 32767.0 / 32768.0);
            assert_eq!(out[2], -1.0);
            assert_eq!(s.clipped, 2);
            assert_eq!(s.read(&mut out, 100).unwrap(), 0);
        }
    }
}
