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
//! - when the bytes the sidecar describes began to be read less than two
//!   seconds after the index last changed, or while anyone had it open for
//!   writing ([`Seen`]), the whole file hashes as recorded ("racy", as git
//!   calls it): a change inside the same clock tick leaves every time as it
//!   was, and so does the rest of a `write()` still copying, whose times
//!   are stamped when it begins. A match is then written down so the next
//!   open need not hash again, when the clock was past the change and
//!   nobody was writing the file before the hash began
//!   (`newest::settled`);
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
//! Layout (little-endian): a 136-byte header (magic, format, whether
//! members follow `entries` (bytes 12..16), identity, build time, sample
//! hash, content hash, entry count, version length, rows hash, checksum,
//! then where the last entry ends and the hash of its block up to there
//! (bytes 112..128)), the top-level `version` member as JSON, the hashes of
//! the index's 1 MiB blocks (8 bytes each, [`super::filehash`]), then one
//! 32-byte row per entry in the order a full load lists them (newest first;
//! ties by timestamp text, then id): key start, value start, key length
//! (top bit: the key has escapes), value length (top bit: the entry holds
//! NaN or an infinity), id hash. The checksum covers the header, the
//! `version` text and the block hashes.

use super::filehash::{content_of_range, FileHash, Hasher, BLOCK};
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
const FORMAT: u32 = 3;
pub(super) const HEADER: usize = 136;
pub(super) const ROW: usize = 32;
/// A sidecar of bytes read less than this after the index changed is
/// checked against the whole file. Also the time a `write()` still copying
/// into the index (its ctime stamped when it began) is assumed to end in
/// where it cannot be told whether anyone writes it ([`open_for_writing`]).
pub(super) const RACY_NS: i64 = 2_000_000_000;
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

/// An index file's identity and the time just before it was taken: every
/// byte read after that is at least that new. A sidecar of those bytes is
/// racy unless that time is two seconds past the file's ctime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) ident: Ident,
    pub(crate) at_ns: i64,
}

impl Seen {
    /// The identity and the time, for reading bytes a sidecar is then made
    /// of: see below.
    pub(crate) fn of(f: &File) -> io::Result<Seen> {
        let Seen { ident, at_ns } = Seen::plain(f)?;
        // A `write()` still copying into the file keeps the times it began
        // with: while anyone has it open for writing, the bytes read are
        // taken as read the moment it last changed (racy).
        let at_ns = if at_ns >= ident.ctime_ns.saturating_add(RACY_NS)
            && open_for_writing(f) == Some(true)
        {
            ident.ctime_ns
        } else {
            at_ns
        };
        Ok(Seen { ident, at_ns })
    }

    /// The identity and the time, without asking about writers (for a
    /// reader that makes no sidecar of what it reads).
    pub(crate) fn plain(f: &File) -> io::Result<Seen> {
        let at_ns = now_ns();
        Ok(Seen {
            ident: Ident::of(&f.metadata()?),
            at_ns,
        })
    }
}

/// Whether `f` is on a filesystem this machine's kernel keeps on its own:
/// every write to its files goes through this kernel's inodes, with times
/// from this machine's clock. Not overlayfs (a writer of the layer below
/// is not seen on the overlay's inode), nor network or FUSE filesystems.
fn kernel_kept(f: &File) -> bool {
    const EXT: i64 = 0xef53;
    const XFS: i64 = 0x5846_5342;
    const BTRFS: i64 = 0x9123_683e;
    const TMPFS: i64 = 0x0102_1994;
    const F2FS: i64 = 0xf2f5_2010;
    const ZFS: i64 = 0x2fc1_2fc1;
    const BCACHEFS: i64 = 0xca45_1a4e;
    fs_magic(f).is_some_and(|m| [EXT, XFS, BTRFS, TMPFS, F2FS, ZFS, BCACHEFS].contains(&m))
}

/// [`kernel_kept`], with nanosecond times (ext3 with small inodes keeps
/// whole seconds).
pub(super) fn local_fine_times(f: &File) -> bool {
    f.metadata().is_ok_and(|m| m.ctime_nsec() != 0) && kernel_kept(f)
}

/// Whether anyone has the index open or mapped for writing
/// ([`crate::sys::open_for_writing`]: a read lease taken and given back),
/// where this kernel sees every writer ([`kernel_kept`]); `None` elsewhere.
pub(super) fn open_for_writing(index: &File) -> Option<bool> {
    if !kernel_kept(index) {
        return None;
    }
    crate::sys::open_for_writing(index)
}

/// Whether the filesystem's clock is past `ctime_ns`, the ctime of the
/// index `index`: the times of the sidecar `side` set to "now" read back
/// later than it. Both on one local filesystem, their times come from one
/// clock, so from here on a change that begins moves the index's ctime.
///
/// A `write()` stamps the times when it begins, so one already copying
/// into the index when this is called keeps them while it changes bytes:
/// callers also make sure, after this, that nobody has the index open for
/// writing ([`open_for_writing`]) before they hash it.
pub(super) fn fs_clock_past(side: &File, index: &File, ctime_ns: i64) -> bool {
    let (Ok(s), Ok(i)) = (side.metadata(), index.metadata()) else {
        return false;
    };
    if s.dev() != i.dev() || !local_fine_times(index) {
        return false;
    }
    let now = rustix::fs::Timespec {
        tv_sec: 0,
        tv_nsec: rustix::fs::UTIME_NOW,
    };
    let times = rustix::fs::Timestamps {
        last_access: now,
        last_modification: now,
    };
    if rustix::fs::futimens(side, &times).is_err() {
        return false;
    }
    side.metadata()
        .is_ok_and(|m| Ident::of(&m).ctime_ns > ctime_ns)
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// The fixed part of a sidecar, its `version` text and its block hashes.
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
    /// The hashes of the index's 1 MiB blocks ([`FileHash`]).
    pub(super) blocks: Vec<u64>,
    /// Where the last entry (in file order) ends in the index, and the
    /// hash of the bytes from the start of its block to there: what an
    /// index that only grew must still hold ([`super::grow`]).
    pub(super) last_end: u64,
    pub(super) last_block: u64,
    /// Top-level members follow `entries` in the index.
    pub(super) members_after: bool,
}

impl Header {
    /// A header for the index `seen` (its bytes read from then on), with
    /// these hashes and `version` text; its last entry ends at `last_end`,
    /// `last_block` being the hash of its block up to there.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        seen: Seen,
        sample: u64,
        hash: &FileHash,
        version: Option<Vec<u8>>,
        last_end: u64,
        last_block: u64,
        members_after: bool,
    ) -> Header {
        Header {
            ident: seen.ident,
            built_ns: seen.at_ns,
            sample,
            content: hash.content(),
            count: 0,
            version,
            rows: 0,
            blocks: hash.blocks.clone(),
            last_end,
            last_block,
            members_after,
        }
    }

    pub(super) fn fixed(&self) -> [u8; HEADER] {
        let mut b = [0u8; HEADER];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&FORMAT.to_le_bytes());
        b[12..16].copy_from_slice(&u32::from(self.members_after).to_le_bytes());
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
        b[112..120].copy_from_slice(&self.last_end.to_le_bytes());
        b[120..128].copy_from_slice(&self.last_block.to_le_bytes());
        let check = self.check(&b);
        b[104..112].copy_from_slice(&check.to_le_bytes());
        b
    }

    /// The checksum of the fixed part (all but the checksum itself), the
    /// `version` text and the block hashes.
    fn check(&self, fixed: &[u8; HEADER]) -> u64 {
        let mut h = Hasher::new();
        h.feed(&fixed[..104]);
        h.feed(&fixed[112..]);
        h.feed(self.version.as_deref().unwrap_or_default());
        for b in &self.blocks {
            h.feed(&b.to_le_bytes());
        }
        h.finish()
    }

    pub(super) fn rows_at(&self) -> u64 {
        (HEADER + self.version.as_ref().map_or(0, Vec::len) + 8 * self.blocks.len()) as u64
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

    /// Reads and checks the header of an open sidecar of `len` bytes.
    fn read(f: &File, len: u64) -> Option<Header> {
        let mut b = [0u8; HEADER];
        f.read_exact_at(&mut b, 0).ok()?;
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let i64_at = |i: usize| i64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        if b[0..8] != MAGIC || b[8..12] != FORMAT.to_le_bytes() || u32_at(12) > 1 {
            return None;
        }
        let vlen = u32_at(88);
        let version_len = match vlen {
            u32::MAX => 0,
            n if n as usize <= MAX_VERSION => n as u64,
            _ => return None,
        };
        let size = u64_at(32);
        let blocks = size.div_ceil(BLOCK as u64);
        // Nothing is read (or made room for) past the file's end.
        if HEADER as u64 + version_len + blocks.checked_mul(8)? > len {
            return None;
        }
        let mut rest = vec![0u8; (version_len + 8 * blocks) as usize];
        f.read_exact_at(&mut rest, HEADER as u64).ok()?;
        let (version, table) = rest.split_at(version_len as usize);
        let h = Header {
            ident: Ident {
                dev: u64_at(16),
                ino: u64_at(24),
                size,
                mtime_ns: i64_at(40),
                ctime_ns: i64_at(48),
            },
            built_ns: i64_at(56),
            sample: u64_at(64),
            content: u64_at(72),
            count: u64_at(80),
            version: (vlen != u32::MAX).then(|| version.to_vec()),
            rows: u64_at(96),
            blocks: table
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            last_end: u64_at(112),
            last_block: u64_at(120),
            members_after: u32_at(12) == 1,
        };
        if h.check(&b) != u64_at(104) {
            return None;
        }
        // An entry takes at least `"":{}` and a comma: more rows than that
        // allows is no sidecar (and never a terabyte to hash).
        if h.count.saturating_mul(6) > size || h.last_end > size {
            return None;
        }
        Some(h)
    }

    /// The `version` member as a value: `Some(None)` when the index has
    /// none, `None` when the kept text does not parse (then the index is
    /// read whole).
    pub(super) fn version_value(&self) -> Option<Option<Value>> {
        version_value(self.version.as_deref())
    }

    /// Whether the bytes described began to be read less than [`RACY_NS`]
    /// after the index last changed.
    pub(super) fn racy(&self) -> bool {
        self.built_ns < self.ident.ctime_ns.saturating_add(RACY_NS)
    }
}

/// A kept `version` text as a value: `Some(None)` when there is none,
/// `None` when it does not parse.
pub(super) fn version_value(text: Option<&[u8]>) -> Option<Option<Value>> {
    match text {
        None => Some(None),
        Some(t) => serde_json::from_slice(t).ok().map(Some),
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
    let h = Header::read(&f, m.len())?;
    // Torn or with something after it: not a sidecar.
    (h.file_len() == Some(m.len())).then_some((f, h))
}

/// [`matches_hashes`] of bytes in memory.
#[cfg(test)]
fn matches(dir: &Path, ident: &Ident, bytes: &[u8]) -> bool {
    let (sample, hash) = hashes(bytes, None);
    matches_hashes(dir, ident, sample, hash.content())
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
    /// The index, and when it was before its bytes were read.
    pub seen: Seen,
    /// The whole file's sample and block hashes.
    pub sample: u64,
    pub hash: &'a FileHash,
    pub version: Option<&'a Value>,
    /// The parts, in file order, together the whole file.
    pub parts: Vec<Part<'a>>,
    /// Top-level members follow `entries`.
    pub members_after: bool,
}

impl Source<'_> {
    /// The sidecar's header for this index (its `version` text given).
    fn header(&self, version: Option<Vec<u8>>) -> Header {
        // The last entry in file order: the last of the last part with any.
        let last_end = self
            .parts
            .iter()
            .rev()
            .find_map(|p| p.entries.last().map(|e| p.base + e.value.end))
            .unwrap_or(0);
        let pieces: Vec<(&[u8], usize)> = self.parts.iter().map(|p| (p.bytes, p.base)).collect();
        let block_start = last_end / BLOCK * BLOCK;
        Header::new(
            self.seen,
            self.sample,
            self.hash,
            version,
            last_end as u64,
            super::filehash::range_of(&pieces, block_start, last_end),
            self.members_after,
        )
    }
}

/// The sample and block hashes of the index in memory, for [`Source`]
/// (`hash`: the block hashes when they were made as the bytes were read).
pub(crate) fn hashes(bytes: &[u8], hash: Option<FileHash>) -> (u64, FileHash) {
    (
        super::filehash::sample_of(bytes),
        hash.unwrap_or_else(|| FileHash::of(bytes)),
    )
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
pub(super) fn assemble<'a>(
    mut header: Header,
    rows: impl ExactSizeIterator<Item = &'a [u8; ROW]>,
) -> Vec<u8> {
    header.count = rows.len() as u64;
    let mut out = Vec::with_capacity(header.rows_at() as usize + rows.len() * ROW);
    out.extend_from_slice(&header.fixed());
    out.extend_from_slice(header.version.as_deref().unwrap_or_default());
    for b in &header.blocks {
        out.extend_from_slice(&b.to_le_bytes());
    }
    let rows_at = out.len();
    for r in rows {
        out.extend_from_slice(r);
    }
    header.rows = super::filehash::content_of(&out[rows_at..]);
    out[..HEADER].copy_from_slice(&header.fixed());
    out
}

/// Some entries' rows in file order, their order keys sorted as a full
/// load lists them, and their id hashes sorted.
struct Sorted {
    /// The first entry's place among all.
    from: usize,
    rows: Vec<[u8; ROW]>,
    keys: Vec<OrderKey>,
    ids: Vec<u64>,
}

/// An entry's place in a full read: its time, its part and its place in
/// the part.
pub(crate) type OrderKey = (i64, u32, u32);

/// Entries with more than this many are made into rows on both cores.
const ENCODE_ON_TWO: usize = 20_000;

/// The entries of a full read in the order a full load lists them, and
/// their rows: a sidecar but for its header.
pub(crate) struct Ordered {
    version: Option<Vec<u8>>,
    /// Where each part's entries start among all.
    starts: Vec<usize>,
    halves: Vec<Sorted>,
    /// Every entry, newest first.
    pub keys: Vec<OrderKey>,
}

impl Ordered {
    /// `None` when the index cannot have a sidecar (duplicate ids, an
    /// entry over 2 GiB, an odd `version`).
    pub(crate) fn new(src: &Source) -> Option<Ordered> {
        let version = version_text(src.version)?;
        let mut starts = Vec::with_capacity(src.parts.len());
        let mut n = 0;
        for p in &src.parts {
            starts.push(n);
            n += p.entries.len();
        }
        let cmp = |a: &OrderKey, b: &OrderKey| src.cmp(a, b);
        // Each row made in file order (the text and the spans are read
        // front to back); only the 16-byte keys are sorted, and only equal
        // times look at the text. Two halves on two cores when there are
        // many, then merged.
        let sorted = |from: usize, to: usize| -> Option<Sorted> {
            let mut out = Sorted {
                from,
                rows: Vec::with_capacity(to - from),
                keys: Vec::with_capacity(to - from),
                ids: Vec::with_capacity(to - from),
            };
            for (p, part) in src.parts.iter().enumerate() {
                let lo = from.max(starts[p]) - starts[p];
                let hi = to
                    .min(starts[p] + part.entries.len())
                    .saturating_sub(starts[p]);
                let base = part.base as u64;
                for (i, e) in part.entries.iter().enumerate().take(hi).skip(lo) {
                    out.ids.push(e.id);
                    out.rows.push(row(
                        base,
                        &e.key,
                        base + e.value.start as u64,
                        e.value.len(),
                        e.nonfinite,
                        e.id,
                    )?);
                    out.keys
                        .push((order_time(part.bytes, e), p as u32, i as u32));
                }
            }
            out.ids.sort_unstable();
            out.keys.sort_unstable_by(cmp);
            Some(out)
        };
        let halves = if n > ENCODE_ON_TWO {
            let (a, b) = std::thread::scope(|s| {
                let tail = s.spawn(|| sorted(n / 2, n));
                (sorted(0, n / 2), tail.join())
            });
            vec![a?, b.unwrap_or_else(|p| std::panic::resume_unwind(p))?]
        } else {
            vec![sorted(0, n)?]
        };
        if !unique(halves.iter().map(|h| &h.ids[..])) {
            return None;
        }
        // Only the rows and the keys are needed from here (the peak of a
        // `list` that makes the sidecar is about here).
        let mut halves = halves;
        for h in &mut halves {
            h.ids = Vec::new();
        }
        let keys = match &mut halves[..] {
            [one] => std::mem::take(&mut one.keys),
            [a, b] => {
                let (mut i, mut j) = (0, 0);
                let mut v = Vec::with_capacity(n);
                while i < a.keys.len() && j < b.keys.len() {
                    // Never equal: ties end at distinct ids.
                    if cmp(&b.keys[j], &a.keys[i]).is_lt() {
                        v.push(b.keys[j]);
                        j += 1;
                    } else {
                        v.push(a.keys[i]);
                        i += 1;
                    }
                }
                v.extend_from_slice(&a.keys[i..]);
                v.extend_from_slice(&b.keys[j..]);
                v
            }
            _ => unreachable!("one or two halves"),
        };
        for h in &mut halves {
            h.keys = Vec::new();
        }
        Some(Ordered {
            version,
            starts,
            halves,
            keys,
        })
    }

    /// The row of the entry `k` names.
    fn row_of(&self, k: &OrderKey) -> &[u8; ROW] {
        let g = self.starts[k.1 as usize] + k.2 as usize;
        let h = self
            .halves
            .iter()
            .rfind(|h| h.from <= g)
            .expect("the first half starts at 0");
        &h.rows[g - h.from]
    }

    /// Writes the sidecar a row at a time (no second copy of the rows).
    fn write(&self, dir: &Path, src: &Source) {
        let Some(mut w) = RowWriter::new(dir, src.header(self.version.clone())) else {
            return;
        };
        for k in &self.keys {
            if w.push(self.row_of(k)).is_err() {
                return;
            }
        }
        if let Err(e) = w.commit() {
            tracing::info!("the sidecar of {} was not written: {e}", dir.display());
        }
    }

    /// The whole sidecar.
    #[cfg(test)]
    fn bytes(&self, src: &Source) -> Vec<u8> {
        assemble(
            src.header(self.version.clone()),
            self.keys.iter().map(|k| self.row_of(k)),
        )
    }
}

impl Source<'_> {
    /// Orders two entries as a full load lists them.
    fn cmp(&self, a: &OrderKey, b: &OrderKey) -> Ordering {
        let full = |k: &OrderKey| {
            let part = &self.parts[k.1 as usize];
            (part.bytes, &part.entries[k.2 as usize], k.0)
        };
        b.0.cmp(&a.0).then_with(|| order(full(a), full(b)))
    }
}

/// Whether no two ids hash alike, given each run of ids sorted.
fn unique<'a>(runs: impl Iterator<Item = &'a [u64]>) -> bool {
    let runs: Vec<&[u64]> = runs.collect();
    if runs.iter().any(|r| r.windows(2).any(|w| w[0] == w[1])) {
        return false;
    }
    // No id in two runs (a merge walk of each pair).
    runs.iter().enumerate().all(|(x, a)| {
        runs[x + 1..].iter().all(|b| {
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                match a[i].cmp(&b[j]) {
                    Ordering::Less => i += 1,
                    Ordering::Greater => j += 1,
                    Ordering::Equal => return false,
                }
            }
            true
        })
    })
}

/// Writes the sidecar of `dir` from rows already in the order a full load
/// lists the entries (a streamed read: [`super::streamed`]).
pub(super) fn write_rows(dir: &Path, header: Header, version: Option<&Value>, rows: &[[u8; ROW]]) {
    let mut ids: Vec<u64> = rows
        .iter()
        .map(|r| u64::from_le_bytes(r[24..32].try_into().expect("8 bytes")))
        .collect();
    ids.sort_unstable();
    let bytes = version_text(version)
        .filter(|_| unique(std::iter::once(&ids[..])))
        .map(|version| assemble(Header { version, ..header }, rows.iter()));
    put(dir, bytes);
}

/// Writes the sidecar of `dir` for what a full read saw; failures are
/// logged, never an error (it is a cache).
pub(crate) fn write(dir: &Path, src: &Source) {
    write_ordered(dir, src, Ordered::new(src).as_ref());
}

/// [`write`] of entries already ordered (`None`: they cannot have a
/// sidecar).
pub(crate) fn write_ordered(dir: &Path, src: &Source, ordered: Option<&Ordered>) {
    match ordered {
        Some(o) => o.write(dir, src),
        None => put(dir, None),
    }
}

/// Puts a sidecar in place; `None`: the index cannot have one, and any
/// sidecar there goes.
pub(super) fn put(dir: &Path, bytes: Option<Vec<u8>>) {
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
    fs_magic(f).is_some_and(|m| ![FUSE, MSDOS, EXFAT, VFAT_NTFS3].contains(&m))
}

/// The magic number of the filesystem `f` is on (`statfs`'s `f_type`).
fn fs_magic(f: &File) -> Option<i64> {
    // `f_type` is not i64 on every architecture.
    #[allow(clippy::unnecessary_cast)]
    rustix::fs::fstatfs(f).ok().map(|st| st.f_type as i64)
}

/// The temp file a new sidecar of `dir` is written into, beside the old
/// one (a killed write leaves only a temp file, which the next write or
/// change sweeps).
fn new_temp(dir: &Path) -> io::Result<crate::fsutil::TempFile> {
    use crate::fsutil::{Dir, TempFile};
    let g = Dir::open(dir)?.sub_or_create(GENHIST_DIR)?;
    // Killed writers' temp files (a flocked temp is a living writer's).
    let _ = crate::fsutil::sweep_dead_temps(&g);
    if g.stat(SIDECAR_FILE)?
        .is_some_and(|st| crate::fsutil::kind(&st) != rustix::fs::FileType::RegularFile)
    {
        return Err(io::Error::other("not a regular file; left alone"));
    }
    TempFile::create(&g, SIDECAR_FILE, None)
}

/// A sidecar written a row at a time, in list order, without holding the
/// rows: the header goes in last, with their count and hash. Dropped
/// without [`RowWriter::commit`], it leaves the old sidecar as it was.
pub(super) struct RowWriter {
    tmp: crate::fsutil::TempFile,
    w: io::BufWriter<File>,
    header: Header,
    rows: super::filehash::ContentHash,
}

impl RowWriter {
    /// Starts the sidecar of `dir` with this header (its count and rows
    /// hash are filled in by [`RowWriter::commit`]).
    pub(super) fn new(dir: &Path, header: Header) -> Option<RowWriter> {
        let mut tmp = new_temp(dir)
            .map_err(|e| tracing::info!("the sidecar of {} was not written: {e}", dir.display()))
            .ok()?;
        let f = tmp.file().try_clone().ok()?;
        let mut w = io::BufWriter::with_capacity(1 << 20, f);
        use std::io::Write;
        let start = |w: &mut io::BufWriter<File>| -> io::Result<()> {
            w.write_all(&[0u8; HEADER])?;
            w.write_all(header.version.as_deref().unwrap_or_default())?;
            for b in &header.blocks {
                w.write_all(&b.to_le_bytes())?;
            }
            Ok(())
        };
        start(&mut w).ok()?;
        Some(RowWriter {
            tmp,
            w,
            header,
            rows: super::filehash::ContentHash::new(),
        })
    }

    pub(super) fn push(&mut self, row: &[u8; ROW]) -> io::Result<()> {
        use std::io::Write;
        self.rows.feed(row);
        self.header.count += 1;
        self.w.write_all(row)
    }

    /// Puts the sidecar in place, its header written last; gives that
    /// header.
    pub(super) fn commit(mut self) -> io::Result<Header> {
        use std::io::Write;
        self.w.flush()?;
        crate::fault::kill_point("sidecar-write");
        self.header.rows = self.rows.finish().content();
        self.tmp.file().write_all_at(&self.header.fixed(), 0)?;
        self.tmp.commit_unsynced(SIDECAR_FILE)?;
        Ok(self.header)
    }
}

/// Writes a new sidecar beside the old one and renames it over.
fn write_bytes(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    // A cache: not waited for on the disk (a crash may leave it torn or
    // empty, which its checks refuse, and the next full read rewrites it).
    let mut tmp = new_temp(dir)?;
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
    use super::super::filehash::{sample_of, sample_offsets, SAMPLE_BLOCK};
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

    /// Files whose times another machine's clock or a coarse granularity
    /// may set are never probed.
    #[test]
    fn filesystems_not_known_to_be_local_are_not_probed() {
        let proc = File::open("/proc/self/status").unwrap();
        assert!(!local_fine_times(&proc));
    }

    /// The filesystem's clock is past an index's ctime only once it is: never
    /// for a ctime ahead of it, always (on a local filesystem) some ticks
    /// after the change.
    #[test]
    fn the_filesystems_clock_is_seen_past_a_ctime_only_once_it_is() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::write(dir.join("history.json"), big_index()).unwrap();
        super::super::lite::IndexText::read(dir)
            .unwrap()
            .newest(None, Some(1));
        let f = File::open(dir.join("history.json")).unwrap();
        let side = File::open(path_of(dir)).unwrap();
        let ctime = Ident::of(&f.metadata().unwrap()).ctime_ns;
        assert!(!fs_clock_past(&side, &f, now_ns() + 10 * RACY_NS));
        assert!(!fs_clock_past(&side, &f, i64::MAX));
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(fs_clock_past(&side, &f, ctime), local_fine_times(&f));
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

    /// An index of `n` entries whose times tie in runs (and whose texts of
    /// one time differ), a few without a time; ids descending in file order.
    fn tied_index(n: usize, dup: Option<(usize, usize)>) -> String {
        let entries: Vec<String> = (0..n)
            .map(|i| {
                let id = match dup {
                    Some((a, b)) if i == b => format!("k{a:06}"),
                    _ => format!("k{:06}", n - i),
                };
                let ts = match i % 5 {
                    0 => String::new(),
                    1 => format!(", \"timestamp\": \"2026-11-20T10:{:02}:00Z\"", (i / 7) % 60),
                    _ => format!(
                        ", \"timestamp\": \"2026-11-20T10:{:02}:00+00:00\"",
                        (i / 7) % 60
                    ),
                };
                format!("\"{id}\": {{\"entry_id\": \"{id}\"{ts}}}")
            })
            .collect();
        format!("{{\"entries\": {{{}}}}}", entries.join(",\n"))
    }

    fn source<'a>(
        text: &'a str,
        scan: &'a super::super::scan::Scan,
        hash: &'a FileHash,
    ) -> Source<'a> {
        Source {
            seen: Seen {
                ident: Ident {
                    dev: 1,
                    ino: 2,
                    size: text.len() as u64,
                    mtime_ns: 3,
                    ctime_ns: 4,
                },
                at_ns: 6,
            },
            sample: 5,
            hash,
            version: None,
            parts: vec![Part {
                bytes: text.as_bytes(),
                base: 0,
                entries: &scan.entries,
            }],
            members_after: false,
        }
    }

    #[test]
    fn rows_made_on_two_cores_are_in_the_order_made_on_one() {
        for n in [10, ENCODE_ON_TWO + 1, 3 * ENCODE_ON_TWO + 7] {
            let text = tied_index(n, None);
            let scan = super::super::scan::scan(&text).unwrap();
            let hash = FileHash::of(text.as_bytes());
            let src = source(&text, &scan, &hash);
            let ordered = Ordered::new(&src).expect("distinct ids");
            let mut want: Vec<OrderKey> = (0..n)
                .map(|i| (order_time(text.as_bytes(), &scan.entries[i]), 0, i as u32))
                .collect();
            want.sort_by(|a, b| src.cmp(a, b));
            assert_eq!(ordered.keys, want, "{n} entries");
            // Each row leads to its entry, in that order.
            let bytes = ordered.bytes(&src);
            let rows = &bytes[HEADER + 8 * hash.blocks.len()..];
            assert_eq!(rows.len(), n * ROW);
            for (r, k) in rows.chunks(ROW).zip(&want) {
                let e = &scan.entries[k.2 as usize];
                assert_eq!(u64::from_le_bytes(r[24..32].try_into().unwrap()), e.id);
                assert_eq!(
                    u64::from_le_bytes(r[8..16].try_into().unwrap()),
                    e.value.start as u64
                );
            }
        }
    }

    #[test]
    fn an_id_in_both_halves_gets_no_sidecar() {
        let n = 2 * ENCODE_ON_TWO + 2;
        for (a, b) in [(5, n - 3), (n / 2 - 1, n / 2), (n - 10, n - 9)] {
            let text = tied_index(n, Some((n - a, b)));
            let scan = super::super::scan::scan(&text).unwrap();
            assert!(
                Ordered::new(&source(&text, &scan, &FileHash::of(text.as_bytes()))).is_none(),
                "the id of entry {a} again at {b}"
            );
        }
    }
}
