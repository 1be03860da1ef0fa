//! Rewriting `history.json` as a stream: what genhist does not change (every
//! other entry, every top-level member) is copied as the exact text it had,
//! and the layout between members is Python's `json.dump(indent=2)`. Memory
//! is a read buffer, whatever the size of the file.

use super::error::StoreError;
use super::filehash::{ContentHash, FileHash, Hashing};
use super::follow::Follow;
use super::known::Known;
use super::paths::Claims;
use super::pyjson;
use super::read::{self, IndexFile, SUPPORTED_VERSION};
use super::reload::{Delta, Tracker};
use super::stream::{self, EntryRef, Item};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, Seek, Write};

/// An entry taken out of the index: its key, stored text and place among the
/// entries, enough to put it back byte for byte.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RemovedEntry {
    pub position: usize,
    pub id: String,
    pub text: String,
}

/// Which entries a rewrite takes out.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Exactly these keys; keys not in the index are skipped.
    Ids(Vec<String>),
    /// Each a full id or a unique prefix of 4+ characters (ASCII case
    /// ignored), which must match; else nothing is written.
    Selectors(Vec<String>),
}

/// What a rewrite changes.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub remove: Option<Selection>,
    /// Entries put back where they were; ids in the index are left alone.
    pub restore: Vec<RemovedEntry>,
    /// New entries (id, stored text), appended; one with the same id is
    /// replaced where it stands.
    pub append: Vec<(String, String)>,
    /// What the caller's memory holds: when given, the outcome says how the
    /// new file differs from it (see `reload`).
    pub track: Option<std::sync::Arc<Known>>,
}

impl Plan {
    /// After a first pass: the same change by exact ids, so a retry over a
    /// file another program changed takes out the same entries.
    pub(crate) fn freeze(&mut self, outcome: &Outcome) {
        if self.remove.is_some() {
            let ids = outcome.removed.iter().map(|r| r.id.clone()).collect();
            self.remove = Some(Selection::Ids(ids));
        }
    }
}

/// What a rewrite did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub removed: Vec<RemovedEntry>,
    /// Ids of the plan's `restore` that went back.
    pub restored: Vec<String>,
    /// Ids of the plan's `restore` the index already had (left as they were).
    pub already_present: Vec<String>,
    /// Who refers to which files, over every entry of the old index.
    pub claims: Claims,
    /// Entries in the new index.
    pub entries: usize,
    /// With [`Plan::track`]: what the new file holds, and how it differs.
    pub tracked: Option<(Known, Delta)>,
    /// What carries the sidecar over to the new file, when it was the old
    /// file's.
    pub(crate) follow: Option<Followed>,
}

/// What a rewrite noted to carry the sidecar over ([`Follow`]), with the
/// whole-file hashes of what it read and wrote.
pub(crate) struct Followed {
    follow: Follow,
    read: FileHash,
    written: FileHash,
}

impl Followed {
    /// Checks the old file and places the entries written anew, before the
    /// new file goes in place ([`Follow::prepare`]); false: not carried over.
    pub(crate) fn prepare(&mut self) -> bool {
        self.follow.prepare(&self.read)
    }

    /// Writes the new file's sidecar once the file (`out`) is in place;
    /// gives the new file as a store's knowledge keeps it, when it did.
    pub(crate) fn finish(self, out: &File) -> Option<super::grow::Origin> {
        self.follow.finish(self.written, out)
    }
}

impl std::fmt::Debug for Followed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Followed")
    }
}

impl Outcome {
    /// False when the new index would equal the old one.
    pub fn changed(&self, plan: &Plan) -> bool {
        !self.removed.is_empty() || !self.restored.is_empty() || !plan.append.is_empty()
    }
}

/// The writer under a rewrite: counts what was written (where each entry
/// goes) and, while the sidecar is followed, hashes it.
struct Counting<'w> {
    w: &'w mut dyn Write,
    n: u64,
    hash: Option<ContentHash>,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.w.write(buf)?;
        self.n += k as u64;
        if let Some(h) = &mut self.hash {
            h.feed(&buf[..k]);
        }
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Python's layout between members.
struct Layout<'w, 'k> {
    w: Counting<'w>,
    members: usize,
    entries: usize,
    key: String,
    /// Follows what is written (see [`Plan::track`]).
    tracker: Option<Tracker<'k>>,
    /// Notes what moved, for the sidecar ([`Follow`]).
    follow: Option<Follow>,
}

impl Layout<'_, '_> {
    fn write_key(&mut self, key: &str) -> io::Result<()> {
        self.key.clear();
        pyjson::write_str(&mut self.key, key);
        self.w.write_all(self.key.as_bytes())
    }

    fn member(&mut self, key: &str) -> io::Result<()> {
        self.w
            .write_all(if self.members > 0 { b",\n  " } else { b"\n  " })?;
        self.members += 1;
        self.write_key(key)?;
        self.w.write_all(b": ")
    }

    fn top(&mut self, key: &str, raw: &str) -> io::Result<()> {
        if let Some(t) = &mut self.tracker {
            t.top(key, raw);
        }
        if let Some(f) = &mut self.follow {
            f.member();
        }
        self.member(key)?;
        self.w.write_all(raw.as_bytes())
    }

    fn entries_open(&mut self) -> io::Result<()> {
        self.member("entries")?;
        self.entries = 0;
        self.w.write_all(b"{")
    }

    /// Writes an entry (its key as `raw_key` says, with its quotes, when
    /// given: as it was in the old file); gives where its key's opening
    /// quote and its value went.
    fn entry(&mut self, key: &str, raw_key: Option<&str>, raw: &str) -> io::Result<(u64, u64)> {
        if let Some(t) = &mut self.tracker {
            // Entries written by genhist may hold NaN too: the parse checks.
            t.see(key, super::known::id_hash(key), raw, true);
        }
        self.w.write_all(if self.entries > 0 {
            b",\n    "
        } else {
            b"\n    "
        })?;
        self.entries += 1;
        let key_at = self.w.n;
        match raw_key {
            Some(k) => self.w.write_all(k.as_bytes())?,
            None => self.write_key(key)?,
        }
        self.w.write_all(b": ")?;
        let value_at = self.w.n;
        self.w.write_all(raw.as_bytes())?;
        Ok((key_at, value_at))
    }

    /// An entry of the old file (`key` its key), as it was: its key too is
    /// written as it was (a key Python would read otherwise once written
    /// again, such as one with a lone surrogate escape, stays as it is).
    fn copy(&mut self, key: &str, e: &EntryRef<'_>) -> io::Result<()> {
        let (key_at, value_at) = self.entry(key, Some(e.raw_key()), e.text())?;
        if let Some(f) = &mut self.follow {
            f.copied(e, key_at, value_at);
        }
        Ok(())
    }

    /// An entry written anew (restored, added, or replacing one).
    fn add(&mut self, key: &str, text: &str) -> io::Result<()> {
        let (key_at, value_at) = self.entry(key, None, text)?;
        if let Some(f) = &mut self.follow {
            f.added(&self.key, text, key_at, value_at);
        }
        Ok(())
    }

    /// An entry of the old file left out.
    fn leave_out(&mut self, e: &EntryRef<'_>) {
        if let Some(f) = &mut self.follow {
            f.dropped(e);
        }
    }

    fn entries_close(&mut self) -> io::Result<()> {
        if let (Some(f), Some(h)) = (&mut self.follow, &self.w.hash) {
            f.entries_closed(self.w.n, h.partial());
        }
        self.w
            .write_all(if self.entries == 0 { b"}" } else { b"\n  }" })
    }
}

/// Why a pass must be run again, with what it learned.
enum Again {
    /// Prefixes resolved to these exact ids.
    Ids(Vec<String>),
    /// These ids to restore turned up in the index after they were written.
    SkipRestore(Vec<String>),
}

enum PassError {
    Store(StoreError),
    Again(Again),
}

impl From<StoreError> for PassError {
    fn from(e: StoreError) -> Self {
        PassError::Store(e)
    }
}

/// Writes the index read from `source` (`None`: there is no file yet)
/// changed as `plan` says, into `out`; the caller syncs and renames it.
pub fn rewrite(
    index: &IndexFile,
    mut source: Option<&mut File>,
    out: &mut crate::fsutil::TempFile,
    plan: &Plan,
) -> Result<Outcome, StoreError> {
    // The plan as given until a pass asks for exact ids (then a copy: the
    // plan may hold a million added texts, never copied otherwise).
    let mut plan = std::borrow::Cow::Borrowed(plan);
    let mut skip: HashSet<String> = HashSet::new();
    // At most: the first pass, one with exact ids, one without restore conflicts.
    for _ in 0..4 {
        if let Some(src) = source.as_deref_mut() {
            src.rewind()
                .map_err(|e| StoreError::io("read", index.path(), e))?;
        }
        out.reset()
            .map_err(|e| StoreError::io("write", index.path(), e))?;
        let mut result = None;
        out.write_with(|w| {
            result = Some(pass(index, source.as_deref_mut(), w, &plan, &skip));
            Ok(())
        })
        .map_err(|e| StoreError::io("write", index.path(), e))?;
        match result.expect("the pass ran") {
            Ok(outcome) => return Ok(outcome),
            Err(PassError::Store(e)) => return Err(e),
            Err(PassError::Again(Again::Ids(ids))) => {
                plan.to_mut().remove = Some(Selection::Ids(ids))
            }
            Err(PassError::Again(Again::SkipRestore(ids))) => skip.extend(ids),
        }
    }
    Err(StoreError::KeepsChanging {
        path: index.path().to_path_buf(),
    })
}

fn pass(
    index: &IndexFile,
    source: Option<&mut File>,
    w: &mut dyn Write,
    plan: &Plan,
    skip_restore: &HashSet<String>,
) -> Result<Outcome, PassError> {
    let path = index.path();
    let werr = |e: io::Error| PassError::Store(StoreError::io("write", path, e));
    // The sidecar is followed when it is the old file's; both files are
    // then hashed as they are read and written.
    let follow = match (&source, index.path().parent()) {
        (Some(src), Some(dir)) => Follow::start(dir, src),
        _ => None,
    };
    let mut read_hash = follow.is_some().then(ContentHash::new);
    let mut out = Layout {
        w: Counting {
            w,
            n: 0,
            hash: follow.is_some().then(ContentHash::new),
        },
        members: 0,
        entries: 0,
        key: String::new(),
        tracker: plan.track.as_deref().map(Tracker::new),
        follow,
    };
    let mut outcome = Outcome::default();
    let exact: HashSet<&str> = match &plan.remove {
        Some(Selection::Ids(ids)) => ids.iter().map(String::as_str).collect(),
        _ => HashSet::new(),
    };
    let selectors: Vec<(&str, String)> = match &plan.remove {
        Some(Selection::Selectors(s)) => s
            .iter()
            .map(|x| (x.as_str(), x.to_ascii_lowercase()))
            .collect(),
        _ => Vec::new(),
    };
    let is_candidate = |key: &str| -> bool {
        exact.contains(key)
            || selectors.iter().any(|(sel, lower)| {
                key == *sel
                    || (sel.chars().count() >= 4
                        && key.len() >= lower.len()
                        && key.is_char_boundary(lower.len())
                        && key[..lower.len()].eq_ignore_ascii_case(lower))
            })
    };
    let mut restores: VecDeque<&RemovedEntry> = {
        let mut v: Vec<_> = plan
            .restore
            .iter()
            .filter(|r| !skip_restore.contains(&r.id))
            .collect();
        v.sort_by_key(|r| r.position);
        v.into()
    };
    let mut restored_early: Vec<String> = Vec::new();
    let mut conflicts: Vec<String> = Vec::new();
    // Looked up for every entry of the file: sets, not scans of the plan.
    let restore_ids: HashSet<&str> = plan.restore.iter().map(|r| r.id.as_str()).collect();
    let append_text: HashMap<&str, &str> = plan
        .append
        .iter()
        .map(|(id, text)| (id.as_str(), text.as_str()))
        .collect();
    let mut appended: HashSet<&str> = HashSet::new();
    let mut version: Option<String> = None;
    let mut seen_keys: HashSet<String> = HashSet::new();

    out.w.write_all(b"{").map_err(werr)?;
    // Puts back the restores whose place has come: those at or before the
    // next position in the new list (or all of them, at the end).
    let emit_restores = |out: &mut Layout<'_, '_>,
                         restores: &mut VecDeque<&RemovedEntry>,
                         all: bool,
                         present: &HashSet<String>,
                         done: &mut Vec<String>|
     -> io::Result<()> {
        while let Some(r) = restores.front() {
            if !all && r.position > out.entries {
                break;
            }
            let r = restores.pop_front().expect("front exists");
            if present.contains(&r.id) {
                continue;
            }
            out.add(&r.id, &r.text)?;
            done.push(r.id.clone());
        }
        Ok(())
    };
    // The end of `entries`: the restores still due, then the appends not
    // written in place of an entry of the same id.
    let close_entries = |out: &mut Layout<'_, '_>,
                         restores: &mut VecDeque<&RemovedEntry>,
                         present: &HashSet<String>,
                         done: &mut Vec<String>,
                         appended: &HashSet<&str>|
     -> io::Result<()> {
        emit_restores(out, restores, true, present, done)?;
        for (id, text) in &plan.append {
            if !appended.contains(id.as_str()) {
                out.add(id, text)?;
            }
        }
        out.entries_close()
    };

    match source {
        None => {
            out.top("version", "1").map_err(werr)?;
            out.entries_open().map_err(werr)?;
            close_entries(
                &mut out,
                &mut restores,
                &seen_keys,
                &mut restored_early,
                &appended,
            )
            .map_err(werr)?;
            version = Some("1".into());
        }
        Some(src) => {
            let reader = Hashing {
                f: src,
                hash: read_hash.as_mut(),
            };
            let result = stream::stream(reader, |item| -> Result<(), PassError> {
                match item {
                    Item::Top { key, value } => {
                        if key == "version" {
                            version = Some(value.to_string());
                        }
                        out.top(&key, value).map_err(werr)?;
                    }
                    Item::EntriesStart => out.entries_open().map_err(werr)?,
                    Item::Entry(e) => {
                        let key = e.key();
                        outcome.claims.add(
                            &key,
                            e.audio_file().as_deref(),
                            e.thumbnail_file().as_deref(),
                        );
                        if restore_ids.contains(&*key) {
                            if restored_early.iter().any(|r| *r == key) {
                                // Written already, and here it is again.
                                conflicts.push(key.to_string());
                            }
                            seen_keys.insert(key.to_string());
                        }
                        if is_candidate(&key) {
                            outcome.removed.push(RemovedEntry {
                                position: e.position,
                                id: key.into_owned(),
                                text: e.text().to_string(),
                            });
                            out.leave_out(&e);
                            return Ok(());
                        }
                        emit_restores(
                            &mut out,
                            &mut restores,
                            false,
                            &seen_keys,
                            &mut restored_early,
                        )
                        .map_err(werr)?;
                        match append_text.get_key_value(&*key) {
                            Some((id, text)) => {
                                appended.insert(id);
                                out.leave_out(&e);
                                out.add(&key, text).map_err(werr)?;
                            }
                            None => out.copy(&key, &e).map_err(werr)?,
                        }
                    }
                    Item::EntriesEnd => close_entries(
                        &mut out,
                        &mut restores,
                        &seen_keys,
                        &mut restored_early,
                        &appended,
                    )
                    .map_err(werr)?,
                }
                Ok(())
            });
            if let Err(e) = result {
                return Err(read::stream_error(index, e)?);
            }
        }
    }
    out.w.write_all(b"\n}").map_err(werr)?;

    let v = version.as_deref().map(str::trim);
    if v.and_then(|v| v.parse::<i64>().ok()) != Some(SUPPORTED_VERSION) {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: v.unwrap_or("missing").to_string(),
        }
        .into());
    }
    if !conflicts.is_empty() {
        return Err(PassError::Again(Again::SkipRestore(conflicts)));
    }
    if !selectors.is_empty() {
        let chosen = resolve(&selectors, &outcome.removed)?;
        if chosen.len() != outcome.removed.len() {
            return Err(PassError::Again(Again::Ids(chosen)));
        }
    }
    outcome.restored = restored_early;
    outcome.already_present = plan
        .restore
        .iter()
        .filter(|r| seen_keys.contains(&r.id) || skip_restore.contains(&r.id))
        .map(|r| r.id.clone())
        .collect();
    outcome.entries = out.entries;
    outcome.tracked = out.tracker.take().map(Tracker::finish);
    outcome.follow = match (out.follow.take(), read_hash, out.w.hash.take()) {
        (Some(follow), Some(read), Some(written)) => Some(Followed {
            follow,
            read: read.finish(),
            written: written.finish(),
        }),
        _ => None,
    };
    Ok(outcome)
}

/// Resolves each selector among the candidate entries (the one lookup rule
/// of genhist: an exact id, else a unique prefix of 4+ characters); returns
/// the chosen ids, one per candidate entry chosen.
fn resolve(
    selectors: &[(&str, String)],
    candidates: &[RemovedEntry],
) -> Result<Vec<String>, StoreError> {
    let mut chosen: HashSet<&str> = HashSet::new();
    for (sel, _) in selectors {
        let keys = candidates
            .iter()
            .map(|c| std::borrow::Cow::Borrowed(c.id.as_str()));
        let full = super::match_id(keys, sel)?;
        let full = candidates
            .iter()
            .find(|c| c.id == full)
            .map(|c| c.id.as_str())
            .ok_or_else(|| StoreError::NotFound(sel.to_string()))?;
        chosen.insert(full);
    }
    Ok(candidates
        .iter()
        .filter(|c| chosen.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::{Dir, TempFile};

    const PY: &str = r#"{
  "version": 1,
  "entries": {
    "aaaa1111": {
      "entry_id": "aaaa1111",
      "x": NaN
    },
    "aaaa2222": {
      "entry_id": "aaaa2222"
    },
    "bbbb": {
      "entry_id": "bbbb"
    }
  },
  "future": {
    "k": [
      1
    ]
  }
}"#;

    fn run(text: Option<&str>, plan: &Plan) -> Result<(String, Outcome), StoreError> {
        let t = tempfile::tempdir().unwrap();
        if let Some(text) = text {
            std::fs::write(t.path().join("history.json"), text).unwrap();
        }
        let index = read::locate_index(t.path()).unwrap();
        let d = Dir::open(t.path()).unwrap();
        let mut tmp = TempFile::create(&d, "history.json", None).unwrap();
        let mut src = index.open().unwrap().map(|(f, _)| f);
        let outcome = rewrite(&index, src.as_mut(), &mut tmp, plan)?;
        let out = std::fs::read_to_string(t.path().join(tmp.name())).unwrap();
        Ok((out, outcome))
    }

    #[test]
    fn an_unchanged_rewrite_is_byte_identical() {
        let (out, o) = run(Some(PY), &Plan::default()).unwrap();
        assert_eq!(out, PY);
        assert_eq!(o.entries, 3);
    }

    /// A kept entry's key is written as it was, escapes and all: one that
    /// cannot be decoded (a lone surrogate, which Python's `json.dump`
    /// writes for such a string) or is escaped otherwise than genhist
    /// would write it reads as the same id in Python afterwards.
    #[test]
    fn kept_keys_are_written_as_they_were() {
        let text = "{\n  \"version\": 1,\n  \"entries\": {\n    \"a\\ud800\": {\"entry_id\": \"a\"},\n    \
                    \"t\\u0041\\/\": {},\n    \"zz\": {}\n  }\n}";
        let plan = Plan {
            remove: Some(Selection::Ids(vec!["zz".into()])),
            ..Plan::default()
        };
        let (out, o) = run(Some(text), &plan).unwrap();
        assert_eq!(o.removed.len(), 1);
        let want = "{\n  \"version\": 1,\n  \"entries\": {\n    \"a\\ud800\": {\"entry_id\": \"a\"},\n    \
                    \"t\\u0041\\/\": {}\n  }\n}";
        assert_eq!(out, want);
    }

    #[test]
    fn remove_and_restore_round_trip_byte_for_byte() {
        let plan = Plan {
            remove: Some(Selection::Ids(vec!["aaaa1111".into(), "bbbb".into()])),
            ..Plan::default()
        };
        let (out, o) = run(Some(PY), &plan).unwrap();
        assert_eq!(o.removed.len(), 2);
        assert_eq!(o.removed[0].position, 0);
        assert!(o.removed[0].text.contains("NaN"));
        assert!(!out.contains("aaaa1111") && !out.contains("bbbb"));
        assert!(out.contains("\"future\": {\n    \"k\": [\n      1\n    ]\n  }"));
        let back = Plan {
            restore: o.removed.clone(),
            ..Plan::default()
        };
        let (again, o2) = run(Some(&out), &back).unwrap();
        assert_eq!(again, PY);
        assert_eq!(o2.restored, ["aaaa1111", "bbbb"]);
    }

    #[test]
    fn neighbours_removed_together_come_back_in_order() {
        for ids in [
            &["aaaa1111", "aaaa2222"][..],
            &["aaaa2222", "bbbb"],
            &["aaaa1111", "aaaa2222", "bbbb"],
        ] {
            let plan = Plan {
                remove: Some(Selection::Ids(ids.iter().map(|x| x.to_string()).collect())),
                ..Plan::default()
            };
            let (out, o) = run(Some(PY), &plan).unwrap();
            let back = Plan {
                restore: o.removed.clone(),
                ..Plan::default()
            };
            assert_eq!(run(Some(&out), &back).unwrap().0, PY, "{ids:?}");
        }
    }

    #[test]
    fn prefixes_resolve_or_change_nothing() {
        let sel = |s: &[&str]| Plan {
            remove: Some(Selection::Selectors(
                s.iter().map(|x| x.to_string()).collect(),
            )),
            ..Plan::default()
        };
        let (_, o) = run(Some(PY), &sel(&["AAAA2"])).unwrap();
        assert_eq!(
            o.removed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["aaaa2222"]
        );
        assert!(matches!(
            run(Some(PY), &sel(&["aaaa"])),
            Err(StoreError::Ambiguous { .. })
        ));
        assert!(matches!(
            run(Some(PY), &sel(&["aaa"])),
            Err(StoreError::PrefixTooShort(_))
        ));
        assert!(matches!(
            run(Some(PY), &sel(&["cccc"])),
            Err(StoreError::NotFound(_))
        ));
        // An exact id wins over the prefix it also is: the second pass keeps the rest.
        let text = PY.replace("\"bbbb\"", "\"aaaa\"");
        let (out, o) = run(Some(&text), &sel(&["aaaa"])).unwrap();
        assert_eq!(
            o.removed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["aaaa"]
        );
        assert!(out.contains("aaaa1111") && out.contains("aaaa2222"));
    }

    #[test]
    fn append_to_nothing_writes_the_seed_layout() {
        let plan = Plan {
            append: vec![("n1".into(), "{\n      \"entry_id\": \"n1\"\n    }".into())],
            ..Plan::default()
        };
        let (out, _) = run(None, &plan).unwrap();
        assert_eq!(
            out,
            "{\n  \"version\": 1,\n  \"entries\": {\n    \"n1\": {\n      \"entry_id\": \"n1\"\n    }\n  }\n}"
        );
    }

    #[test]
    fn a_restore_whose_id_came_back_is_left_alone() {
        let plan = Plan {
            restore: vec![RemovedEntry {
                position: 0,
                id: "bbbb".into(),
                text: "{\"old\": true}".into(),
            }],
            ..Plan::default()
        };
        let (out, o) = run(Some(PY), &plan).unwrap();
        assert_eq!(out, PY);
        assert_eq!(o.already_present, ["bbbb"]);
        assert!(o.restored.is_empty());
    }

    #[test]
    fn other_versions_and_broken_files_are_refused() {
        let v2 = PY.replace("\"version\": 1", "\"version\": 2");
        assert!(matches!(
            run(Some(&v2), &Plan::default()),
            Err(StoreError::UnsupportedVersion { .. })
        ));
        let broken = &PY[..PY.len() - 10];
        assert!(matches!(
            run(Some(broken), &Plan::default()),
            Err(StoreError::CorruptIndex { .. })
        ));
    }
}
