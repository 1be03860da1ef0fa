//! A take's parameters inside its WAV: a RIFF `LIST`/`INFO` chunk with
//! `INAM` (the name), `ICMT` (the take as JSON), `ISFT` (genhist and its
//! version) and `ICRD` (the take's date), as libsndfile and most audio
//! tools read them.
//!
//! The copy keeps the source byte for byte: every chunk in its order
//! (`fmt ` and `data` unchanged), an `INFO` list of the source replaced by
//! genhist's, inserted before `data`. libsndfile reads an `ICMT` of at most
//! 2045 bytes; when the take's JSON is longer (a long latent vector), `ICMT`
//! holds it without `latent_vector` and a `gnhs` chunk (which other tools
//! skip) holds all of it; [`read`] prefers that one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// The longest `ICMT` text libsndfile reads (longer ones it skips whole).
pub(crate) const MAX_ICMT: usize = 2045;

/// The memory page size the audio's place is aligned to (see [`copy_with_info`]).
const PAGE: u64 = 4096;

/// genhist's own chunk: the take's JSON whole, when `ICMT` could not hold it.
const OWN_CHUNK: &[u8; 4] = b"gnhs";

/// The INFO texts of an exported WAV.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Info {
    /// `INAM`: the take's name.
    pub name: String,
    /// The take as JSON (`ICMT`, or `gnhs` when too long for it).
    pub json: String,
    /// `ICMT` when `json` is too long for it (`json` without the latent vector).
    pub short_json: Option<String>,
    /// `ICRD`: the take's date.
    pub created: String,
}

impl Info {
    /// The INFO texts for a take: `json` (an object) in `ICMT`, or, when
    /// longer than libsndfile reads, the object without `latent_vector`
    /// there and all of it in genhist's own chunk.
    pub(crate) fn new(name: String, json: &serde_json::Value, created: String) -> Info {
        let text = crate::store::pyjson::to_compact(json);
        // Shorter and shorter, until libsndfile reads it: without the
        // latent vector; the parameters alone; the id alone.
        let short_json = (text.len() > MAX_ICMT).then(|| {
            let m = json.as_object().cloned().unwrap_or_default();
            let mut without = m.clone();
            without.remove("latent_vector");
            let keep = |keys: &[&str]| -> serde_json::Value {
                serde_json::Value::Object(
                    m.iter()
                        .filter(|(k, _)| keys.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            };
            [
                serde_json::Value::Object(without),
                keep(&[
                    "entry_id",
                    "model_id",
                    "model_name",
                    "seed",
                    "preset_name",
                    "n_components",
                    "stereo_mode",
                    "slider_positions",
                ]),
                keep(&["entry_id"]),
            ]
            .iter()
            .map(crate::store::pyjson::to_compact)
            .find(|t| t.len() <= MAX_ICMT)
            .unwrap_or_else(|| "{}".into())
        });
        Info {
            name,
            json: text,
            short_json,
            created,
        }
    }

    fn list_chunk(&self) -> Vec<u8> {
        let software = format!("genhist {}", env!("CARGO_PKG_VERSION"));
        let comment = self.short_json.as_deref().unwrap_or(&self.json);
        let mut body = b"INFO".to_vec();
        for (id, text) in [
            (b"INAM", self.name.as_str()),
            (b"ICMT", comment),
            (b"ISFT", software.as_str()),
            (b"ICRD", self.created.as_str()),
        ] {
            // Zero-terminated, padded to an even size.
            let mut bytes = text.replace('\0', " ").into_bytes();
            bytes.push(0);
            push_chunk(&mut body, id, &bytes);
        }
        let mut out = Vec::with_capacity(body.len() + 8);
        push_chunk(&mut out, b"LIST", &body);
        if self.short_json.is_some() {
            push_chunk(&mut out, OWN_CHUNK, self.json.as_bytes());
        }
        out
    }
}

fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
}

fn bad(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

/// A chunk header: its id and the size it says.
fn chunk_header(r: &mut impl Read) -> io::Result<Option<([u8; 4], u32)>> {
    let mut h = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match r.read(&mut h[got..])? {
            0 if got == 0 => return Ok(None),
            // A few stray bytes after the last chunk: the end.
            0 => return Ok(None),
            n => got += n,
        }
    }
    let id = [h[0], h[1], h[2], h[3]];
    Ok(Some((id, u32::from_le_bytes([h[4], h[5], h[6], h[7]]))))
}

/// The source of a copy: small reads served from a window read ahead
/// (a WAV's chunks before its audio come in one read), big ones left to
/// the kernel.
struct Src<'a> {
    f: &'a mut File,
    window: Vec<u8>,
    /// Where the window starts in the file.
    window_at: u64,
    /// The next byte to read.
    pos: u64,
}

/// How much a small read reads ahead.
const WINDOW: usize = 64 << 10;

/// The chunks too big to pass through memory go from file to file.
const SMALL: u64 = 64 << 10;

impl Src<'_> {
    /// Up to `n` bytes from the current place (fewer at the end).
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        use std::os::unix::fs::FileExt;
        let end = self.window_at + self.window.len() as u64;
        if self.pos < self.window_at || self.pos + n as u64 > end {
            self.window.resize(WINDOW.max(n), 0);
            let mut got = 0;
            while got < self.window.len() {
                match self
                    .f
                    .read_at(&mut self.window[got..], self.pos + got as u64)?
                {
                    0 => break,
                    k => got += k,
                }
            }
            self.window.truncate(got);
            self.window_at = self.pos;
        }
        let from = (self.pos - self.window_at) as usize;
        let to = (from + n).min(self.window.len());
        self.pos += (to - from) as u64;
        Ok(&self.window[from..to])
    }

    /// A chunk header: its id and the size it says (`None` at the end,
    /// or a few stray bytes after the last chunk).
    fn header(&mut self) -> io::Result<Option<([u8; 4], u32)>> {
        let h = self.take(8)?;
        if h.len() < 8 {
            return Ok(None);
        }
        let id = [h[0], h[1], h[2], h[3]];
        Ok(Some((id, u32::from_le_bytes([h[4], h[5], h[6], h[7]]))))
    }
}

/// Copies the WAV `src` into `dst` (both at their start) with `info` as its
/// INFO list; returns the bytes written. Everything else is copied as it
/// is, chunk by chunk: an INFO list of the source is replaced, the list
/// goes before `data`. What comes before the audio is written in one go,
/// the audio by the kernel (`copy_file_range`), at the same place within a
/// memory page as in the source (a `JUNK` chunk, which readers skip, pads
/// to it).
pub(crate) fn copy_with_info(src: &mut File, dst: &mut File, info: &Info) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let mut s = Src {
        f: src,
        window: Vec::new(),
        window_at: 0,
        pos: 0,
    };
    let head = s.take(12)?;
    if head.len() < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let mut out = head.to_vec();
    let mut written: u64 = 0;
    let mut info_written = false;
    while let Some((id, size)) = s.header()? {
        let padded = u64::from(size) + u64::from(size % 2);
        let drop = match &id {
            b"LIST" => {
                let t = s.take(4)?;
                let is_info = t == b"INFO";
                s.pos -= t.len() as u64;
                is_info
            }
            id => id == OWN_CHUNK,
        };
        if drop {
            // The source's INFO list keeps what genhist does not write
            // (an artist, a copyright); genhist's own list has the rest.
            if &id == b"LIST" && padded <= SMALL {
                let body = s.take(padded as usize)?.to_vec();
                if let Some(kept) = other_info(&body[..(size as usize).min(body.len())]) {
                    push_chunk(&mut out, b"LIST", &kept);
                }
            } else {
                s.pos += padded;
            }
            continue;
        }
        if &id == b"data" && !info_written {
            out.extend_from_slice(&info.list_chunk());
            info_written = true;
            let at_src = s.pos;
            let at_dst = written + out.len() as u64 + 8 + 8;
            let junk = (at_src as i64 - at_dst as i64).rem_euclid(PAGE as i64) as usize;
            out.extend_from_slice(b"JUNK");
            out.extend_from_slice(&(junk as u32).to_le_bytes());
            out.resize(out.len() + junk, 0);
        }
        out.extend_from_slice(&id);
        out.extend_from_slice(&size.to_le_bytes());
        let to_end = &id == b"data" && (size == 0 || size == u32::MAX);
        if !to_end && padded <= SMALL {
            let body = s.take(padded as usize)?;
            out.extend_from_slice(body);
            continue;
        }
        // A big body (the audio): what is pending first, then file to file
        // (a length the writer never filled in runs to the end; a source
        // that ends first is copied as it is).
        dst.write_all_at(&out, written)?;
        written += out.len() as u64;
        out.clear();
        let want = if to_end { u64::MAX } else { padded };
        let n = copy_range(s.f, s.pos, dst, written, want)?;
        s.pos += n;
        written += n;
        if to_end {
            break;
        }
    }
    if !info_written {
        return Err(bad("the WAV has no data chunk"));
    }
    dst.write_all_at(&out, written)?;
    written += out.len() as u64;
    // The RIFF size: everything after its own 8 bytes.
    let riff = u32::try_from(written - 8).unwrap_or(u32::MAX);
    dst.write_all_at(&riff.to_le_bytes(), 4)?;
    dst.seek(SeekFrom::Start(written))?;
    Ok(written)
}

/// Copies up to `len` bytes from `src` at `from` to `dst` at `to` (fewer
/// when the source ends first): in the kernel where the file systems allow
/// it, else through memory.
fn copy_range(src: &File, from: u64, dst: &File, to: u64, len: u64) -> io::Result<u64> {
    use rustix::io::Errno;
    use std::os::unix::fs::FileExt;
    let (mut off_in, mut off_out, mut done) = (from, to, 0u64);
    while done < len {
        let chunk = (len - done).min(1 << 30) as usize;
        match rustix::fs::copy_file_range(src, Some(&mut off_in), dst, Some(&mut off_out), chunk) {
            Ok(0) => return Ok(done),
            Ok(n) => done += n as u64,
            Err(Errno::INTR) => {}
            // File systems (or kernels) that cannot: through memory.
            Err(Errno::XDEV | Errno::NOSYS | Errno::INVAL | Errno::OPNOTSUPP) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let mut buf = vec![0u8; 1 << 20];
    while done < len {
        let want = ((len - done) as usize).min(buf.len());
        let n = src.read_at(&mut buf[..want], from + done)?;
        if n == 0 {
            break;
        }
        dst.write_all_at(&buf[..n], to + done)?;
        done += n as u64;
    }
    Ok(done)
}

/// An INFO list's body without the items genhist writes (`None`: nothing
/// else was in it).
fn other_info(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = b"INFO".to_vec();
    let mut b = body.get(4..)?;
    while b.len() >= 8 {
        let id: [u8; 4] = b[..4].try_into().ok()?;
        let size = u32::from_le_bytes(b[4..8].try_into().ok()?) as usize;
        let end = (8 + size).min(b.len());
        if !matches!(&id, b"INAM" | b"ICMT" | b"ISFT" | b"ICRD") {
            push_chunk(&mut out, &id, &b[8..end]);
        }
        b = &b[(8 + size + size % 2).min(b.len())..];
    }
    (out.len() > 4).then_some(out)
}

/// How many bytes of audio the WAV `r` (of `len` bytes) holds: its data
/// chunk's size as far as the file has it (`None`: no data chunk).
pub(crate) fn audio_bytes(r: &mut (impl Read + Seek), len: u64) -> Option<u64> {
    r.seek(SeekFrom::Start(12)).ok()?;
    let mut at = 12u64;
    while let Some((id, size)) = chunk_header(r).ok()? {
        at += 8;
        if &id == b"data" {
            let left = len.saturating_sub(at);
            return Some(if size == 0 || size == u32::MAX {
                left
            } else {
                u64::from(size).min(left)
            });
        }
        let padded = u64::from(size) + u64::from(size % 2);
        r.seek(SeekFrom::Current(padded as i64)).ok()?;
        at += padded;
    }
    None
}

/// What an exported WAV says about its take.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Found {
    pub name: Option<String>,
    /// The take's JSON (genhist's chunk when there is one, else `ICMT`).
    pub json: Option<String>,
}

/// Reads the INFO list (and genhist's own chunk) of the WAV `r`; chunks
/// larger than `max` bytes are not read.
pub(crate) fn read(r: &mut (impl Read + Seek), max: u32) -> io::Result<Found> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let mut found = Found::default();
    let mut own = None;
    while let Some((id, size)) = chunk_header(r)? {
        let padded = i64::from(size) + i64::from(size % 2);
        match &id {
            b"LIST" if size <= max && size >= 4 => {
                let mut body = vec![0u8; size as usize];
                r.read_exact(&mut body)?;
                if size % 2 == 1 {
                    r.seek(SeekFrom::Current(1))?;
                }
                if &body[..4] == b"INFO" {
                    read_info(&body[4..], &mut found);
                }
            }
            id if id == OWN_CHUNK && size <= max => {
                let mut body = vec![0u8; size as usize];
                r.read_exact(&mut body)?;
                if size % 2 == 1 {
                    r.seek(SeekFrom::Current(1))?;
                }
                own = String::from_utf8(body).ok();
            }
            b"data" if size == 0 || size == u32::MAX => break,
            _ => {
                r.seek(SeekFrom::Current(padded))?;
            }
        }
    }
    if own.is_some() {
        found.json = own;
    }
    Ok(found)
}

fn read_info(mut b: &[u8], found: &mut Found) {
    while b.len() >= 8 {
        let id = &b[..4];
        let size = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
        let end = (8 + size).min(b.len());
        let text = &b[8..end];
        let text = text.split(|&c| c == 0).next().unwrap_or_default();
        let text = String::from_utf8_lossy(text).into_owned();
        match id {
            b"INAM" => found.name = Some(text),
            b"ICMT" => found.json = Some(text),
            _ => {}
        }
        let next = (8 + size + size % 2).min(b.len());
        b = &b[next..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_with(extra_before: &[u8], extra_after: &[u8], data: &[u8]) -> Vec<u8> {
        let mut chunks = Vec::new();
        push_chunk(
            &mut chunks,
            b"fmt ",
            &[1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0],
        );
        chunks.extend_from_slice(extra_before);
        push_chunk(&mut chunks, b"data", data);
        chunks.extend_from_slice(extra_after);
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(4 + chunks.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(&chunks);
        out
    }

    fn copy(src: &[u8], info: &Info) -> Vec<u8> {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a.wav"), t.path().join("b.wav"));
        std::fs::write(&a, src).unwrap();
        let mut s = File::open(&a).unwrap();
        let mut d = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&b)
            .unwrap();
        copy_with_info(&mut s, &mut d, info).unwrap();
        std::fs::read(&b).unwrap()
    }

    fn info(json: serde_json::Value) -> Info {
        Info::new("a name".into(), &json, "2026-11-20".into())
    }

    #[test]
    fn other_chunks_stay_and_an_old_info_list_is_replaced() {
        let mut old_info = Vec::new();
        push_chunk(&mut old_info, b"LIST", b"INFOINAM\x04\0\0\0old\0");
        let mut cue = Vec::new();
        push_chunk(&mut cue, b"cue ", &[7; 5]);
        let src = wav_with(&old_info, &cue, &[1, 2, 3, 4]);
        let out = copy(&src, &info(serde_json::json!({"entry_id": "x"})));
        let found = read(&mut std::io::Cursor::new(&out), 1 << 20).unwrap();
        assert_eq!(found.name.as_deref(), Some("a name"));
        assert_eq!(found.json.as_deref(), Some("{\"entry_id\": \"x\"}"));
        // The cue chunk (odd size, padded) is still at the end, whole.
        assert!(out.ends_with(b"cue \x05\0\0\0\x07\x07\x07\x07\x07\0"));
        assert!(!out.windows(3).any(|w| w == b"old"));
        let riff = u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize;
        assert_eq!(riff, out.len() - 8);
    }

    #[test]
    fn a_long_json_goes_whole_into_genhists_chunk() {
        let latent: Vec<f64> = (0..400).map(|i| i as f64 / 7.0).collect();
        let json = serde_json::json!({"entry_id": "x", "latent_vector": latent});
        let i = info(json.clone());
        assert!(i.short_json.as_ref().unwrap().len() <= MAX_ICMT);
        let out = copy(&wav_with(&[], &[], &[0; 6]), &i);
        let found = read(&mut std::io::Cursor::new(&out), 1 << 20).unwrap();
        let back: serde_json::Value = serde_json::from_str(&found.json.unwrap()).unwrap();
        assert_eq!(back, json);
    }

    #[test]
    fn a_data_chunk_of_unknown_length_runs_to_the_end() {
        let mut src = wav_with(&[], &[], &[5; 8]);
        let at = src.windows(4).position(|w| w == b"data").unwrap();
        src[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        let out = copy(&src, &info(serde_json::json!({})));
        assert!(out.ends_with(b"data\xff\xff\xff\xff\x05\x05\x05\x05\x05\x05\x05\x05"));
    }
}
