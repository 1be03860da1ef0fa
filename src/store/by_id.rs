//! The in-memory history's entries by id hash: a table of the entries
//! alone (8 bytes a slot, where a map from hash to entry takes 16), each
//! entry's hash made again from its id when the table grows.

use super::known::id_hash;
use super::HistoryEntry;
use std::sync::Arc;

#[derive(Default)]
pub(crate) struct ById(hashbrown::HashTable<Arc<HistoryEntry>>);

fn hash_of(e: &Arc<HistoryEntry>) -> u64 {
    id_hash(&e.entry_id)
}

impl ById {
    pub(crate) fn with_capacity(n: usize) -> ById {
        ById(hashbrown::HashTable::with_capacity(n))
    }

    /// The entry whose id hashes to `h`.
    pub(crate) fn get(&self, h: u64) -> Option<&Arc<HistoryEntry>> {
        self.0.find(h, |e| hash_of(e) == h)
    }

    /// Puts `e` in (`h`: its id's hash); gives back the entry whose id had
    /// the same hash.
    pub(crate) fn insert(&mut self, h: u64, e: Arc<HistoryEntry>) -> Option<Arc<HistoryEntry>> {
        match self.0.entry(h, |x| hash_of(x) == h, hash_of) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                Some(std::mem::replace(o.get_mut(), e))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(e);
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, h: u64) -> Option<Arc<HistoryEntry>> {
        self.0
            .find_entry(h, |e| hash_of(e) == h)
            .ok()
            .map(|o| o.remove().0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_their_id_hash() {
        let e = |id: &str| {
            let text = format!(
                r#"{{"entry_id": "{id}", "timestamp": "t", "model_id": "m", "model_name": "M", "audio_file": "a"}}"#
            );
            Arc::new(serde_json::from_str::<HistoryEntry>(&text).unwrap())
        };
        let mut t = ById::with_capacity(1);
        for i in 0..100 {
            let id = format!("id{i}");
            assert!(t.insert(id_hash(&id), e(&id)).is_none());
        }
        assert_eq!(
            t.get(id_hash("id7")).map(|x| x.entry_id.as_str()),
            Some("id7")
        );
        let again = e("id7");
        assert!(t.insert(id_hash("id7"), again.clone()).is_some());
        assert!(Arc::ptr_eq(t.get(id_hash("id7")).unwrap(), &again));
        assert_eq!(
            t.remove(id_hash("id7")).map(|x| x.entry_id.clone()),
            Some("id7".into())
        );
        assert!(t.get(id_hash("id7")).is_none());
        assert!(t.remove(id_hash("nope")).is_none());
        assert_eq!(
            t.get(id_hash("id99")).map(|x| x.entry_id.as_str()),
            Some("id99")
        );
    }
}
