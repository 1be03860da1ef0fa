//! Waveform peaks for the WAV encodings generators write: the fast path
//! (PCM, float 32/64) and rodio's decoder (µ-law, a-law), with a clear
//! "unsupported" for the rest.

use genhist::peaks::peaks_from_file;
use std::path::Path;

/// A WAV file with any format tag (fmt chunk of 18 bytes, `cbSize` 0).
fn wav(path: &Path, tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) {
    std::fs::write(
        path,
        wav_bytes(tag, channels, rate, bits, channels * bits.div_ceil(8), data),
    )
    .unwrap();
}

/// The bytes of such a file, with any block alignment (even a wrong one).
fn wav_bytes(tag: u16, channels: u16, rate: u32, bits: u16, align: u16, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(4 + 26 + 12 + 8 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&18u32.to_le_bytes());
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * align as u32).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(b"fact");
    b.extend_from_slice(&4u32.to_le_bytes());
    b.extend_from_slice(&((data.len() / align.max(1) as usize) as u32).to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// Loud for the first half second, quiet for the second.
fn loud_then_quiet(rate: u32) -> Vec<i16> {
    (0..rate)
        .map(|i| {
            let amp = if i < rate / 2 { 0.8 } else { 0.1 };
            let v = amp * (std::f64::consts::TAU * 440.0 * i as f64 / rate as f64).sin();
            (v * 32767.0) as i16
        })
        .collect()
}

/// G.711 µ-law, from 16-bit linear.
fn ulaw(x: i16) -> u8 {
    const SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    let mut v = (x as i32) >> 2;
    let mask = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    v = v.min(8159) + (0x84 >> 2);
    let seg = SEG_END.iter().position(|&end| v <= end).unwrap_or(8) as i32;
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    (((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask) as u8
}

/// G.711 a-law, from 16-bit linear.
fn alaw(x: i16) -> u8 {
    const SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let mut v = (x as i32) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let seg = SEG_END.iter().position(|&end| v <= end).unwrap_or(8) as i32;
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let low = if seg < 2 {
        (v >> 1) & 0xF
    } else {
        (v >> seg) & 0xF
    };
    (((seg << 4) | low) ^ mask) as u8
}

/// The waveform shows a loud first half and a quiet second half.
fn assert_loud_then_quiet(path: &Path) {
    let p = peaks_from_file(path, 64).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(p.buckets(), 64);
    let height = |b: usize| p.maxs[0][b] - p.mins[0][b];
    assert!(
        height(10) > 1.4 && height(10) < 1.7,
        "loud half: {}",
        height(10)
    );
    assert!(
        height(50) > 0.15 && height(50) < 0.25,
        "quiet half: {}",
        height(50)
    );
    assert!((p.duration_s() - 1.0).abs() < 0.01, "{}", p.duration_s());
}

#[test]
fn mu_law_and_a_law_through_the_decoder() {
    let t = tempfile::tempdir().unwrap();
    let pcm = loud_then_quiet(8000);
    let mu = t.path().join("mu.wav");
    wav(
        &mu,
        7,
        1,
        8000,
        8,
        &pcm.iter().map(|&s| ulaw(s)).collect::<Vec<_>>(),
    );
    assert_loud_then_quiet(&mu);
    let a = t.path().join("a.wav");
    wav(
        &a,
        6,
        1,
        8000,
        8,
        &pcm.iter().map(|&s| alaw(s)).collect::<Vec<_>>(),
    );
    assert_loud_then_quiet(&a);
}

#[test]
fn float64_and_16_bit_pcm_on_the_fast_path() {
    let t = tempfile::tempdir().unwrap();
    let pcm = loud_then_quiet(48_000);
    let f64_path = t.path().join("f64.wav");
    let data: Vec<u8> = pcm
        .iter()
        .flat_map(|&s| (s as f64 / 32768.0).to_le_bytes())
        .collect();
    wav(&f64_path, 3, 1, 48_000, 64, &data);
    assert_loud_then_quiet(&f64_path);
    let i16_path = t.path().join("i16.wav");
    let data: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    wav(&i16_path, 1, 1, 48_000, 16, &data);
    assert_loud_then_quiet(&i16_path);
}

#[test]
fn adpcm_is_reported_unsupported_and_garbage_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let adpcm = t.path().join("adpcm.wav");
    wav(&adpcm, 2, 1, 8000, 4, &[0u8; 4096]);
    let err = peaks_from_file(&adpcm, 64).unwrap_err();
    assert!(err.contains("unsupported"), "{err}");
    let junk = t.path().join("junk.wav");
    std::fs::write(&junk, b"RIFF\x10\x00\x00\x00WAVEjunk").unwrap();
    assert!(peaks_from_file(&junk, 64).is_err());
    let missing = peaks_from_file(&t.path().join("gone.wav"), 64).unwrap_err();
    assert!(missing.contains("missing"), "{missing}");
}

#[test]
fn impossible_layouts_are_errors_not_panics() {
    let t = tempfile::tempdir().unwrap();
    let cases: [(&str, u16, u32, u16, u16, &str); 4] = [
        // 8-bit stereo whose block holds one byte: less than a sample per channel.
        ("odd-align.wav", 2, 48_000, 8, 1, "block"),
        ("zero-hz.wav", 1, 0, 16, 2, "0 Hz"),
        ("no-channels.wav", 0, 48_000, 16, 2, "channel"),
        ("zero-align.wav", 1, 48_000, 16, 0, "block"),
    ];
    for (name, channels, rate, bits, align, says) in cases {
        let path = t.path().join(name);
        std::fs::write(
            &path,
            wav_bytes(1, channels, rate, bits, align, &[7u8; 4000]),
        )
        .unwrap();
        let err = peaks_from_file(&path, 64).expect_err(name);
        assert!(err.contains(says), "{name}: {err}");
    }
}
