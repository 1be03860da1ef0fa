//! Keeping an in-memory history in step with the file without reading it
//! whole: for every entry, a hash of its id and one of its stored text
//! ([`Known`]). A reload after another program's change streams the file,
//! compares, and parses only the entries whose text is new or changed
//! ([`Delta`]); genhist's own rewrites track the same way as they write, so
//! they never need a re-read, and an entry another program slipped in
//! during the write is noticed all the same.

use super::error::StoreError;
use super::known::{Known, KnownBuilder};
use super::read::{self, IndexFile, InvalidEntry};
use super::scan::fast_hash;
use super::stream::{self, Item};
use super::HistoryEntry;
use serde_json::Value;

/// What changed between two versions of the file.
#[derive(Debug, Default)]
pub struct Delta {
    /// Id hashes of entries no longer in the file.
    pub removed: Vec<u64>,
    /// Entries new or changed (parsed; or why they cannot be used).
    pub upserts: Vec<Result<HistoryEntry, InvalidEntry>>,
    /// The file's `version` member.
    pub version: Option<Value>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.upserts.is_empty()
    }
}

/// Follows a pass over every entry of a file, against what was known.
pub(crate) struct Tracker<'k> {
    old: &'k Known,
    new: KnownBuilder,
    changed: Vec<(String, String, bool)>,
    version: Option<String>,
}

impl<'k> Tracker<'k> {
    pub(crate) fn new(old: &'k Known) -> Tracker<'k> {
        Tracker {
            old,
            new: KnownBuilder::with_capacity(old.len() + 16),
            changed: Vec::new(),
            version: None,
        }
    }

    /// An entry of the new file (`ih`: the [`super::known::id_hash`] of `id`).
    pub(crate) fn see(&mut self, id: &str, ih: u64, text: &str, nonfinite: bool) {
        let th = fast_hash(text.as_bytes());
        if self.old.text_hash(ih) != Some(th) {
            self.changed
                .push((id.to_string(), text.to_string(), nonfinite));
        }
        self.new.insert_hashed(ih, th);
    }

    /// A top-level member of the new file.
    pub(crate) fn top(&mut self, key: &str, value: &str) {
        if key == "version" {
            self.version = Some(value.to_string());
        }
    }

    pub(crate) fn finish(self) -> (Known, Delta) {
        let new = self.new.build();
        // Both in id order: one walk.
        let removed = {
            let mut ids = new.ids().peekable();
            self.old
                .ids()
                .filter(|&h| {
                    while ids.next_if(|&n| n < h).is_some() {}
                    ids.peek() != Some(&h)
                })
                .collect()
        };
        let upserts = self
            .changed
            .into_iter()
            .map(|(id, text, nf)| read::entry_from_text(id, text.as_bytes(), nf))
            .collect();
        let version = self.version.and_then(|v| serde_json::from_str(&v).ok());
        (
            new,
            Delta {
                removed,
                upserts,
                version,
            },
        )
    }
}

/// Streams the index and reports what changed since `known`; returns the
/// new [`Known`]. Memory: a read buffer plus the changed entries. When
/// `known` was gathered from the very bytes the sidecar describes and the
/// index only grew since, only the added entries are read
/// ([`super::grow::reload`]).
pub(crate) fn reload(index: &IndexFile, known: &Known) -> Result<(Known, Delta), StoreError> {
    if let Some(g) = super::grow::reload(index, known) {
        let known = known.clone().with_added(&g.added).with_origin(g.origin);
        return Ok((known, g.delta));
    }
    let mut t = Tracker::new(known);
    let Some((f, _)) = index.open()? else {
        return Ok(t.finish());
    };
    let r = stream::stream(f, |item| {
        match item {
            Item::Top { key, value } => t.top(&key, value),
            Item::Entry(e) => t.see(&e.key(), e.span.id, e.text(), e.nonfinite()),
            _ => {}
        }
        Ok::<(), std::convert::Infallible>(())
    });
    match r {
        // No whole-file hash: the sidecar does not describe what a streamed
        // reload read (loads and `list` make it), so reloads stream from
        // here until the next open.
        Ok(()) => Ok(t.finish()),
        Err(e) => match read::stream_error(index, e)? {},
    }
}
