//! The sidecar: `.genhist/index.bin`, where each take of `history.json` is,
//! newest first, so the first screen and `list --limit N` read a few rows
//! and a few entries instead of the whole index.
//!
//! It is a cache, never a source of truth. It is used only when all of this
//! holds for the index file as it is now, opened once and read through that
//! one descriptor:
//! - its identity is the recorded one: device, inode, size, mtime and ctime
//!   (nanoseconds). Every write, rename, truncate or `touch` moves the ctime,
//!   which no program can set back, so a backup restored with the same size
//!   and mtime is still noticed;
//! - 34 blocks of 4 KiB spread over the file hash as recorded;
//! - when the sidecar was written less than two seconds after the index last
//!   changed (a change inside the same clock tick would leave the times as
//!   they were), the whole file hashes as recorded ("racy", as git calls it);
//!   a match is then written down so the next open need not hash again;
//! - the header (format, the identity, the hashes, the count) passes its own
//!   checksum;
//! - every row read leads to `"KEY": {...}` in the index whose key hashes to
//!   the row's id hash;
//! - the identity is still the same after the rows' entries were read.
//!
//! Anything else (missing, another format, corrupt, another file, a killed
//! write) is no sidecar: the caller reads the index whole, as without one,
//! and a full read writes a new one when the old one did not match. A
//! sidecar that cannot be written (read-only directory, full disk) is left
//! out, never an error.
//!
//! Layout (little-endian): a 112-byte header (magic, format, identity,
//! build time, sample hash, content hash, entry count, version length,
//! rows hash, checksum), the top-level `version` member as JSON, then one 32-byte row
//! per entry in the order a full load lists them (newest first; ties by
//! timestamp text, then id): key start, value start, key length (top bit:
//! the key has escapes), value length (top bit: the entry holds NaN or an
//! infinity), id hash.

use super::known::id_hash;
use super::paths::GENHIST_DIR;
use super::scan::{EntrySpan, Str};
use super::time::parse_timestamp_us;
use serde_json::Value;
use std::cmp::Ordering;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

pub const SIDECAR_FILE: &str = "index.bin";
const MAGIC: [u8; 8] = *b"GNHSIDX\0";
const FORMAT: u32 = 1;
pub(super) const HEADER: usize = 112;
pub(super) const ROW: usize = 32;
/// A sidecar written less than this after the index changed is checked
/// against the whole file.
pub(super) const RACY_NS: i64 = 2_000_000_000;
const SAMPLE_BLOCK: u64 = 4096;
const SAMPLE_BLOCKS: u64 = 32;
pub(super) const TOP_BIT: u32 = 1 << 31;
/// Longest `version` member kept (anything longer: no sidecar).
const MAX_VERSION: usize = 4096;

/// `DIR/.genhist/index.bin`.
pub fn path_of(dir: &Path) -> PathBuf {
    dir.join(GENHIST_DIR).join(SIDECAR_FILE)
}

/// The index file's identity: any write, rename, truncate or time change
/// moves at least the ctime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ident {
    dev: u64,
    ino: u64,
    pub(super) size: u64,
    mtime_ns: i64,
    pub(super) ctime_ns: i64,
}

impl Ident {
    pub(crate) fn of(m: &Metadata) -> Ident {
        Ident {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime().saturating_mul(1_000_000_000) + m.mtime_nsec(),
            ctime_ns: m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
        }
    }
}

/// A fast word hash for noticing accidental change (not an adversary):
/// four independent lanes over 32-byte blocks, so the multiplies overlap.
#[derive(Clone)]
struct Hasher {
    lanes: [u64; 4],
    pending: [u8; 32],
    n: usize,
    len: u64,
}

const MIX: u64 = 0x51_7c_c1_b7_27_22_0a_95;

fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(MIX)
}

impl Hasher {
    fn new() -> Hasher {
        Hasher {
            lanes: [
                0x243f_6a88_85a3_08d3,
                0x1319_8a2e_0370_7344,
                0xa409_3822_299f_31d0,
                0x082e_fa98_ec4e_6c89,
            ],
            pending: [0; 32],
            n: 0,
            len: 0,
        }
    }

    fn block(&mut self, b: &[u8]) {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            *lane = mix(*lane, w);
        }
    }

    fn feed(&mut self, mut b: &[u8]) {
        self.len += b.len() as u64;
        if self.n > 0 {
            let take = (32 - self.n).min(b.len());
            self.pending[self.n..self.n + take].copy_from_slice(&b[..take]);
            self.n += take;
            b = &b[take..];
            if self.n < 32 {
                return;
            }
            let p = self.pending;
            self.block(&p);
            self.n = 0;
        }
        let mut chunks = b.chunks_exact(32);
        for c in &mut chunks {
            self.block(c);
        }
        let rest = chunks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.n = rest.len();
    }

    fn finish(mut self) -> u64 {
        if self.n > 0 {
            let mut last = [0u8; 32];
            last[..self.n].copy_from_slice(&self.pending[..self.n]);
            self.block(&last);
        }
        let mut h = self.lanes[0];
        for l in &self.lanes[1..] {
            h = mix(h, *l);
        }
        h = mix(h, self.len);
        h ^ (h >> 29)
    }
}

/// Where the sample blocks of a file of `size` bytes start.
fn sample_offsets(size: u64) -> Vec<u64> {
    // A small file is sampled whole.
    if size <= SAMPLE_BLOCK * (SAMPLE_BLOCKS + 2) {
        return (0..size.div_ceil(SAMPLE_BLOCK))
            .map(|i| i * SAMPLE_BLOCK)
            .collect();
    }
    let mut v = vec![0, size - SAMPLE_BLOCK];
    let step = (size - SAMPLE_BLOCK) / (SAMPLE_BLOCKS + 1);
    v.extend((1..=SAMPLE_BLOCKS).map(|i| i * step));
    v
}

/// The sample hash of bytes in memory.
fn sample_of(bytes: &[u8]) -> u64 {
    let size = bytes.len() as u64;
    let mut h = Hasher::new();
    for off in sample_offsets(size) {
        let end = (off + SAMPLE_BLOCK).min(size);
        h.feed(&bytes[off as usize..end as usize]);
    }
    h.finish()
}

/// The content hash of bytes met in order (a streamed read).
#[derive(Clone)]
pub(crate) struct ContentHash(Hasher);

impl ContentHash {
    pub(crate) fn new() -> ContentHash {
        ContentHash(Hasher::new())
    }

    pub(crate) fn feed(&mut self, b: &[u8]) {
        self.0.feed(b);
    }

    pub(crate) fn len(&self) -> u64 {
        self.0.len
    }

    pub(crate) fn finish(self) -> u64 {
        self.0.finish()
    }
}

/// The sample hash of an open file of `size` bytes.
pub(super) fn sample_of_file(f: &File, size: u64) -> io::Result<u64> {
    let mut h = Hasher::new();
    let mut buf = vec![0u8; SAMPLE_BLOCK as usize];
    for off in sample_offsets(size) {
        let n = (SAMPLE_BLOCK.min(size - off)) as usize;
        f.read_exact_at(&mut buf[..n], off)?;
        h.feed(&buf[..n]);
    }
    Ok(h.finish())
}

fn content_of(bytes: &[u8]) -> u64 {
    let mut h = Hasher::new();
    h.feed(bytes);
    h.finish()
}

pub(super) fn content_of_file(f: &File, size: u64) -> io::Result<u64> {
    content_of_range(f, 0, size)
}

/// The hash of `len` bytes of `f` from `from` (as [`content_of`] of them).
fn content_of_range(f: &File, from: u64, len: u64) -> io::Result<u64> {
    let mut h = Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < len {
        let n = ((len - off) as usize).min(buf.len());
        f.read_exact_at(&mut buf[..n], from + off)?;
        h.feed(&buf[..n]);
        off += n as u64;
    }
    Ok(h.finish())
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// The fixed part of a sidecar.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Header {
    pub(super) ident: Ident,
    pub(super) built_ns: i64,
    pub(super) sample: u64,
    pub(super) content: u64,
    pub(super) count: u64,
    /// The `version` member's JSON text (`None`: the index has none).
    pub(super) version: Option<Vec<u8>>,
    /// The hash of all the rows (checked by full reads, which can afford
    /// it; the few rows a list reads are checked against the index itself).
    pub(super) rows: u64,
}

impl Header {
    pub(super) fn fixed(&self) -> [u8; HEADER] {
        let mut b = [0u8; HEADER];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&FORMAT.to_le_bytes());
        let i = &self.ident;
        b[16..24].copy_from_slice(&i.dev.to_le_bytes());
        b[24..32].copy_from_slice(&i.ino.to_le_bytes());
        b[32..40].copy_from_slice(&i.size.to_le_bytes());
        b[40..48].copy_from_slice(&i.mtime_ns.to_le_bytes());
        b[48..56].copy_from_slice(&i.ctime_ns.to_le_bytes());
        b[56..64].copy_from_slice(&self.built_ns.to_le_bytes());
        b[64..72].copy_from_slice(&self.sample.to_le_bytes());
        b[72..80].copy_from_slice(&self.content.to_le_bytes());
        b[80..88].copy_from_slice(&self.count.to_le_bytes());
        let vlen = self.version.as_ref().map_or(u32::MAX, |v| v.len() as u32);
        b[88..92].copy_from_slice(&vlen.to_le_bytes());
        b[96..104].copy_from_slice(&self.rows.to_le_bytes());
        let check = Header::check(&b[..104], self.version.as_deref().unwrap_or_default());
        b[104..112].copy_from_slice(&check.to_le_bytes());
        b
    }

    fn check(fixed: &[u8], version: &[u8]) -> u64 {
        let mut h = Hasher::new();
        h.feed(fixed);
        h.feed(version);
        h.finish()
    }

    pub(super) fn rows_at(&self) -> u64 {
        (HEADER + self.version.as_ref().map_or(0, Vec::len)) as u64
    }

    /// Whether the rows hash as the header says (every row read once).
    pub(super) fn rows_ok(&self, f: &File) -> bool {
        content_of_range(f, self.rows_at(), self.count * ROW as u64).ok() == Some(self.rows)
    }

    /// The length of a whole sidecar with this header.
    fn file_len(&self) -> Option<u64> {
        self.count
            .checked_mul(ROW as u64)?
            .checked_add(self.rows_at())
    }

    /// Reads and checks the header of an open sidecar.
    fn read(f: &File) -> Option<Header> {
        let mut b = [0u8; HEADER];
        f.read_exact_at(&mut b, 0).ok()?;
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let i64_at = |i: usize| i64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if b[0..8] != MAGIC || b[8..12] != FORMAT.to_le_bytes() {
            return None;
        }
        let vlen = u32::from_le_bytes(b[88..92].try_into().expect("4 bytes"));
        let version = match vlen {
            u32::MAX => None,
            n if n as usize <= MAX_VERSION => {
                let mut v = vec![0u8; n as usize];
                f.read_exact_at(&mut v, HEADER as u64).ok()?;
                Some(v)
            }
            _ => return None,
        };
        if Header::check(&b[..104], version.as_deref().unwrap_or_default()) != u64_at(104) {
            return None;
        }
        // An entry takes at least `"":{}` and a comma: more rows than that
        // allows is no sidecar (and never a terabyte to hash).
        if u64_at(80).saturating_mul(6) > u64_at(32) {
            return None;
        }
        Some(Header {
            ident: Ident {
                dev: u64_at(16),
                ino: u64_at(24),
                size: u64_at(32),
                mtime_ns: i64_at(40),
                ctime_ns: i64_at(48),
            },
            built_ns: i64_at(56),
            sample: u64_at(64),
            content: u64_at(72),
            count: u64_at(80),
            version,
            rows: u64_at(96),
        })
    }

    pub(super) fn racy(&self) -> bool {
        self.built_ns < self.ident.ctime_ns.saturating_add(RACY_NS)
    }
}

/// Opens the sidecar of `dir` (a regular file only) with its checked header.
pub(super) fn open_sidecar(dir: &Path) -> Option<(File, Header)> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path_of(dir))
        .ok()?;
    let m = f.metadata().ok()?;
    if !m.is_file() {
        return None;
    }
    let h = Header::read(&f)?;
    // Torn or with something after it: not a sidecar.
    (h.file_len() == Some(m.len())).then_some((f, h))
}

/// [`matches_hashes`] of bytes in memory.
#[cfg(test)]
fn matches(dir: &Path, ident: &Ident, bytes: &[u8]) -> bool {
    let (sample, content) = hashes(bytes);
    matches_hashes(dir, ident, sample, content)
}

/// Whether the sidecar of `dir` describes exactly the index as read, with
/// identity `ident` and these [`hashes`] (no byte of the index is read again).
pub(crate) fn matches_hashes(dir: &Path, ident: &Ident, sample: u64, content: u64) -> bool {
    let Some((f, h)) = open_sidecar(dir) else {
        return false;
    };
    // A full read has every byte: it compares them all, so it also replaces
    // a sidecar that a change the file's times did not show (a filesystem
    // without a real ctime, a write through a shared mmap) left behind.
    h.ident == *ident && h.sample == sample && h.content == content && h.rows_ok(&f)
}

/// Whether the sidecar of `dir` is the one of an index with identity
/// `ident` and sample hash `sample` (its whole-file hash not compared).
pub(crate) fn may_match(dir: &Path, ident: &Ident, sample: u64) -> bool {
    open_sidecar(dir).is_some_and(|(_, h)| h.ident == *ident && h.sample == sample)
}

/// Removes the sidecar of `dir` (found not to describe the index).
pub(crate) fn forget(dir: &Path) {
    put(dir, None);
}

/// One part of the index text in memory: its bytes, where they start in the
/// file, and the entries scanned in them (spans relative to the bytes).
pub(crate) struct Part<'a> {
    pub bytes: &'a [u8],
    pub base: usize,
    pub entries: &'a [EntrySpan],
}

/// What a full read knows, for writing a sidecar.
pub(crate) struct Source<'a> {
    pub ident: Ident,
    /// The whole file's sample and content hashes.
    pub sample: u64,
    pub content: u64,
    pub version: Option<&'a Value>,
    pub parts: Vec<Part<'a>>,
}

/// The sample and whole-file hashes of the index in memory, for [`Source`].
pub(crate) fn hashes(bytes: &[u8]) -> (u64, u64) {
    (sample_of(bytes), content_of(bytes))
}

/// Orders entries as a full load lists them: newest first, then by
/// timestamp text (greater first), then by id.
pub(crate) fn order(a: (&[u8], &EntrySpan, i64), b: (&[u8], &EntrySpan, i64)) -> Ordering {
    b.2.cmp(&a.2)
        .then_with(|| match (b.1.timestamp.as_ref(), a.1.timestamp.as_ref()) {
            (Some(x), Some(y)) => text_cmp((b.0, x), (a.0, y)),
            (x, y) => x.is_some().cmp(&y.is_some()),
        })
        .then_with(|| text_cmp((a.0, &a.1.key), (b.0, &b.1.key)))
}

/// Two scanned strings compared as their text (the index is valid UTF-8,
/// whose byte order is its text order): no allocation unless escaped.
fn text_cmp(a: (&[u8], &Str), b: (&[u8], &Str)) -> Ordering {
    if a.1.escaped || b.1.escaped {
        a.1.get_at(a.0).cmp(&b.1.get_at(b.0))
    } else {
        a.0[a.1.span.clone()].cmp(&b.0[b.1.span.clone()])
    }
}

/// The time an entry is ordered by (as [`super::lite::IndexText::newest`]).
pub(crate) fn order_time(bytes: &[u8], e: &EntrySpan) -> i64 {
    e.time_us
        .or_else(|| {
            let ts = e.timestamp.as_ref()?;
            parse_timestamp_us(&ts.get_at(bytes))
        })
        .unwrap_or(i64::MIN)
}

/// The `version` member as the header keeps it; `None` when it cannot be
/// kept whole (then there is no sidecar).
fn version_text(version: Option<&Value>) -> Option<Option<Vec<u8>>> {
    match version {
        None => Some(None),
        Some(v) => Some(Some(
            serde_json::to_vec(v)
                .ok()
                .filter(|t| t.len() <= MAX_VERSION)?,
        )),
    }
}

/// The row of an entry whose key (`key`, its span relative to `key_base`)
/// and value (`value_len` bytes from `value_at`) are at these offsets of
/// the file; `None` for an entry over 2 GiB.
pub(crate) fn row(
    key_base: u64,
    key: &Str,
    value_at: u64,
    value_len: usize,
    nonfinite: bool,
    id: u64,
) -> Option<[u8; ROW]> {
    let key_len = u32::try_from(key.span.len())
        .ok()
        .filter(|n| n & TOP_BIT == 0)?;
    let value_len = u32::try_from(value_len).ok().filter(|n| n & TOP_BIT == 0)?;
    let mut row = [0u8; ROW];
    row[0..8].copy_from_slice(&(key_base + key.span.start as u64).to_le_bytes());
    row[8..16].copy_from_slice(&value_at.to_le_bytes());
    let k = key_len | if key.escaped { TOP_BIT } else { 0 };
    row[16..20].copy_from_slice(&k.to_le_bytes());
    let v = value_len | if nonfinite { TOP_BIT } else { 0 };
    row[20..24].copy_from_slice(&v.to_le_bytes());
    row[24..32].copy_from_slice(&id.to_le_bytes());
    Some(row)
}

/// A whole sidecar of rows already in order.
fn assemble<'a>(
    ident: Ident,
    sample: u64,
    content: u64,
    version: Option<Vec<u8>>,
    rows: impl ExactSizeIterator<Item = &'a [u8; ROW]>,
) -> Vec<u8> {
    let mut header = Header {
        ident,
        built_ns: now_ns(),
        sample,
        content,
        count: rows.len() as u64,
        version,
        rows: 0,
    };
    let mut out = Vec::with_capacity(HEADER + rows.len() * ROW + MAX_VERSION);
    out.extend_from_slice(&header.fixed());
    out.extend_from_slice(header.version.as_deref().unwrap_or_default());
    let rows_at = out.len();
    for r in rows {
        out.extend_from_slice(r);
    }
    header.rows = content_of(&out[rows_at..]);
    out[..HEADER].copy_from_slice(&header.fixed());
    out
}

/// Whether no two ids hash alike.
fn unique(mut ids: Vec<u64>) -> bool {
    ids.sort_unstable();
    !ids.windows(2).any(|w| w[0] == w[1])
}

/// Builds the sidecar's bytes; `None` when the index cannot have one
/// (duplicate ids, an entry over 2 GiB, an odd `version`).
fn encode(src: &Source) -> Option<Vec<u8>> {
    let version = version_text(src.version)?;
    // Each row made in file order (the text and the spans are read front
    // to back), then the rows sorted; only equal times look at the text.
    struct Rec {
        time: i64,
        part: u32,
        at: u32,
        row: [u8; ROW],
    }
    let mut recs: Vec<Rec> = Vec::with_capacity(src.parts.iter().map(|p| p.entries.len()).sum());
    let mut ids = Vec::with_capacity(recs.capacity());
    for (p, part) in src.parts.iter().enumerate() {
        let base = part.base as u64;
        for (i, e) in part.entries.iter().enumerate() {
            let id = id_hash(&e.key.get_at(part.bytes));
            ids.push(id);
            let row = row(
                base,
                &e.key,
                base + e.value.start as u64,
                e.value.len(),
                e.nonfinite,
                id,
            )?;
            recs.push(Rec {
                time: order_time(part.bytes, e),
                part: p as u32,
                at: i as u32,
                row,
            });
        }
    }
    if !unique(ids) {
        return None;
    }
    let full = |r: &Rec| {
        let part = &src.parts[r.part as usize];
        (part.bytes, &part.entries[r.at as usize], r.time)
    };
    recs.sort_unstable_by(|a, b| b.time.cmp(&a.time).then_with(|| order(full(a), full(b))));
    Some(assemble(
        src.ident,
        src.sample,
        src.content,
        version,
        recs.iter().map(|r| &r.row),
    ))
}

/// Writes the sidecar of `dir` from rows already in the order a full load
/// lists the entries (a streamed read: [`super::streamed`]).
pub(crate) fn write_rows(
    dir: &Path,
    ident: Ident,
    (sample, content): (u64, u64),
    version: Option<&Value>,
    rows: &[[u8; ROW]],
) {
    let ids = rows
        .iter()
        .map(|r| u64::from_le_bytes(r[24..32].try_into().expect("8 bytes")))
        .collect();
    let bytes = version_text(version)
        .filter(|_| unique(ids))
        .map(|v| assemble(ident, sample, content, v, rows.iter()));
    put(dir, bytes);
}

/// Writes the sidecar of `dir` for what a full read saw; failures are
/// logged, never an error (it is a cache).
pub(crate) fn write(dir: &Path, src: &Source) {
    put(dir, encode(src));
}

/// Puts a sidecar in place; `None`: the index cannot have one, and any
/// sidecar there goes.
fn put(dir: &Path, bytes: Option<Vec<u8>>) {
    let Some(bytes) = bytes else {
        tracing::info!(
            "no sidecar for {}: duplicate ids or odd members",
            dir.display()
        );
        let _ = std::fs::remove_file(path_of(dir));
        return;
    };
    let path = path_of(dir);
    if let Err(e) = write_bytes(dir, &bytes) {
        tracing::info!("the sidecar {} was not written: {e}", path.display());
    }
}

/// Whether the filesystem of `f` keeps a real ctime (FUSE filesystems such
/// as sshfs, and FAT, show the mtime or nothing: a change whose mtime was put
/// back would keep the file's identity there).
pub(super) fn keeps_ctime(f: &File) -> bool {
    const FUSE: i64 = 0x6573_5546;
    const MSDOS: i64 = 0x4d44;
    const EXFAT: i64 = 0x2011_bab0;
    const VFAT_NTFS3: i64 = 0x7366_746e;
    match rustix::fs::fstatfs(f) {
        // `f_type` is not i64 on every architecture.
        #[allow(clippy::unnecessary_cast)]
        Ok(st) => ![FUSE, MSDOS, EXFAT, VFAT_NTFS3].contains(&(st.f_type as i64)),
        Err(_) => false,
    }
}

/// Writes a new sidecar beside the old one and renames it over (a killed
/// write leaves only a temp file, which the next write or change sweeps).
fn write_bytes(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    use crate::fsutil::{Dir, TempFile};
    let g = Dir::open(dir)?.sub_or_create(GENHIST_DIR)?;
    // Killed writers' temp files (a flocked temp is a living writer's).
    let _ = crate::fsutil::sweep_dead_temps(&g);
    if g.stat(SIDECAR_FILE)?
        .is_some_and(|st| crate::fsutil::kind(&st) != rustix::fs::FileType::RegularFile)
    {
        return Err(io::Error::other("not a regular file; left alone"));
    }
    // A cache: not waited for on the disk (a crash may leave it torn or
    // empty, which its checks refuse, and the next full read rewrites it).
    let mut tmp = TempFile::create(&g, SIDECAR_FILE, None)?;
    tmp.write_unsynced(|w| {
        let half = bytes.len() / 2;
        w.write_all(&bytes[..half])?;
        w.flush()?;
        crate::fault::kill_point("sidecar-write");
        w.write_all(&bytes[half..])
    })?;
    tmp.commit_unsynced(SIDECAR_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of about 300 KB, so the sample blocks miss most bytes.
    fn big_index() -> String {
        let entries: Vec<String> = (0..1500)
            .map(|i| {
                format!(
                    "\"k{i:05}\": {{\"entry_id\": \"k{i:05}\", \"timestamp\": \
                     \"2026-11-20T10:{:02}:{:02}\", \"seed\": {}, \"model_name\": \"M\"}}",
                    (i / 60) % 60,
                    i % 60,
                    100_000 + i
                )
            })
            .collect();
        format!(
            "{{\"version\": 1, \"entries\": {{{}}}}}",
            entries.join(", ")
        )
    }

    #[test]
    fn a_small_file_is_sampled_whole() {
        let text = big_index();
        let small = &text.as_bytes()[..100_000];
        let mut changed = small.to_vec();
        changed[70_000] ^= 1;
        assert_ne!(sample_of(small), sample_of(&changed));
        assert_eq!(sample_offsets(100_000).len(), 25);
        assert_eq!(sample_offsets(0).len(), 0);
    }

    #[test]
    fn a_change_the_samples_miss_is_caught_while_the_sidecar_is_racy() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let text = big_index();
        std::fs::write(dir.join("history.json"), &text).unwrap();
        super::super::lite::IndexText::read(dir)
            .unwrap()
            .newest(None, Some(1));
        assert!(path_of(dir).is_file());
        let f = File::open(dir.join("history.json")).unwrap();
        let ident = Ident::of(&f.metadata().unwrap());
        assert!(matches(dir, &ident, text.as_bytes()));
        // A seed digit no sample block covers.
        let offsets = sample_offsets(text.len() as u64);
        let at = (0..text.len())
            .find(|&p| {
                text.as_bytes()[p] == b'1'
                    && text[..p].ends_with("\"seed\": ")
                    && offsets
                        .iter()
                        .all(|&o| !(o..o + SAMPLE_BLOCK).contains(&(p as u64)))
            })
            .expect("a byte outside the samples");
        let mut changed = text.clone().into_bytes();
        changed[at] = b'2';
        assert_eq!(sample_of(&changed), sample_of(text.as_bytes()));
        // Written just now, after a change just now: the whole file counts.
        assert!(!matches(dir, &ident, &changed));
        // Long after the change, a list compares only the samples (the
        // identity guards: any write since would have moved the ctime)...
        let (side, mut h) = open_sidecar(dir).unwrap();
        assert!(h.racy());
        h.built_ns = h.ident.ctime_ns + 3 * RACY_NS;
        assert!(!h.racy());
        drop(side);
        let w = std::fs::OpenOptions::new()
            .write(true)
            .open(path_of(dir))
            .unwrap();
        w.write_all_at(&h.fixed(), 0).unwrap();
        assert!(matches(dir, &ident, text.as_bytes()));
        // ...but a full read compares every byte, so where the times did not
        // show a change (no real ctime, a write through an mmap) the next
        // full read still replaces the sidecar.
        assert!(!matches(dir, &ident, &changed));
        let other = Ident {
            ctime_ns: ident.ctime_ns + 1,
            ..ident
        };
        assert!(!matches(dir, &other, text.as_bytes()));
    }
}
