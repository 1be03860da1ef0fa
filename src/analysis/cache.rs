//! The analysis cache: `DIR/.genhist/analysis.bin`, one record per take
//! measured, keyed by the take's id and its WAV's identity (size,
//! modification time, inode): a take whose file did not change is never
//! measured again. Each record holds the measures and the waveform peaks
//! the browser draws (512 buckets per channel, a signed level in 0.75 dB
//! steps), so once a take is analysed no WAV is read to draw a screen.
//!
//! The file is a header (`GHAN`, version) and records appended under an
//! `flock` (`[length][checksum][payload]`); a newer record of a take
//! replaces the older. Reading stops at the first record that does not
//! check out (a torn append): what comes before is kept. A file with
//! another header (older version, another program's, garbage) is started
//! anew on the next write; nothing about it is ever an error. When more
//! than half the records are stale, the next write compacts the file
//! (a temp file renamed over it).

use super::Measures;
use crate::peaks::Peaks;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

const FILE: &str = "analysis.bin";
const MAGIC: &[u8; 4] = b"GHAN";
const VERSION: u32 = 1;
const HEADER: u64 = 8;

/// Peak buckets per channel kept for each take.
pub const BUCKETS: usize = 512;

/// The largest record read (a take with many channels); larger is corrupt.
const MAX_RECORD: u32 = 4 << 20;

/// A WAV's identity: when any of these changes, the take is measured again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
}

impl Key {
    pub fn of(m: &std::fs::Metadata) -> Key {
        Key {
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            inode: m.ino(),
        }
    }

    pub(crate) fn of_stat(st: &crate::fsutil::Stat) -> Key {
        Key {
            size: st.st_size as u64,
            mtime_ns: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec as i64,
            inode: st.st_ino,
        }
    }
}

/// What the cache knows of a take.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Key,
    measures: Measures,
    /// Where its peaks are in the file, and how long they are.
    peaks_at: u64,
    peaks_len: u32,
}

/// The cache of one history directory.
#[derive(Debug, Default)]
pub struct Cache {
    path: PathBuf,
    /// The file as read (its records' peaks are read from it).
    file: Option<File>,
    entries: HashMap<String, Entry>,
    /// Records in the file (stale ones included).
    records: usize,
}

impl Cache {
    /// Reads the cache of the history in `dir` (empty when there is none or
    /// it cannot be read).
    pub fn open(dir: &Path) -> Cache {
        let path = dir.join(crate::store::GENHIST_DIR).join(FILE);
        let mut c = Cache {
            path,
            file: None,
            entries: HashMap::new(),
            records: 0,
        };
        if let Err(e) = c.load() {
            tracing::info!("analysis cache {}: {e}; measuring again", c.path.display());
            c.entries.clear();
            c.records = 0;
        }
        c
    }

    fn load(&mut self) -> io::Result<()> {
        let f = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if !f.metadata()?.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let mut r = BufReader::with_capacity(1 << 20, f.try_clone()?);
        let mut head = [0u8; HEADER as usize];
        r.read_exact(&mut head)?;
        if &head[..4] != MAGIC
            || u32::from_le_bytes([head[4], head[5], head[6], head[7]]) != VERSION
        {
            return Err(io::Error::other("another version or not a cache"));
        }
        let mut at = HEADER;
        let mut payload = Vec::new();
        loop {
            let mut h = [0u8; 8];
            if r.read_exact(&mut h).is_err() {
                break;
            }
            let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
            let sum = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            if len > MAX_RECORD {
                break;
            }
            payload.resize(len as usize, 0);
            if r.read_exact(&mut payload).is_err() || checksum(&payload) != sum {
                // A torn append: what came before stands.
                break;
            }
            if let Some((id, mut e)) = decode(&payload) {
                e.peaks_at += at + 8;
                self.entries.insert(id, e);
                self.records += 1;
            }
            at += 8 + u64::from(len);
        }
        self.file = Some(f);
        Ok(())
    }

    /// The measures of take `id` when its WAV still has identity `key`.
    pub fn measures(&self, id: &str, key: Key) -> Option<Measures> {
        self.entries
            .get(id)
            .filter(|e| e.key == key)
            .map(|e| e.measures)
    }

    /// The waveform peaks of take `id` when its WAV still has identity `key`.
    pub fn peaks(&self, id: &str, key: Key) -> Option<Peaks> {
        let e = self.entries.get(id).filter(|e| e.key == key)?;
        let mut buf = vec![0u8; e.peaks_len as usize];
        self.file
            .as_ref()?
            .read_exact_at(&mut buf, e.peaks_at)
            .ok()?;
        decode_peaks(&buf)
    }

    /// How many takes it knows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds (or replaces) take `id`'s record: appended to the file under its
    /// lock, the file started anew when it is not a cache of this version,
    /// compacted first when most of it is stale.
    pub fn put(&mut self, id: &str, key: Key, m: &Measures, peaks: &Peaks) -> io::Result<()> {
        let payload = encode(id, key, m, peaks);
        let mut record = Vec::with_capacity(payload.len() + 8);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&checksum(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&self.path)?;
        if !f.metadata()?.is_file() {
            return Err(io::Error::other(format!(
                "{} is not a regular file; the analysis is not kept",
                self.path.display()
            )));
        }
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
        let mut header = [0u8; HEADER as usize];
        let valid = f.read_exact_at(&mut header, 0).is_ok()
            && &header[..4] == MAGIC
            && u32::from_le_bytes([header[4], header[5], header[6], header[7]]) == VERSION;
        let f = if !valid {
            // Not ours (or empty): a new file, then the records again.
            self.rewrite(&[])?
        } else if self.records > 64 && self.records > 2 * self.entries.len() {
            self.rewrite(&[])?
        } else {
            f
        };
        let at = f.metadata()?.len();
        let wrote = (&f).write_all(&record);
        // The handle stays open for reading peaks; the lock goes.
        let _ = rustix::fs::flock(&f, rustix::fs::FlockOperation::Unlock);
        wrote?;
        let mut e = decode(&payload).expect("just encoded").1;
        e.peaks_at += at + 8;
        self.entries.insert(id.to_string(), e);
        self.records += 1;
        self.file = Some(f);
        Ok(())
    }

    /// Writes the file anew with the records it knows (and `extra`), into
    /// a temp file renamed over it; returns it open for appending.
    fn rewrite(&mut self, extra: &[u8]) -> io::Result<File> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let d = crate::fsutil::Dir::open(dir)?;
        let mut tmp = crate::fsutil::TempFile::create(&d, FILE, None)?;
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let mut fresh = HashMap::new();
        let old: Vec<(String, Entry)> = self.entries.drain().collect();
        for (id, e) in old {
            let Some(peaks) = self.read_peaks(&e) else {
                continue;
            };
            let payload = encode(&id, e.key, &e.measures, &peaks);
            let at = out.len() as u64;
            out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            out.extend_from_slice(&checksum(&payload).to_le_bytes());
            out.extend_from_slice(&payload);
            let mut ne = decode(&payload).expect("just encoded").1;
            ne.peaks_at += at + 8;
            fresh.insert(id, ne);
        }
        out.extend_from_slice(extra);
        tmp.file().write_all(&out)?;
        tmp.commit(FILE)?;
        self.records = fresh.len();
        self.entries = fresh;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.path)?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(f)
    }

    fn read_peaks(&self, e: &Entry) -> Option<Peaks> {
        let mut buf = vec![0u8; e.peaks_len as usize];
        self.file
            .as_ref()?
            .read_exact_at(&mut buf, e.peaks_at)
            .ok()?;
        decode_peaks(&buf)
    }
}

use std::os::unix::fs::OpenOptionsExt;

/// A cache shared by threads (the analysis worker fills it, the peaks
/// worker reads it): loaded once, off the thread that starts it; readers
/// wait for the load.
#[derive(Debug, Default)]
pub struct Shared {
    cache: std::sync::Mutex<Option<Cache>>,
    loaded: std::sync::Condvar,
}

impl Shared {
    /// Loads the cache of `dir` (once).
    pub fn load(&self, dir: &Path) {
        let c = Cache::open(dir);
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
        self.loaded.notify_all();
    }

    /// The cache, once loaded (waits for the load, at most `patience`;
    /// holds `None` when it is not loaded by then).
    pub fn get(&self, patience: std::time::Duration) -> std::sync::MutexGuard<'_, Option<Cache>> {
        let guard = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        self.loaded
            .wait_timeout_while(guard, patience, |c| c.is_none())
            .unwrap_or_else(|p| p.into_inner())
            .0
    }
}

/// FNV-1a, 32 bits: enough to tell a torn or garbled record.
fn checksum(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &x in b {
        h ^= u32::from(x);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn opt(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

fn back(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

fn encode(id: &str, key: Key, m: &Measures, p: &Peaks) -> Vec<u8> {
    let mut b = Vec::with_capacity(128 + id.len() + p.channels as usize * BUCKETS * 2);
    let id = &id.as_bytes()[..id.len().min(u16::MAX as usize)];
    b.extend_from_slice(&(id.len() as u16).to_le_bytes());
    b.extend_from_slice(id);
    b.extend_from_slice(&key.size.to_le_bytes());
    b.extend_from_slice(&key.mtime_ns.to_le_bytes());
    b.extend_from_slice(&key.inode.to_le_bytes());
    for x in [
        opt(m.lufs),
        opt(m.lra),
        opt(m.peak),
        opt(m.true_peak),
        opt(m.dc),
        m.silence_head,
        m.silence_tail,
        opt(m.centroid),
        m.duration_s,
    ] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.extend_from_slice(&m.clipped.to_le_bytes());
    // The peaks, last (read only when drawn).
    b.extend_from_slice(&p.channels.to_le_bytes());
    b.extend_from_slice(&p.sample_rate.to_le_bytes());
    b.extend_from_slice(&p.frames.to_le_bytes());
    b.extend_from_slice(&p.rms.to_le_bytes());
    let n = p.buckets().min(u16::MAX as usize);
    b.extend_from_slice(&(n as u16).to_le_bytes());
    for c in 0..p.mins.len() {
        for i in 0..n {
            b.push(level(p.mins[c][i]) as u8);
            b.push(level(p.maxs[c][i]) as u8);
        }
    }
    b
}

/// Where the peaks start in a payload of an id of `id_len` bytes.
fn peaks_offset(id_len: usize) -> usize {
    2 + id_len + 24 + 9 * 8 + 8
}

fn decode(b: &[u8]) -> Option<(String, Entry)> {
    let mut r = Reader { b, at: 0 };
    let n = r.u16()? as usize;
    let id = String::from_utf8(r.bytes(n)?.to_vec()).ok()?;
    let key = Key {
        size: r.u64()?,
        mtime_ns: r.u64()? as i64,
        inode: r.u64()?,
    };
    let mut f = [0f64; 9];
    for x in &mut f {
        *x = f64::from_bits(r.u64()?);
    }
    let clipped = r.u64()?;
    let measures = Measures {
        lufs: back(f[0]),
        lra: back(f[1]),
        peak: back(f[2]),
        true_peak: back(f[3]),
        dc: back(f[4]),
        silence_head: f[5],
        silence_tail: f[6],
        centroid: back(f[7]),
        duration_s: f[8],
        clipped,
    };
    let at = peaks_offset(n);
    debug_assert_eq!(at, r.at);
    let peaks_len = (b.len() - at) as u32;
    decode_peaks(&b[at..])?;
    Some((
        id,
        Entry {
            key,
            measures,
            peaks_at: at as u64,
            peaks_len,
        },
    ))
}

fn decode_peaks(b: &[u8]) -> Option<Peaks> {
    let mut r = Reader { b, at: 0 };
    let channels = r.u16()?;
    let sample_rate = r.u32()?;
    let frames = r.u64()?;
    let rms = f32::from_bits(r.u32()?);
    let n = r.u16()? as usize;
    let mut mins = vec![Vec::with_capacity(n); channels.max(1) as usize];
    let mut maxs = vec![Vec::with_capacity(n); channels.max(1) as usize];
    for c in 0..channels.max(1) as usize {
        for _ in 0..n {
            let lo = r.bytes(2)?;
            mins[c].push(amplitude(lo[0] as i8));
            maxs[c].push(amplitude(lo[1] as i8));
        }
    }
    Some(Peaks {
        channels,
        sample_rate,
        frames,
        mins,
        maxs,
        rms,
    })
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8")))
    }
}

/// Decibels one step of a stored level is.
const STEP_DB: f32 = 0.75;

/// A sample value as a signed level: 0 is silence (below -95 dBFS), ±127
/// full scale, each step 0.75 dB.
fn level(v: f32) -> i8 {
    let a = v.abs().min(1.0);
    if a < 1e-5 {
        return 0;
    }
    let steps = (127.0 + 20.0 * a.log10() / STEP_DB)
        .round()
        .clamp(1.0, 127.0) as i8;
    if v < 0.0 {
        -steps
    } else {
        steps
    }
}

fn amplitude(l: i8) -> f32 {
    if l == 0 {
        return 0.0;
    }
    let a = 10f32.powf((f32::from(l.unsigned_abs()) - 127.0) * STEP_DB / 20.0);
    if l < 0 {
        -a
    } else {
        a
    }
}

/// The identity of a take's WAV (`audio_file`) as it is now (`None`:
/// missing, or a path genhist does not follow).
pub fn key_of(root: &crate::fsutil::Dir, audio_file: &str) -> Option<Key> {
    let p = crate::store::paths::RelPath::parse(audio_file).ok()?;
    match crate::store::paths::locate(root, &p) {
        crate::store::paths::Located::Present { parent, name, .. } => parent
            .stat(&name)
            .ok()
            .flatten()
            .map(|st| Key::of_stat(&st)),
        _ => None,
    }
}

/// The measures the cache of the history in `dir` holds for `entries`
/// whose WAVs did not change since.
pub fn measured(dir: &Path, entries: &[crate::store::HistoryEntry]) -> super::Measured {
    let c = Cache::open(dir);
    let Ok(root) = crate::fsutil::Dir::open(dir) else {
        return super::Measured::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let key = key_of(&root, &e.audio_file())?;
            Some((&e.entry_id, c.measures(&e.entry_id, key)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peaks() -> Peaks {
        let n = BUCKETS;
        Peaks {
            channels: 2,
            sample_rate: 48000,
            frames: 96000,
            mins: vec![(0..n).map(|i| -(i as f32) / n as f32).collect(); 2],
            maxs: vec![(0..n).map(|i| i as f32 / n as f32).collect(); 2],
            rms: 0.25,
        }
    }

    fn measures() -> Measures {
        Measures {
            lufs: Some(-23.0),
            lra: None,
            peak: Some(-3.0),
            true_peak: Some(-2.5),
            clipped: 7,
            dc: None,
            silence_head: 0.5,
            silence_tail: 0.0,
            centroid: Some(1234.5),
            duration_s: 2.0,
        }
    }

    #[test]
    fn levels_keep_three_quarters_of_a_decibel() {
        for v in [1.0f32, 0.5, 0.1, 0.01, 0.001, -0.3, -1.0] {
            let back = amplitude(level(v));
            let err = 20.0 * (back / v).abs().log10();
            assert!(err.abs() <= STEP_DB / 2.0 + 1e-3, "{v}: {back}");
            assert_eq!(back.signum(), v.signum());
        }
        assert_eq!(amplitude(level(0.0)), 0.0);
    }

    #[test]
    fn records_survive_a_reopen_a_torn_tail_and_a_foreign_file() {
        let t = tempfile::tempdir().unwrap();
        let key = Key {
            size: 10,
            mtime_ns: 20,
            inode: 30,
        };
        let mut c = Cache::open(t.path());
        c.put("a", key, &measures(), &peaks()).unwrap();
        c.put("b", key, &measures(), &peaks()).unwrap();
        let c = Cache::open(t.path());
        assert_eq!(c.measures("a", key), Some(measures()));
        assert_eq!(c.measures("a", Key { size: 11, ..key }), None);
        let p = c.peaks("b", key).unwrap();
        assert_eq!(p.buckets(), BUCKETS);
        assert!((p.maxs[1][256] - 0.5).abs() < 0.05);
        // A torn last record: the first stands.
        let path = t.path().join(".genhist").join(FILE);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 10).unwrap();
        let c = Cache::open(t.path());
        assert!(c.measures("a", key).is_some() && c.measures("b", key).is_none());
        // Garbage: an empty cache, and the next write starts it anew.
        std::fs::write(&path, b"not a cache at all").unwrap();
        let mut c = Cache::open(t.path());
        assert!(c.is_empty());
        c.put("c", key, &measures(), &peaks()).unwrap();
        assert_eq!(Cache::open(t.path()).measures("c", key), Some(measures()));
    }

    #[test]
    fn stale_records_are_compacted_away() {
        let t = tempfile::tempdir().unwrap();
        let mut c = Cache::open(t.path());
        for i in 0..300u64 {
            let key = Key {
                size: i,
                mtime_ns: 0,
                inode: 0,
            };
            c.put("same", key, &measures(), &peaks()).unwrap();
        }
        let path = t.path().join(".genhist").join(FILE);
        assert!(std::fs::metadata(&path).unwrap().len() < 100 * 2200);
        let c = Cache::open(t.path());
        assert_eq!(c.len(), 1);
        assert!(c
            .measures(
                "same",
                Key {
                    size: 299,
                    mtime_ns: 0,
                    inode: 0
                }
            )
            .is_some());
    }
}
