//! genhist killed at random moments, and a full disk: after the next
//! command the index is the old state or the new one, no temp file is left,
//! every take in the index has its files byte for byte, every deleted take
//! is whole in the trash, and no WAV or PNG is left without a take.

mod common;

use common::*;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_genhist"));
    c.env_remove("GENHIST_DIR")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// A small deterministic generator (the round's numbers are in failures).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// What is on disk for each take genhist must not lose.
struct Expect {
    /// id → (WAV bytes, PNG bytes) of the takes we made.
    files: HashMap<String, (Vec<u8>, Vec<u8>)>,
}

fn files_of(d: &Path, id: &str) -> (PathBuf, PathBuf) {
    (
        d.join(format!("audio/{id}.wav")),
        d.join(format!("thumbnails/{id}.png")),
    )
}

/// Every take a trash batch holds, with its files' paths in the batch.
fn trashed(d: &Path) -> HashMap<String, Vec<PathBuf>> {
    let mut out = HashMap::new();
    for b in fs::read_dir(d.join(".genhist/trash"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(text) = fs::read_to_string(b.path().join("manifest.json")) else {
            continue;
        };
        let m: serde_json::Value = serde_json::from_str(&text).unwrap();
        for e in m["entries"].as_array().unwrap() {
            if e["restored"].as_bool() == Some(true) {
                continue;
            }
            let files = e["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| b.path().join("files").join(f["path"].as_str().unwrap()))
                .collect();
            out.insert(e["id"].as_str().unwrap().to_string(), files);
        }
    }
    out
}

/// Checks every promise; `before`/`after` are the two acceptable id sets.
fn check(
    d: &Path,
    exp: &Expect,
    before: &HashSet<String>,
    after: &HashSet<String>,
    what: &str,
) -> HashSet<String> {
    let text =
        fs::read_to_string(d.join("history.json")).unwrap_or_else(|e| panic!("{what}: index: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: index does not parse: {e}"));
    let now: HashSet<String> = v["entries"].as_object().unwrap().keys().cloned().collect();
    assert!(
        now == *before || now == *after,
        "{what}: the index is neither the old nor the new state"
    );
    let temps = leftover_temps(d);
    assert!(
        temps.is_empty(),
        "{what}: left after the next write: {temps:?}"
    );
    for id in &now {
        let (wav, png) = files_of(d, id);
        match exp.files.get(id) {
            Some((w, p)) => {
                assert_eq!(
                    &fs::read(&wav).unwrap_or_default(),
                    w,
                    "{what}: WAV of {id}"
                );
                assert_eq!(
                    &fs::read(&png).unwrap_or_default(),
                    p,
                    "{what}: PNG of {id}"
                );
            }
            None => {
                // A take the killed add made: whole and readable.
                let r = hound::WavReader::open(&wav)
                    .unwrap_or_else(|e| panic!("{what}: new take {id}: {e}"));
                assert_eq!(r.duration(), 400, "{what}: new take {id}");
                assert!(png.is_file(), "{what}: PNG of new take {id}");
            }
        }
    }
    let in_trash = trashed(d);
    for id in before
        .iter()
        .chain(after.iter())
        .filter(|id| !now.contains(*id))
    {
        if let Some((w, _)) = exp.files.get(id) {
            let files = in_trash
                .get(id)
                .unwrap_or_else(|| panic!("{what}: deleted {id} is not in the trash"));
            assert_eq!(files.len(), 2, "{what}: {id} has both files in the trash");
            assert!(
                files.iter().any(|f| fs::read(f).ok().as_ref() == Some(w)),
                "{what}: {id}'s WAV in the trash"
            );
        }
    }
    for sub in ["audio", "thumbnails"] {
        for f in fs::read_dir(d.join(sub)).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let id = name.rsplit_once('.').map(|x| x.0).unwrap_or(&name);
            assert!(now.contains(id), "{what}: {sub}/{name} has no take");
        }
    }
    now
}

fn run_killed(mut cmd: Command, after: Duration) -> bool {
    let mut child: Child = cmd.spawn().unwrap();
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    killed
}

fn median_run(mut make: impl FnMut() -> Command) -> Duration {
    let mut v: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            assert!(make().status().unwrap().success());
            t.elapsed()
        })
        .collect();
    v.sort();
    v[1]
}

#[test]
fn killed_deletes_and_adds_never_lose_or_strand_anything() {
    let (t, d, ids) = takes_dir(3000);
    let mut exp = Expect {
        files: HashMap::new(),
    };
    for id in &ids {
        let (w, p) = files_of(&d, id);
        exp.files
            .insert(id.clone(), (fs::read(w).unwrap(), fs::read(p).unwrap()));
    }
    let wav_in = t.path().join("in.wav");
    // 400 frames: how the check knows a new take.
    let buf = genhist::audio::AudioBuffer {
        channels: 1,
        sample_rate: 8000,
        samples: (0..400).map(|i| ((i as f32) * 0.05).sin() * 0.5).collect(),
    };
    genhist::audio::write_wav(&wav_in, &buf, genhist::audio::BitDepth::Int16).unwrap();
    let dir = d.to_str().unwrap().to_string();
    let add = || {
        let mut c = bin();
        c.args([
            "--dir",
            &dir,
            "add",
            wav_in.to_str().unwrap(),
            "--model-id",
            "crash",
        ]);
        c
    };
    let mut victims = ids.clone().into_iter();
    let t_delete = median_run(|| {
        let mut c = bin();
        c.args(["--dir", &dir, "delete", &victims.next().unwrap()]);
        c
    });
    let t_add = median_run(add);
    // Those runs are part of the history now.
    let mut current: HashSet<String> = index_ids(&d).into_iter().collect();
    for id in &current {
        if !exp.files.contains_key(id) {
            let (w, p) = files_of(&d, id);
            exp.files
                .insert(id.clone(), (fs::read(w).unwrap(), fs::read(p).unwrap()));
        }
    }
    let mut rng = Lcg(0x5eed_2026);
    let (mut killed, rounds) = (0, 60);
    // Where the kills landed: mid-way (work left for the next command), and
    // after the index was written.
    let (mut midway, mut written) = (0, 0);
    // How far past a run's measured time kills may land; widened when a
    // busy machine makes runs slower than measured and the kills keep
    // missing the moment after the index is written.
    let (mut reach, mut written_lately) = (1.3f64, 0);
    for round in 0..rounds {
        if round % 10 == 9 {
            if written_lately < 2 {
                reach *= 1.6;
            }
            written_lately = 0;
        }
        let is_delete = round % 2 == 0;
        let span = if is_delete { t_delete } else { t_add };
        let after =
            Duration::from_micros(rng.next() % ((span.as_micros() as f64 * reach) as u64 + 1));
        let before = current.clone();
        let (cmd, expected_after) = if is_delete {
            let mut live: Vec<&String> = current.iter().collect();
            live.sort();
            let victim = live[rng.next() as usize % live.len()].clone();
            let mut c = bin();
            c.args(["--dir", &dir, "delete", &victim]);
            let mut a = before.clone();
            a.remove(&victim);
            (c, Some(a))
        } else {
            (add(), None)
        };
        killed += run_killed(cmd, after) as usize;
        midway += !leftover_temps(&d).is_empty() as usize;
        let wrote = (index_ids(&d).len() != before.len()) as usize;
        written += wrote;
        written_lately += wrote;
        // The next write.
        assert!(bin()
            .args(["--dir", &dir, "trash", "purge", "--older-than", "3650d"])
            .status()
            .unwrap()
            .success());
        let what = format!(
            "round {round} ({}, killed after {after:?})",
            if is_delete { "delete" } else { "add" }
        );
        let after_set = match expected_after {
            Some(a) => a,
            None => {
                // The new id, if the add got that far.
                let now: HashSet<String> = index_ids(&d).into_iter().collect();
                let mut a = before.clone();
                a.extend(now.difference(&before).cloned());
                a
            }
        };
        current = check(&d, &exp, &before, &after_set, &what);
        for id in &current {
            if !exp.files.contains_key(id) {
                let (w, p) = files_of(&d, id);
                exp.files
                    .insert(id.clone(), (fs::read(w).unwrap(), fs::read(p).unwrap()));
            }
        }
    }
    eprintln!(
        "{killed} of {rounds} runs killed before their end (delete ~{t_delete:?}, add ~{t_add:?}); \
         {midway} left work for the next command, {written} had written the index"
    );
    assert!(
        killed >= rounds / 3,
        "too few runs were caught before their end: {killed}"
    );
    assert!(
        midway >= 3 && written >= 3,
        "the kills missed the critical moments"
    );
}

/// Unmounts on drop.
struct Mount(PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn copy_tree(from: &Path, to: &Path) {
    assert!(Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap()
        .success());
}

/// Leaves about `free` bytes free on the filesystem of `dir`.
fn fill(dir: &Path, free: u64) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 << 10];
    while f.write_all(&block).is_ok() {}
    drop(f);
    let len = fs::metadata(&filler).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(len.saturating_sub(free))
        .unwrap();
    filler
}

#[test]
fn a_full_disk_changes_nothing_and_loses_nothing() {
    let t = tempfile::tempdir().unwrap();
    let mnt = t.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        skip(
            "a_full_disk_changes_nothing_and_loses_nothing",
            "a small tmpfs cannot be mounted here (needs root)",
        );
        return;
    }
    let _guard = Mount(mnt.clone());
    let (_src, d0, ids) = takes_dir(200);
    copy_tree(&d0, &mnt);
    let d = mnt.join("hist");
    let dir = d.to_str().unwrap();
    let index_before = fs::read(d.join("history.json")).unwrap();
    let wav_in = t.path().join("in.wav");
    write_sine(&wav_in, 8000, 1, 0.2, genhist::audio::BitDepth::Int16);
    let filler = fill(&mnt, 64 << 10);

    let out = bin()
        .args(["--dir", dir, "delete", &ids[3]])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("No space left on device") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(fs::read(d.join("history.json")).unwrap(), index_before);
    let (wav, png) = files_of(&d, &ids[3]);
    assert_eq!(
        fs::read(&wav).unwrap(),
        fs::read(d0.join(format!("audio/{}.wav", ids[3]))).unwrap()
    );
    assert!(png.is_file());
    assert!(leftover_temps(&d).is_empty(), "{:?}", leftover_temps(&d));
    assert!(trashed(&d).is_empty(), "nothing in the trash");

    let out = bin()
        .args([
            "--dir",
            dir,
            "add",
            wav_in.to_str().unwrap(),
            "--model-id",
            "m",
        ])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(d.join("history.json")).unwrap(), index_before);
    assert_eq!(
        fs::read_dir(d.join("audio")).unwrap().count(),
        200,
        "no orphan WAV"
    );
    assert_eq!(
        fs::read_dir(d.join("thumbnails")).unwrap().count(),
        200,
        "no orphan PNG"
    );
    assert!(leftover_temps(&d).is_empty(), "{:?}", leftover_temps(&d));

    // With space again, the same delete works and undoes byte for byte.
    fs::remove_file(&filler).unwrap();
    assert!(bin()
        .args(["--dir", dir, "delete", &ids[3]])
        .status()
        .unwrap()
        .success());
    assert!(!wav.exists());
    assert!(bin()
        .args(["--dir", dir, "undo"])
        .status()
        .unwrap()
        .success());
    assert_eq!(fs::read(d.join("history.json")).unwrap(), index_before);
}

/// Annotations of every take, as the file holds them.
fn notes_of(d: &Path) -> HashMap<String, serde_json::Value> {
    match fs::read(d.join(".genhist/annotations.json")) {
        Ok(b) => {
            let v: serde_json::Value = serde_json::from_slice(&b)
                .unwrap_or_else(|e| panic!("annotations.json does not parse: {e}"));
            v["takes"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        }
        Err(_) => HashMap::new(),
    }
}

/// Every batch in the trash is whole: each take it still holds has its
/// files there.
fn batches_are_whole(d: &Path, what: &str) {
    for b in fs::read_dir(d.join(".genhist/trash"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = b.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "{what}: {name} left unfinished");
        let text = fs::read_to_string(b.path().join("manifest.json"))
            .unwrap_or_else(|e| panic!("{what}: manifest of {name}: {e}"));
        let m: serde_json::Value = serde_json::from_str(&text).unwrap();
        for e in m["entries"].as_array().unwrap() {
            if e["restored"].as_bool() == Some(true) {
                continue;
            }
            for f in e["files"].as_array().unwrap() {
                let p = b.path().join("files").join(f["path"].as_str().unwrap());
                assert!(p.is_file(), "{what}: {name} lost {}", p.display());
            }
        }
    }
}

#[test]
fn killed_undos_purges_and_annotations_never_lose_anything() {
    let (_t, d, ids) = takes_dir(300);
    let dir = d.to_str().unwrap().to_string();
    let mut files = HashMap::new();
    for id in &ids {
        let (w, p) = files_of(&d, id);
        files.insert(id.clone(), (fs::read(w).unwrap(), fs::read(p).unwrap()));
    }
    let g = |args: &[&str]| {
        let mut c = bin();
        c.arg("--dir").arg(&dir).args(args);
        c
    };
    let ok = |args: &[&str]| assert!(g(args).status().unwrap().success(), "{args:?}");
    let kinds = ["rate", "tag", "undo", "purge", "trash purge"];
    // How long each kind of command runs here (with work to do).
    let timed = |mut c: Command| {
        let t = Instant::now();
        assert!(c.status().unwrap().success());
        t.elapsed()
    };
    let last = ids[299].clone();
    let span: Vec<Duration> = kinds
        .iter()
        .map(|k| match *k {
            "rate" => timed(g(&["rate", &last, "2"])),
            "tag" => timed(g(&["tag", &last, "+x"])),
            "undo" => {
                ok(&["delete", &last]);
                timed(g(&["undo"]))
            }
            "purge" => {
                ok(&["reject", &last]);
                let t = timed(g(&["purge"]));
                ok(&["undo"]);
                ok(&["reject", &last, "--clear"]);
                t
            }
            _ => {
                ok(&["delete", &last]);
                timed(g(&["trash", "purge", "--all"]))
            }
        })
        .collect();
    // That take is gone now (purged from the trash); the rest is as made.
    let mut rng = Lcg(0x0dd_ba11);
    let rounds = 60;
    let (mut killed, mut changed) = (0, 0);
    for round in 0..rounds {
        let k = round % kinds.len();
        let live: Vec<String> = index_ids(&d);
        let pick = |rng: &mut Lcg| live[rng.next() as usize % live.len()].clone();
        // What the command is about, set up by commands that are not killed.
        let cmd = match kinds[k] {
            "rate" => {
                let id = pick(&mut rng);
                let r = (1 + rng.next() % 5).to_string();
                g(&["rate", &id, &r])
            }
            "tag" => {
                let id = pick(&mut rng);
                g(&["tag", &id, &format!("+t{round}"), "-x"])
            }
            "undo" => {
                let id = pick(&mut rng);
                ok(&["rate", &id, "4"]);
                ok(&["note", &id, &format!("round {round}")]);
                ok(&["delete", &id]);
                g(&["undo"])
            }
            "purge" => {
                for _ in 0..2 {
                    let id = pick(&mut rng);
                    ok(&["reject", &id]);
                }
                g(&["purge"])
            }
            _ => {
                let id = pick(&mut rng);
                ok(&["delete", &id]);
                g(&["trash", "purge", "--all"])
            }
        };
        let ids_before: HashSet<String> = index_ids(&d).into_iter().collect();
        let notes_before = notes_of(&d);
        let trash_before: HashSet<String> = trashed(&d).into_keys().collect();
        let after =
            Duration::from_micros(rng.next() % ((span[k].as_micros() as f64 * 1.3) as u64 + 1));
        killed += run_killed(cmd, after) as usize;
        // The next command finishes or rolls back what was left.
        ok(&["list", "--limit", "1"]);
        ok(&["trash", "purge", "--older-than", "3650d"]);
        let what = format!("round {round} ({}, killed after {after:?})", kinds[k]);
        let text = fs::read_to_string(d.join("history.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{what}: the index does not parse: {e}"));
        let now: HashSet<String> = v["entries"].as_object().unwrap().keys().cloned().collect();
        assert!(
            leftover_temps(&d).is_empty(),
            "{what}: {:?}",
            leftover_temps(&d)
        );
        batches_are_whole(&d, &what);
        // The index is the old state or the new one.
        let notes_now = notes_of(&d);
        match kinds[k] {
            "rate" | "tag" => {
                assert_eq!(now, ids_before, "{what}");
                // Only the one take's annotation may differ.
                let differ: Vec<&String> = ids
                    .iter()
                    .filter(|i| notes_now.get(*i) != notes_before.get(*i))
                    .collect();
                assert!(differ.len() <= 1, "{what}: {differ:?}");
            }
            "undo" => {
                let back: Vec<&String> = now.difference(&ids_before).collect();
                assert!(back.len() <= 1, "{what}: {back:?}");
                for id in back {
                    // Back with its rating and note, or not back at all.
                    assert_eq!(notes_now[id]["rating"], 4, "{what}: {id}");
                    assert!(notes_now[id]["note"].is_string(), "{what}: {id}");
                }
                assert!(now.is_superset(&ids_before), "{what}");
            }
            "purge" => {
                let gone: HashSet<String> = ids_before.difference(&now).cloned().collect();
                let rejected: HashSet<String> = notes_before
                    .iter()
                    .filter(|(i, a)| a["rejected"] == true && ids_before.contains(*i))
                    .map(|(i, _)| i.clone())
                    .collect();
                assert!(
                    gone.is_empty() || gone == rejected,
                    "{what}: all rejected or none: {gone:?} / {rejected:?}"
                );
            }
            _ => {
                assert_eq!(now, ids_before, "{what}");
                // Batches went whole (each left is whole: checked above).
                let t: HashSet<String> = trashed(&d).into_keys().collect();
                assert!(t.is_subset(&trash_before), "{what}");
            }
        }
        changed += (now != ids_before || notes_now != notes_before) as usize;
        // Every take in the index has its own files, byte for byte.
        for id in &now {
            let (w, p) = files_of(&d, id);
            let (wb, pb) = &files[id];
            assert_eq!(&fs::read(&w).unwrap_or_default(), wb, "{what}: WAV of {id}");
            assert_eq!(&fs::read(&p).unwrap_or_default(), pb, "{what}: PNG of {id}");
        }
        // Restore a moment to begin the next round from: nothing rejected.
        for (id, a) in notes_of(&d) {
            if a["rejected"] == true && now.contains(&id) {
                ok(&["reject", &id, "--clear"]);
            }
        }
    }
    eprintln!("{killed} of {rounds} runs killed before their end; {changed} changed something");
    assert!(killed >= rounds / 3, "too few runs were caught: {killed}");
}
