//! The seed's HistoryManager notes and examples, plus genhist's improvements.

mod common;

use genhist::command_history::{CommandHistory, DEFAULT_FILE};
use proptest::prelude::*;
use std::fs;

fn fresh() -> (tempfile::TempDir, CommandHistory) {
    let t = tempfile::tempdir().unwrap();
    let h = CommandHistory::new(t.path(), DEFAULT_FILE, 1000);
    (t, h)
}

#[test]
fn seed_file_format_example_round_trips() {
    let (t, mut h) = fresh();
    for c in [
        "list skills",
        "/read equipment",
        "create a tskill called inventory",
        "/generate equipment",
        "history",
    ] {
        h.add(c);
    }
    let text = fs::read_to_string(t.path().join(".genhist_history")).unwrap();
    assert_eq!(text, "list skills\n/read equipment\ncreate a tskill called inventory\n/generate equipment\nhistory\n");
    let again = CommandHistory::new(t.path(), DEFAULT_FILE, 1000);
    assert_eq!(again.all(), h.all());
    assert_eq!(again.path(), t.path().join(".genhist_history"));
}

#[test]
fn add_trims_ignores_empty_and_consecutive_duplicates() {
    let (_t, mut h) = fresh();
    h.add("  filter model=x  ");
    h.add("   ");
    h.add("");
    h.add("filter model=x");
    h.add("sort oldest");
    h.add("filter model=x");
    assert_eq!(h.all(), ["filter model=x", "sort oldest", "filter model=x"]);
    assert_eq!(h.len(), 3);
    assert_eq!(h.get(1), Some("sort oldest"));
    assert_eq!(h.get(3), None);
}

#[test]
fn navigation_follows_the_minus_one_convention() {
    let (_t, mut h) = fresh();
    assert_eq!(
        h.previous(),
        None,
        "previous on empty history gives nothing"
    );
    assert_eq!(h.next(), None);
    h.add("a");
    h.add("b");
    h.add("c");
    assert_eq!(h.next(), None, "next from new input gives nothing");
    assert_eq!(h.previous().as_deref(), Some("c"));
    assert_eq!(h.previous().as_deref(), Some("b"));
    assert_eq!(h.previous().as_deref(), Some("a"));
    assert_eq!(h.previous().as_deref(), Some("a"), "stays at the oldest");
    assert_eq!(h.next().as_deref(), Some("b"));
    assert_eq!(h.next().as_deref(), Some("c"));
    assert_eq!(h.next(), None, "past the newest returns to new input");
    assert_eq!(
        h.previous().as_deref(),
        Some("c"),
        "and starts from the newest again"
    );
    h.reset_navigation();
    assert_eq!(h.previous().as_deref(), Some("c"));
    h.add("d");
    assert_eq!(h.previous().as_deref(), Some("d"), "add resets navigation");
}

#[test]
fn recent_and_search_are_newest_first_with_1_based_indices() {
    let (_t, mut h) = fresh();
    for c in [
        "filter model=Pads",
        "sort oldest",
        "FILTER seed=4",
        "goto abcd",
        "filter preset=warm",
    ] {
        h.add(c);
    }
    assert_eq!(
        h.recent(2),
        [
            (5, "filter preset=warm".to_string()),
            (4, "goto abcd".to_string())
        ]
    );
    assert_eq!(h.recent(10).len(), 5);
    let found = h.search("filter", 2);
    assert_eq!(
        found,
        [
            (5, "filter preset=warm".to_string()),
            (3, "FILTER seed=4".to_string())
        ]
    );
    assert_eq!(h.search("PADS", 10), [(1, "filter model=Pads".to_string())]);
    assert!(h.search("nothing", 10).is_empty());
}

#[test]
fn all_returns_a_copy_and_clear_writes_an_empty_file() {
    let (t, mut h) = fresh();
    h.add("x");
    let mut copy = h.all();
    copy.push("y".into());
    assert_eq!(h.all(), ["x"]);
    h.clear();
    assert!(h.is_empty());
    assert_eq!(fs::read(t.path().join(".genhist_history")).unwrap(), b"");
}

#[test]
fn max_entries_caps_on_add_and_trims_on_load() {
    let t = tempfile::tempdir().unwrap();
    let mut h = CommandHistory::new(t.path(), "h", 3);
    for c in ["1", "2", "3", "4", "5"] {
        h.add(c);
    }
    assert_eq!(h.all(), ["3", "4", "5"]);
    fs::write(t.path().join("h"), "a\n\n  \nb\nc\nd\ne\n").unwrap();
    let h = CommandHistory::new(t.path(), "h", 2);
    assert_eq!(h.all(), ["d", "e"], "blank lines dropped, trimmed on load");
    assert_eq!(
        fs::read_to_string(t.path().join("h")).unwrap(),
        "d\ne\n",
        "and saved back"
    );
}

#[test]
fn pasted_newlines_and_control_characters_become_one_line() {
    let (t, mut h) = fresh();
    h.add("filter model=x\nsort oldest\r\n\x1b[31mred\x07");
    assert_eq!(h.all(), ["filter model=x sort oldest  [31mred"]);
    assert_eq!(
        fs::read_to_string(t.path().join(".genhist_history"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn prefix_recall_finds_only_matching_commands() {
    let (_t, mut h) = fresh();
    for c in [
        "filter model=a",
        "sort seed",
        "filter preset=b",
        "stats",
        "filter preset=b",
    ] {
        h.add(c);
    }
    assert_eq!(
        h.previous_matching("filter").as_deref(),
        Some("filter preset=b")
    );
    assert_eq!(
        h.previous_matching("filter").as_deref(),
        Some("filter model=a"),
        "skips the repeat"
    );
    assert_eq!(h.previous_matching("filter"), None, "no older match: stays");
    assert_eq!(
        h.next_matching("filter").as_deref(),
        Some("filter preset=b")
    );
    assert_eq!(
        h.next_matching("filter"),
        None,
        "past the newest: back to typed text"
    );
    assert!(!h.navigating());
    // Plain previous/next are untouched by prefix recall.
    assert_eq!(h.previous().as_deref(), Some("filter preset=b"));
}

#[test]
fn two_windows_adding_alternately_keep_every_command_in_order() {
    let t = tempfile::tempdir().unwrap();
    let mut a = CommandHistory::new(t.path(), DEFAULT_FILE, 1000);
    let mut b = CommandHistory::new(t.path(), DEFAULT_FILE, 1000);
    for i in 0..10 {
        a.add(&format!("a{i}"));
        b.add(&format!("b{i}"));
    }
    let expected: Vec<String> = (0..10)
        .flat_map(|i| [format!("a{i}"), format!("b{i}")])
        .collect();
    assert_eq!(
        CommandHistory::new(t.path(), DEFAULT_FILE, 1000).all(),
        expected
    );
    assert_eq!(b.all(), expected);
}

#[test]
fn unwritable_location_keeps_working_in_memory_and_reports_once() {
    let t = tempfile::tempdir().unwrap();
    // The parent is a file: every write fails, even for root.
    fs::write(t.path().join("notadir"), b"x").unwrap();
    let mut h = CommandHistory::new(&t.path().join("notadir"), DEFAULT_FILE, 10);
    h.add("one");
    h.add("two");
    assert_eq!(h.all(), ["one", "two"]);
    assert_eq!(h.previous().as_deref(), Some("two"));
    let msg = h.take_error().expect("first failure is reported");
    assert!(msg.contains("command history"), "{msg}");
    assert_eq!(h.take_error(), None, "only once");
}

#[test]
fn unreadable_file_starts_empty_and_reports() {
    let t = tempfile::tempdir().unwrap();
    // A directory where the file should be cannot be read, even by root.
    fs::create_dir(t.path().join(DEFAULT_FILE)).unwrap();
    let mut h = CommandHistory::new(t.path(), DEFAULT_FILE, 10);
    assert!(h.is_empty());
    assert!(h.take_error().unwrap().contains("read"));
    h.add("still works");
    assert_eq!(h.all(), ["still works"]);
}

#[test]
fn a_read_only_directory_keeps_commands_in_memory_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("ro");
    fs::create_dir(&dir).unwrap();
    // Root ignores permission bits: a read-only mount binds it too.
    let _mount = if common::is_root() {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            common::skip(
                "a_read_only_directory_keeps_commands_in_memory_and_says_so",
                "running as root, and a read-only tmpfs cannot be mounted here",
            );
            return;
        }
        Some(Unmount(dir.clone()))
    } else {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        None
    };
    let mut h = CommandHistory::new(&dir, DEFAULT_FILE, 10);
    h.add("x");
    assert_eq!(h.all(), ["x"]);
    assert!(h.take_error().is_some(), "the failed save is reported");
    assert!(!dir.join(DEFAULT_FILE).exists());
    if !common::is_root() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Unmounts on drop.
struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// The seed's semantics, straight from its pseudocode.
#[derive(Default, Debug)]
struct Model {
    history: Vec<String>,
    current: isize,
    max: usize,
}

impl Model {
    fn add(&mut self, c: &str) {
        let t = c.trim();
        if t.is_empty() {
            return;
        }
        if self.history.last().map(String::as_str) != Some(t) {
            self.history.push(t.to_string());
            if self.history.len() > self.max {
                self.history.remove(0);
            }
        }
        self.current = -1;
    }
    fn previous(&mut self) -> Option<String> {
        if self.history.is_empty() {
            return None;
        }
        if self.current == -1 {
            self.current = self.history.len() as isize - 1;
        } else if self.current > 0 {
            self.current -= 1;
        }
        Some(self.history[self.current as usize].clone())
    }
    fn next(&mut self) -> Option<String> {
        if self.current == -1 {
            return None;
        }
        if self.current < self.history.len() as isize - 1 {
            self.current += 1;
            Some(self.history[self.current as usize].clone())
        } else {
            self.current = -1;
            None
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add(String),
    Previous,
    Next,
    Reset,
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", " a ", "", "  ", "c d"]).prop_map(|s| Op::Add(s.to_string())),
        3 => Just(Op::Previous),
        3 => Just(Op::Next),
        1 => Just(Op::Reset),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn matches_the_seed_model(ops in prop::collection::vec(op(), 0..40), max in 1usize..5) {
        let t = tempfile::tempdir().unwrap();
        let mut real = CommandHistory::new(t.path(), DEFAULT_FILE, max);
        let mut model = Model { max, current: -1, ..Default::default() };
        for op in ops {
            match op {
                Op::Add(s) => { real.add(&s); model.add(&s); }
                Op::Previous => prop_assert_eq!(real.previous(), model.previous()),
                Op::Next => prop_assert_eq!(real.next(), model.next()),
                Op::Reset => { real.reset_navigation(); model.current = -1; }
                Op::Clear => { real.clear(); model.history.clear(); model.current = -1; }
            }
            prop_assert_eq!(real.all(), model.history.clone());
        }
        // What is on disk is what a new instance sees.
        prop_assert_eq!(CommandHistory::new(t.path(), DEFAULT_FILE, max).all(), model.history);
    }
}
