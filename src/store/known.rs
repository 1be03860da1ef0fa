//! What genhist knows of an index's entries without holding their text: a
//! hash of each id and one of each entry's stored text. Reloads compare
//! against it ([`super::reload`]); the in-memory history looks entries up
//! by the id hash ([`IdMap`]).

use super::grow::Origin;
use super::scan::fast_hash;
use std::collections::HashMap;

/// The hash of an entry's id, as [`super::GenerationHistory`] looks entries
/// up and the sidecar's rows record it: XXH3 with a seed of its own, so it
/// is independent of [`fast_hash`] (which checks it in [`ById`]).
pub(crate) fn id_hash(id: &str) -> u64 {
    const SEED: u64 = 0x6765_6e68_6973_7431;
    xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), SEED)
}

/// Hashes a key that is already a hash ([`id_hash`]) by taking it as is.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HashedKey(u64);

impl std::hash::Hasher for HashedKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A map keyed by [`id_hash`] values.
pub(crate) type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<HashedKey>>;

/// What the file held when last read or written: id hash → text hash,
/// sorted by id hash (16 bytes an entry, where a hash map takes 36; it is
/// only ever made whole, by a pass over the file: [`KnownBuilder`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    texts: Vec<(u64, u64)>,
    /// The bytes this was gathered from, when known (their block hashes
    /// and where their last entry ends): a reload may then follow a file
    /// that only grew by reading what was added ([`super::grow`]).
    origin: Option<Origin>,
}

impl Known {
    /// The same, gathered from the bytes `origin` describes.
    pub(crate) fn with_origin(mut self, origin: Option<Origin>) -> Known {
        self.origin = origin;
        self
    }

    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// The whole-file hash of the bytes this was gathered from, when known.
    #[cfg(test)]
    pub(crate) fn content(&self) -> Option<u64> {
        self.origin.as_ref().map(Origin::content)
    }

    /// With entries of ids not known before (id hash, text hash), met after
    /// all those known; the content then unknown until given.
    pub(crate) fn with_added(self, added: &[(u64, u64)]) -> Known {
        let mut b = KnownBuilder::with_capacity(self.texts.len() + added.len());
        b.pairs.extend_from_slice(&self.texts);
        b.pairs.extend_from_slice(added);
        // Mostly in order already: the sort is a merge of two runs.
        b.build()
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The text hash known for the id hash `id`.
    pub(crate) fn text_hash(&self, id: u64) -> Option<u64> {
        self.texts
            .binary_search_by_key(&id, |p| p.0)
            .ok()
            .map(|i| self.texts[i].1)
    }

    pub(crate) fn has(&self, id: u64) -> bool {
        self.text_hash(id).is_some()
    }

    /// The id hashes known.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.texts.iter().map(|p| p.0)
    }
}

/// A [`Known`] gathered entry by entry, in file order: of an id met twice,
/// the last text counts (as Python's `json.load` keeps it).
#[derive(Debug, Default)]
pub(crate) struct KnownBuilder {
    pairs: Vec<(u64, u64)>,
}

impl KnownBuilder {
    pub(crate) fn with_capacity(n: usize) -> KnownBuilder {
        KnownBuilder {
            pairs: Vec::with_capacity(n),
        }
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.pairs.reserve_exact(n.saturating_sub(self.pairs.len()));
    }

    #[cfg(test)]
    pub(crate) fn insert(&mut self, id: &str, text: &[u8]) {
        self.insert_hashed(id_hash(id), fast_hash(text));
    }

    pub(crate) fn insert_hashed(&mut self, id: u64, text: u64) {
        self.pairs.push((id, text));
    }

    /// Gathered from the last entry to the first: put in file order.
    pub(crate) fn reversed(mut self) -> KnownBuilder {
        self.pairs.reverse();
        self
    }

    /// `other`'s entries, met after these.
    pub(crate) fn append(&mut self, mut other: KnownBuilder) {
        self.pairs.append(&mut other.pairs);
    }

    pub(crate) fn build(mut self) -> Known {
        // Stable: of equal ids, the order met stays; the last met counts.
        self.pairs.sort_by_key(|p| p.0);
        self.pairs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        self.pairs.shrink_to_fit();
        Known {
            texts: self.pairs,
            origin: None,
        }
    }
}

/// Values by take id, without holding the ids' texts (a million takes
/// measured would hold a million ids again): each is found by the id's
/// 64-bit hash and checked against a second, independent 32-bit hash of
/// it, so a value is never given for another take (both would have to
/// collide: odds of 2^-96 a pair).
#[derive(Debug, Clone)]
pub struct ById<V> {
    map: IdMap<(u32, V)>,
}

impl<V> Default for ById<V> {
    fn default() -> Self {
        ById {
            map: IdMap::default(),
        }
    }
}

fn check_hash(id: &str) -> u32 {
    fast_hash(id.as_bytes()) as u32
}

impl<V> ById<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, id: &str) -> Option<&V> {
        self.map
            .get(&id_hash(id))
            .filter(|(check, _)| *check == check_hash(id))
            .map(|(_, v)| v)
    }

    /// Sets the value of `id` (replacing any value of an id with the same
    /// hash; such a pair has not been seen).
    pub fn insert(&mut self, id: &str, v: V) {
        self.map.insert(id_hash(id), (check_hash(id), v));
    }

    pub fn remove(&mut self, id: &str) -> Option<V> {
        let h = id_hash(id);
        match self.map.get(&h) {
            Some((check, _)) if *check == check_hash(id) => self.map.remove(&h).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A [`ById`] of small numbers most takes may have (why a take could not
/// be measured): sorted by id hash, 16 bytes a take where a map slot takes
/// 34; ids new to it gather in a [`ById`] merged in now and then.
#[derive(Debug, Default)]
pub struct NumbersById {
    /// Id hash, check hash, value ([`GONE`]: removed), sorted by id hash.
    main: Vec<(u64, u32, u32)>,
    recent: ById<u32>,
    /// How many ids have a value.
    live: usize,
}

/// A removed value in [`NumbersById::main`].
const GONE: u32 = u32::MAX;

impl NumbersById {
    fn find(&self, id: &str) -> Option<usize> {
        let (h, c) = (id_hash(id), check_hash(id));
        self.main
            .binary_search_by_key(&h, |p| p.0)
            .ok()
            .filter(|&i| self.main[i].1 == c)
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        match self.find(id) {
            Some(i) => Some(self.main[i].2).filter(|&v| v != GONE),
            None => self.recent.get(id).copied(),
        }
    }

    /// Sets the value of `id` (any but `u32::MAX`).
    pub fn insert(&mut self, id: &str, v: u32) {
        debug_assert_ne!(v, GONE);
        if let Some(i) = self.find(id) {
            if self.main[i].2 == GONE {
                self.live += 1;
            }
            self.main[i].2 = v;
            return;
        }
        if self.recent.get(id).is_none() {
            self.live += 1;
        }
        self.recent.insert(id, v);
        if self.recent.len() > (self.main.len() / 4).max(4096) {
            self.merge();
        }
    }

    pub fn remove(&mut self, id: &str) {
        match self.find(id) {
            Some(i) if self.main[i].2 != GONE => {
                self.main[i].2 = GONE;
                self.live -= 1;
            }
            Some(_) => {}
            None => {
                if self.recent.remove(id).is_some() {
                    self.live -= 1;
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn merge(&mut self) {
        let mut recent: Vec<(u64, u32, u32)> = std::mem::take(&mut self.recent)
            .map
            .into_iter()
            .map(|(h, (c, v))| (h, c, v))
            .collect();
        recent.sort_unstable_by_key(|p| p.0);
        self.main.retain(|p| p.2 != GONE);
        self.main.extend(recent);
        // Two sorted runs: the stable sort merges them in one pass (this
        // runs on the UI thread).
        self.main.sort_by_key(|p| p.0);
    }
}

impl<V, S: AsRef<str>> FromIterator<(S, V)> for ById<V> {
    fn from_iter<I: IntoIterator<Item = (S, V)>>(iter: I) -> Self {
        let mut m = ById::new();
        for (id, v) in iter {
            m.insert(id.as_ref(), v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_text_of_an_id_counts() {
        let mut b = KnownBuilder::default();
        b.insert("b", b"1");
        b.insert("a", b"2");
        b.insert("b", b"3");
        let mut tail = KnownBuilder::default();
        tail.insert("c", b"4");
        tail.insert("a", b"5");
        b.append(tail);
        let k = b.build();
        assert_eq!(k.len(), 3);
        assert_eq!(k.text_hash(id_hash("a")), Some(fast_hash(b"5")));
        assert_eq!(k.text_hash(id_hash("b")), Some(fast_hash(b"3")));
        assert_eq!(k.text_hash(id_hash("c")), Some(fast_hash(b"4")));
        assert!(!k.has(id_hash("d")));
        // Met from the end, then put in file order.
        let mut r = KnownBuilder::default();
        r.insert("a", b"late");
        r.insert("a", b"early");
        let k = r.reversed().build();
        assert_eq!(k.text_hash(id_hash("a")), Some(fast_hash(b"late")));
    }

    #[test]
    fn numbers_by_id_follow_every_change() {
        let mut m = NumbersById::default();
        // Enough to merge several times.
        let id = |i: u32| format!("take-{i}");
        for i in 0..20_000 {
            m.insert(&id(i), i % 7);
        }
        assert!(m.main.len() > 4096, "merged");
        for i in (0..20_000).step_by(3) {
            m.remove(&id(i));
        }
        for i in (0..20_000).step_by(9) {
            m.insert(&id(i), 100);
        }
        for i in 0..20_000 {
            let want = if i % 9 == 0 {
                Some(100)
            } else if i % 3 == 0 {
                None
            } else {
                Some(i % 7)
            };
            assert_eq!(m.get(&id(i)), want, "{i}");
        }
        assert_eq!(m.get("other"), None);
        for i in 0..20_000 {
            m.remove(&id(i));
        }
        assert!(m.is_empty());
    }

    #[test]
    fn values_by_id_are_found_only_by_their_id() {
        let mut m: ById<u32> = ["a", "b"].into_iter().zip([1, 2]).collect();
        assert_eq!(
            (m.get("a"), m.get("b"), m.get("c")),
            (Some(&1), Some(&2), None)
        );
        m.insert("a", 3);
        assert_eq!(m.get("a"), Some(&3));
        assert_eq!(m.remove("c"), None);
        assert_eq!(m.remove("a"), Some(3));
        assert_eq!((m.get("a"), m.len()), (None, 1));
        // A key whose first hash is taken by another id is not that id's.
        let mut forged: ById<u32> = ById::new();
        forged.map.insert(id_hash("x"), (check_hash("y"), 9));
        assert_eq!(forged.get("x"), None);
        assert_eq!(forged.remove("x"), None);
    }
}
