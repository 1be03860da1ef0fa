//! The hashes that tie the sidecar ([`super::sidecar`]) to the bytes of the
//! index: a sample of 34 blocks of 4 KiB, and the whole file as the hashes
//! of its 1 MiB blocks. Every hash is XXH3 (`xxhash-rust`). Blocks let the
//! two threads that read a large index hash the halves they read, and let
//! an index that only grew be checked block by block against the hashes
//! its sidecar kept ([`super::grow`]).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The size of a block of the whole-file hash.
pub(crate) const BLOCK: usize = 1 << 20;
pub(super) const SAMPLE_BLOCK: u64 = 4096;
const SAMPLE_BLOCKS: u64 = 32;

/// XXH3 of bytes fed in pieces.
#[derive(Clone)]
pub(crate) struct Hasher(xxhash_rust::xxh3::Xxh3Default);

impl Hasher {
    pub(crate) fn new() -> Hasher {
        Hasher(xxhash_rust::xxh3::Xxh3Default::new())
    }

    pub(crate) fn feed(&mut self, b: &[u8]) {
        self.0.update(b);
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0.digest()
    }
}

/// A file's bytes as the hashes of its 1 MiB blocks (the last one may be
/// shorter), and its length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileHash {
    pub blocks: Vec<u64>,
    pub len: u64,
}

impl FileHash {
    /// The blocks of bytes in memory.
    pub(crate) fn of(bytes: &[u8]) -> FileHash {
        FileHash {
            blocks: bytes
                .chunks(BLOCK)
                .map(xxhash_rust::xxh3::xxh3_64)
                .collect(),
            len: bytes.len() as u64,
        }
    }

    /// The whole file's hash: of its blocks' hashes and its length.
    pub(crate) fn content(&self) -> u64 {
        let mut h = Hasher::new();
        for b in &self.blocks {
            h.feed(&b.to_le_bytes());
        }
        h.feed(&self.len.to_le_bytes());
        h.finish()
    }

    /// The hashes of these bytes followed by those of `tail`, when these
    /// end at a block boundary (as the halves two threads read do).
    pub(crate) fn join(mut self, tail: FileHash) -> Option<FileHash> {
        if self.len % BLOCK as u64 != 0 {
            return None;
        }
        self.blocks.extend(tail.blocks);
        self.len += tail.len;
        Some(self)
    }
}

/// The block hashes of bytes met in order (a streamed read).
#[derive(Clone)]
pub(crate) struct ContentHash {
    block: Hasher,
    /// How many bytes of the current block were fed.
    fill: usize,
    done: FileHash,
}

impl ContentHash {
    pub(crate) fn new() -> ContentHash {
        ContentHash {
            block: Hasher::new(),
            fill: 0,
            done: FileHash::default(),
        }
    }

    pub(crate) fn feed(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            let n = (BLOCK - self.fill).min(b.len());
            self.block.feed(&b[..n]);
            self.fill += n;
            self.done.len += n as u64;
            b = &b[n..];
            if self.fill == BLOCK {
                self.done.blocks.push(self.block.finish());
                self.block = Hasher::new();
                self.fill = 0;
            }
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.done.len
    }

    /// The hash of the bytes fed since the last block boundary (what
    /// [`last_block`] reads back from a file ending here).
    pub(crate) fn partial(&self) -> u64 {
        self.block.finish()
    }

    /// Goes on with the hash of the bytes that follow these (fed to
    /// `tail`), when these end at a block boundary (as the first of two
    /// parts read by two threads does); `false` (nothing changed) otherwise.
    pub(crate) fn append(&mut self, tail: ContentHash) -> bool {
        if self.fill != 0 {
            return false;
        }
        self.done.blocks.extend(tail.done.blocks);
        self.done.len += tail.done.len;
        self.block = tail.block;
        self.fill = tail.fill;
        true
    }

    pub(crate) fn finish(mut self) -> FileHash {
        if self.fill > 0 {
            self.done.blocks.push(self.block.finish());
        }
        self.done
    }
}

/// Reads from the file and feeds the whole-file hash, when there is one.
pub(super) struct Hashing<'a> {
    pub(super) f: &'a File,
    pub(super) hash: Option<&'a mut ContentHash>,
}

impl io::Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = io::Read::read(&mut &*self.f, buf)?;
        if let Some(h) = &mut self.hash {
            h.feed(&buf[..n]);
        }
        Ok(n)
    }
}

/// Reads `f` from a file offset on (with `pread`, so that two threads can
/// read one file), feeding the bytes before `hash_end` to the whole-file
/// hash, when there is one.
pub(super) struct HashingAt<'a> {
    pub(super) f: &'a File,
    pub(super) at: u64,
    pub(super) hash: Option<&'a mut ContentHash>,
    pub(super) hash_end: u64,
}

impl io::Read for HashingAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.f.read_at(buf, self.at)?;
        if let Some(h) = &mut self.hash {
            let upto = self.hash_end.saturating_sub(self.at).min(n as u64) as usize;
            h.feed(&buf[..upto]);
        }
        self.at += n as u64;
        Ok(n)
    }
}

/// The hash of the bytes of `f` from the start of the block where
/// `last_end` is to `last_end` (for the sidecar's header).
pub(super) fn last_block(f: &File, last_end: u64) -> Option<u64> {
    let from = last_end / BLOCK as u64 * BLOCK as u64;
    let mut buf = vec![0u8; (last_end - from) as usize];
    f.read_exact_at(&mut buf, from).ok()?;
    Some(xxhash_rust::xxh3::xxh3_64(&buf))
}

/// Where the sample blocks of a file of `size` bytes start.
pub(super) fn sample_offsets(size: u64) -> Vec<u64> {
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
pub(super) fn sample_of(bytes: &[u8]) -> u64 {
    let size = bytes.len() as u64;
    let mut h = Hasher::new();
    for off in sample_offsets(size) {
        let end = (off + SAMPLE_BLOCK).min(size);
        h.feed(&bytes[off as usize..end as usize]);
    }
    h.finish()
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

/// The whole-file hash of bytes in memory.
pub(super) fn content_of(bytes: &[u8]) -> u64 {
    FileHash::of(bytes).content()
}

/// The whole-file hash of an open file of `size` bytes.
pub(super) fn content_of_file(f: &File, size: u64) -> io::Result<u64> {
    content_of_range(f, 0, size)
}

/// The hash of `len` bytes of `f` from `from` (as [`content_of`] of them).
pub(super) fn content_of_range(f: &File, from: u64, len: u64) -> io::Result<u64> {
    let mut h = ContentHash::new();
    let mut buf = vec![0u8; BLOCK];
    let mut off = 0;
    while off < len {
        let n = ((len - off) as usize).min(buf.len());
        f.read_exact_at(&mut buf[..n], from + off)?;
        h.feed(&buf[..n]);
        off += n as u64;
    }
    Ok(h.finish().content())
}

/// The hash of the bytes `from..to` of a file (`from` at a block start)
/// whose bytes are in `pieces` (each with where it starts in the file),
/// e.g. the halves two threads scanned.
pub(super) fn range_of(pieces: &[(&[u8], usize)], from: usize, to: usize) -> u64 {
    let mut h = Hasher::new();
    for &(b, at) in pieces {
        let lo = from.max(at);
        let hi = to.min(at + b.len());
        if lo < hi {
            h.feed(&b[lo - at..hi - at]);
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_file_hash_is_the_same_however_it_is_read() {
        let bytes: Vec<u8> = (0..(3 * BLOCK + 5) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0, 1, 31, 4097, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5] {
            let b = &bytes[..len];
            let whole = FileHash::of(b);
            assert_eq!(whole.blocks.len(), len.div_ceil(BLOCK));
            // Fed in uneven pieces, as a streamed read does.
            let mut h = ContentHash::new();
            let mut at = 0;
            for step in [1, 7, 1000, 65_536, BLOCK + 3].iter().cycle() {
                if at >= len {
                    break;
                }
                let end = (at + step).min(len);
                h.feed(&b[at..end]);
                at = end;
            }
            assert_eq!(h.len(), len as u64);
            assert_eq!(h.finish(), whole, "{len} bytes in pieces");
            // Two halves split at a block, as the two reading threads do.
            let split = (len / 2) / BLOCK * BLOCK;
            let joined = FileHash::of(&b[..split])
                .join(FileHash::of(&b[split..]))
                .expect("split at a block");
            assert_eq!(joined, whole);
            if len > 0 {
                let mut changed = b.to_vec();
                changed[len - 1] ^= 1;
                assert_ne!(
                    FileHash::of(&changed).content(),
                    whole.content(),
                    "{len} bytes, last changed"
                );
                assert_ne!(FileHash::of(&b[..len - 1]).content(), whole.content());
            }
        }
        assert!(FileHash::of(&bytes[..5])
            .join(FileHash::of(&bytes[5..9]))
            .is_none());
        let pieces = [(&bytes[..100], 0), (&bytes[100..300], 100)];
        assert_eq!(
            range_of(&pieces, 50, 250),
            xxhash_rust::xxh3::xxh3_64(&bytes[50..250])
        );
    }

    #[test]
    fn a_small_file_is_sampled_whole() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut changed = bytes.clone();
        changed[70_000] ^= 1;
        assert_ne!(sample_of(&bytes), sample_of(&changed));
        assert_eq!(sample_offsets(100_000).len(), 25);
        assert_eq!(sample_offsets(0).len(), 0);
    }
}
