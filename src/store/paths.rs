//! Paths from the index are untrusted. An entry's file is touched (read,
//! deleted, restored, played) only if its path
//! - is relative, not empty, with no `..` ([`RelPath::parse`]);
//! - names nothing of genhist's own: `history.json`, anything under
//!   `.genhist/`, the command history, temp files ([`RelPath::parse`]);
//! - reaches a regular file with no symlink on the way ([`locate`], which
//!   walks the real directories without following symlinks);
//! - is not the file of another entry ([`Claims`]).
//!
//! Otherwise the entry can still be deleted; that file is left alone and the
//! output says why.

use super::known::id_hash;
use crate::fsutil::{self, Dir};
use rustix::fs::FileType;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;

/// genhist's own directory inside a history directory (trash, annotations,
/// work in progress). The Python tool never looks there.
pub const GENHIST_DIR: &str = ".genhist";

/// Which of an entry's two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Audio,
    Thumbnail,
}

impl Field {
    /// The entry field that holds the path.
    pub fn name(self) -> &'static str {
        match self {
            Field::Audio => "audio_file",
            Field::Thumbnail => "thumbnail_file",
        }
    }
}

/// The directory and extension of an entry's default path for `field`.
fn default_parts(field: Field) -> (&'static str, &'static str) {
    match field {
        Field::Audio => ("audio/", ".wav"),
        Field::Thumbnail => ("thumbnails/", ".png"),
    }
}

/// True when `rel` is exactly `id`'s default path for `field`.
pub(crate) fn is_default(id: &str, field: Field, rel: &str) -> bool {
    let (dir, ext) = default_parts(field);
    rel.strip_prefix(dir).and_then(|r| r.strip_suffix(ext)) == Some(id)
}

/// `id`'s default path for `field` (`audio/<id>.wav`, `thumbnails/<id>.png`).
pub(crate) fn default_path(id: &str, field: Field) -> String {
    let (dir, ext) = default_parts(field);
    format!("{dir}{id}{ext}")
}

/// The entry and field whose default path `rel` is, if it has that shape.
fn default_owner(rel: &str) -> Option<(&str, Field)> {
    if let Some(id) = rel
        .strip_prefix("audio/")
        .and_then(|r| r.strip_suffix(".wav"))
    {
        return (!id.contains('/')).then_some((id, Field::Audio));
    }
    let id = rel
        .strip_prefix("thumbnails/")
        .and_then(|r| r.strip_suffix(".png"))?;
    (!id.contains('/')).then_some((id, Field::Thumbnail))
}

/// A path from the index that passed the checks needing no file system:
/// relative, no `..`, not genhist's own. Normalized (`./a//b` is `a/b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelPath {
    parts: Vec<String>,
}

impl RelPath {
    /// Parses `rel`, or says why genhist will not touch it.
    pub fn parse(rel: &str) -> Result<RelPath, String> {
        if rel.is_empty() {
            return Err("the path is empty".into());
        }
        if rel.contains('\0') {
            return Err("the path contains a NUL byte".into());
        }
        if rel.starts_with('/') {
            return Err("the path is absolute".into());
        }
        let mut parts = Vec::new();
        for part in rel.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err("the path contains '..'".into()),
                p => parts.push(p.to_string()),
            }
        }
        let Some(last) = parts.last() else {
            return Err("the path names the history directory itself".into());
        };
        if parts.len() == 1 && last == super::INDEX_FILE {
            return Err("it is the index, history.json".into());
        }
        if parts.len() == 1 && last == crate::command_history::DEFAULT_FILE {
            return Err("it is genhist's command history".into());
        }
        if parts[0] == GENHIST_DIR {
            return Err("it is inside .genhist/, genhist's own data".into());
        }
        if fsutil::is_temp_name(last) {
            return Err("it is a temp file of a writer".into());
        }
        Ok(RelPath { parts })
    }

    /// The directories on the way (all but the last part).
    pub(crate) fn dirs(&self) -> Vec<&str> {
        self.parts[..self.parts.len() - 1]
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// The file name.
    pub fn file(&self) -> &str {
        self.parts.last().expect("never empty")
    }
}

impl std::fmt::Display for RelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.parts.join("/"))
    }
}

/// What is at a path inside a history directory.
pub(crate) enum Located {
    /// A regular file, reached without a symlink: its directory and name.
    Present {
        parent: Dir,
        name: String,
        bytes: u64,
    },
    Missing,
    /// Something genhist will not touch there, and why.
    Refused(String),
}

/// Looks `p` up below `root`, never following a symlink.
pub(crate) fn locate(root: &Dir, p: &RelPath) -> Located {
    let parent = match root.walk(&p.dirs(), false) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Located::Missing,
        Err(e) => return Located::Refused(e.to_string()),
    };
    match parent.stat(p.file()) {
        Ok(None) => Located::Missing,
        Ok(Some(st)) if fsutil::kind(&st) == FileType::RegularFile => Located::Present {
            parent,
            name: p.file().to_string(),
            bytes: st.st_size as u64,
        },
        Ok(Some(st)) if fsutil::kind(&st) == FileType::Symlink => {
            Located::Refused("it is a symlink (genhist never follows symlinks there)".into())
        }
        Ok(Some(st)) => Located::Refused(format!(
            "it is {}, not a regular file",
            fsutil::describe_kind(fsutil::kind(&st))
        )),
        Err(e) => Located::Refused(e.to_string()),
    }
}

/// Adds up the sizes of regular files below a root, opening each directory
/// once (a million takes in `audio/` cost a million `fstatat`s, not a
/// million walks from the root).
pub(crate) struct SizeCounter {
    root: Dir,
    /// By the directories' names from the root.
    dirs: std::collections::HashMap<Vec<String>, Option<Opened>>,
}

/// A directory, and the names in it when there are few.
type Opened = (Dir, Option<HashSet<OsString>>);

/// A directory with at most this many names is listed once: a name not in
/// it is not looked up (a million takes without their files cost two
/// million failing lookups in the kernel otherwise).
const LIST_UP_TO: usize = 50_000;

impl SizeCounter {
    pub(crate) fn new(root: Dir) -> SizeCounter {
        SizeCounter {
            root,
            dirs: Default::default(),
        }
    }

    /// The size of the regular file at `p`, reached without a symlink; 0
    /// for anything else (missing, refused, another kind).
    pub(crate) fn bytes(&mut self, p: &RelPath) -> u64 {
        let names = &p.parts[..p.parts.len() - 1];
        if !self.dirs.contains_key(names) {
            let d = self.root.walk(&p.dirs(), false).ok().map(|d| {
                let listed = d.names_up_to(LIST_UP_TO).ok().flatten();
                (d, listed.map(|v| v.into_iter().collect()))
            });
            self.dirs.insert(names.to_vec(), d);
        }
        let Some((parent, listed)) = &self.dirs[names] else {
            return 0;
        };
        if listed
            .as_ref()
            .is_some_and(|l| !l.contains(std::ffi::OsStr::new(p.file())))
        {
            return 0;
        }
        match parent.stat(p.file()) {
            Ok(Some(st)) if fsutil::kind(&st) == FileType::RegularFile => st.st_size as u64,
            _ => 0,
        }
    }
}

/// The bytes of the files that `claims` lets each entry use, given as
/// (id, path as stored) below `dir`; each directory is opened once.
pub(crate) fn claimed_bytes<'a, R: AsRef<str>>(
    dir: &std::path::Path,
    claims: &Claims,
    files: impl Iterator<Item = (&'a str, R)>,
) -> u64 {
    let Ok(root) = Dir::open(dir) else {
        return 0;
    };
    let mut sizes = SizeCounter::new(root);
    files
        .filter_map(|(id, rel)| claims.check(id, rel.as_ref()).ok())
        .map(|p| sizes.bytes(&p))
        .sum()
}

/// Which entries refer to which files, for the rule that an entry never
/// touches the file of another entry. A file belongs to the entry whose
/// default path it is (`audio/<id>.wav`) when that entry refers to it;
/// otherwise to the one entry that refers to it; a file several entries
/// refer to, none of them by default, belongs to none.
#[derive(Debug, Default)]
pub struct Claims {
    keys: HashSet<u64>,
    /// Entries (and fields) whose path is not their default one.
    off_default: HashSet<(u64, Field)>,
    /// Normalized non-default paths and who refers to them.
    nondefault: HashMap<String, Vec<String>>,
}

impl Claims {
    /// Records an entry's two paths as stored (`None`: no such string field).
    pub fn add(&mut self, id: &str, audio: Option<&str>, thumbnail: Option<&str>) {
        let h = id_hash(id);
        self.keys.insert(h);
        for (field, value) in [(Field::Audio, audio), (Field::Thumbnail, thumbnail)] {
            match value {
                Some(v) if is_default(id, field, v) => {}
                other => {
                    self.off_default.insert((h, field));
                    if let Some(Ok(p)) = other.map(RelPath::parse) {
                        let list = self.nondefault.entry(p.to_string()).or_default();
                        if !list.iter().any(|x| x == id) {
                            list.push(id.to_string());
                        }
                    }
                }
            }
        }
    }

    /// Takes in the claims of the entries after those recorded here (as
    /// if they were added in turn).
    pub(crate) fn extend(&mut self, later: Claims) {
        self.keys.extend(later.keys);
        self.off_default.extend(later.off_default);
        for (path, ids) in later.nondefault {
            let list = self.nondefault.entry(path).or_default();
            for id in ids {
                if !list.contains(&id) {
                    list.push(id);
                }
            }
        }
    }

    /// Records an entry whose two paths are the default ones.
    pub(crate) fn add_default(&mut self, id: &str) {
        self.keys.insert(id_hash(id));
    }

    /// Forgets an entry recorded by [`Claims::add`] (with the same paths).
    pub fn remove(&mut self, id: &str, audio: Option<&str>, thumbnail: Option<&str>) {
        let h = id_hash(id);
        self.keys.remove(&h);
        for (field, value) in [(Field::Audio, audio), (Field::Thumbnail, thumbnail)] {
            self.off_default.remove(&(h, field));
            if let Some(Ok(p)) = value.map(RelPath::parse) {
                let key = p.to_string();
                if let Some(list) = self.nondefault.get_mut(&key) {
                    list.retain(|x| x != id);
                    if list.is_empty() {
                        self.nondefault.remove(&key);
                    }
                }
            }
        }
    }

    /// `rel`, one of entry `id`'s paths, under every rule that needs no
    /// file system: parsed ([`RelPath::parse`]) and not another entry's file.
    pub fn check(&self, id: &str, rel: &str) -> Result<RelPath, String> {
        let p = RelPath::parse(rel)?;
        match self.conflict(id, &p, &|_| false) {
            Some(why) => Err(why),
            None => Ok(p),
        }
    }

    /// The directories (relative to the history directory, as components)
    /// that hold takes' files: `audio` and `thumbnails`, and those of every
    /// path that is not a default one.
    pub(crate) fn dirs(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        if !self.keys.is_empty() {
            out.push(vec!["audio".into()]);
            out.push(vec!["thumbnails".into()]);
        }
        for p in self.nondefault.keys() {
            if let Ok(rel) = RelPath::parse(p) {
                let d: Vec<String> = rel.dirs().iter().map(|s| s.to_string()).collect();
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
        out
    }

    /// Why entry `id` may not touch `p`: it is another entry's file.
    /// `leaving` says which ids go with it (their files are not in the way).
    pub(crate) fn conflict(
        &self,
        id: &str,
        p: &RelPath,
        leaving: &dyn Fn(&str) -> bool,
    ) -> Option<String> {
        let s = p.to_string();
        if is_default(id, Field::Audio, &s) || is_default(id, Field::Thumbnail, &s) {
            return None;
        }
        if let Some((owner, field)) = default_owner(&s) {
            let h = id_hash(owner);
            if owner != id
                && self.keys.contains(&h)
                && !self.off_default.contains(&(h, field))
                && !leaving(owner)
            {
                return Some(format!("it is the file of entry {owner}"));
            }
        }
        let others = self.nondefault.get(&s)?;
        others
            .iter()
            .find(|x| *x != id && !leaving(x))
            .map(|x| format!("entry {x} refers to it too"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_regular_files_only_listed_or_not() {
        let t = tempfile::tempdir().unwrap();
        let audio = t.path().join("audio");
        std::fs::create_dir(&audio).unwrap();
        std::fs::write(audio.join("a.wav"), [0u8; 100]).unwrap();
        std::fs::write(t.path().join("outside.wav"), [0u8; 7]).unwrap();
        std::os::unix::fs::symlink(t.path().join("outside.wav"), audio.join("link.wav")).unwrap();
        std::fs::create_dir(audio.join("dir.wav")).unwrap();
        let mut sizes = SizeCounter::new(Dir::open(t.path()).unwrap());
        let p = |s: &str| RelPath::parse(s).unwrap();
        assert_eq!(sizes.bytes(&p("audio/a.wav")), 100);
        assert_eq!(sizes.bytes(&p("audio/link.wav")), 0, "a symlink");
        assert_eq!(sizes.bytes(&p("audio/dir.wav")), 0, "a directory");
        assert_eq!(sizes.bytes(&p("audio/gone.wav")), 0, "missing");
        assert_eq!(sizes.bytes(&p("thumbnails/x.png")), 0, "no such directory");
        // A directory of more names than are listed: each name looked up.
        let d = Dir::open(&audio).unwrap();
        assert_eq!(d.names_up_to(4).unwrap().map(|v| v.len()), Some(3));
        assert_eq!(d.names_up_to(2).unwrap(), None);
    }

    #[test]
    fn static_checks_refuse_what_genhist_must_not_touch() {
        assert_eq!(
            RelPath::parse("./audio//a.wav").unwrap().to_string(),
            "audio/a.wav"
        );
        for (bad, why) in [
            ("", "empty"),
            ("/etc/passwd", "absolute"),
            ("../x.wav", ".."),
            ("audio/../../x.wav", ".."),
            ("history.json", "index"),
            ("./history.json", "index"),
            (".genhist/trash/x/files/0", ".genhist"),
            (".genhist_history", "command history"),
            (".", "directory itself"),
            (
                ".history.json.12.0123456789abcdef0123456789abcdef.tmp",
                "temp",
            ),
        ] {
            let e = RelPath::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_file_belongs_to_one_entry() {
        let mut c = Claims::default();
        c.add("a", Some("audio/a.wav"), Some("thumbnails/a.png"));
        // b points at a's WAV; c and d share a file none of them owns by default.
        c.add("b", Some("audio/a.wav"), Some("thumbnails/b.png"));
        c.add("c", Some("shared.wav"), None);
        c.add("d", Some("shared.wav"), None);
        c.add("e", Some("own.wav"), None);
        let p = |s: &str| RelPath::parse(s).unwrap();
        let none = |_: &str| false;
        assert_eq!(c.conflict("a", &p("audio/a.wav"), &none), None);
        assert!(c
            .conflict("b", &p("audio/a.wav"), &none)
            .unwrap()
            .contains("entry a"));
        assert!(c
            .conflict("c", &p("shared.wav"), &none)
            .unwrap()
            .contains("entry d"));
        assert_eq!(c.conflict("c", &p("shared.wav"), &|x| x == "d"), None);
        assert_eq!(c.conflict("e", &p("own.wav"), &none), None);
        // An entry whose own path moved elsewhere no longer claims its default.
        let mut c2 = Claims::default();
        c2.add("x", Some("elsewhere.wav"), None);
        c2.add("y", Some("audio/x.wav"), None);
        assert_eq!(c2.conflict("y", &p("audio/x.wav"), &none), None);
    }
}
