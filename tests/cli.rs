//! The real `genhist` binary against fixture directories.

mod common;

use common::*;
use predicates::prelude::*;
use std::fs;

#[test]
fn list_reads_the_python_format_newest_first() {
    let (_t, d) = python_dir();
    let out = genhist()
        .args(["--dir", d.to_str().unwrap(), "list"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID"));
    assert!(lines[1].starts_with("b0b0b0b0"));
    assert!(lines[2].starts_with("3f2b9c1e") && lines[2].contains("Klänge — Großer Raum"));
    assert!(lines[2].contains("44100") && lines[2].contains("stereo") && lines[2].contains("2.5s"));
    assert!(lines[3].starts_with("a1b2c3d4"));
}

#[test]
fn list_json_keeps_unknown_fields_and_big_seeds() {
    let (_t, d) = python_dir();
    let out = genhist()
        .args([
            "--dir",
            d.to_str().unwrap(),
            "list",
            "--json",
            "--model",
            "klang-v2",
        ])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("\"generator_version\": \"0.9.1\""));
    assert!(text.contains("\"seed\": 123456789012345678901234567890"));
    assert!(text.contains("\"note\": null"));
    assert_eq!(text.matches("\"entry_id\"").count(), 1);
}

#[test]
fn show_by_prefix_lists_every_field_and_file_state() {
    let (_t, d) = python_dir();
    genhist()
        .env("GENHIST_DIR", &d)
        .args(["show", "3f2b9c"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "seed:             123456789012345678901234567890",
        ))
        .stdout(predicate::str::contains("generator_version"))
        .stdout(predicate::str::contains("slider_positions: null"))
        .stdout(predicate::str::contains("KiB)"));
    genhist()
        .env("GENHIST_DIR", &d)
        .args(["show", PY_NEWEST])
        .assert()
        .success()
        .stdout(predicate::str::contains("(missing)"));
}

#[test]
fn add_then_the_python_tool_loads_it_and_we_load_its_rewrite() {
    let (t, d) = python_dir();
    let wav = t.path().join("in.wav");
    write_sine(&wav, 44_100, 2, 0.3, genhist::audio::BitDepth::Int24);
    let out = genhist()
        .args(["--dir", d.to_str().unwrap(), "add", wav.to_str().unwrap()])
        .args([
            "--model-id",
            "m",
            "--model-name",
            "Modèle",
            "--seed",
            "99",
            "--sliders",
            "1,0,-2",
        ])
        .args([
            "--preset",
            "warm",
            "--quality",
            "{\"snr\": 20.5}",
            "--latent",
            "[0.1, -0.2]",
        ])
        .assert()
        .success();
    let id = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(id.len(), 36);
    let spec = hound::WavReader::open(d.join(format!("audio/{id}.wav")))
        .unwrap()
        .spec();
    assert_eq!(
        (spec.channels, spec.bits_per_sample, spec.sample_rate),
        (2, 24, 44_100)
    );
    genhist()
        .args(["--dir", d.to_str().unwrap(), "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("Modèle"))
        .stdout(predicate::str::contains("duration_s:       0.3"))
        .stdout(predicate::str::contains("[1, 0, -2]"));
    if !python3_available() {
        eprintln!("python3 missing: skipping the Python round trip");
        return;
    }
    let py = std::process::Command::new("python3")
        .arg(py_store())
        .arg(&d)
        .arg("list")
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let listing = String::from_utf8(py.stdout).unwrap();
    assert!(
        listing.contains(&id) && listing.contains("Modèle 99 0.3"),
        "{listing}"
    );
    // Python rewrites the file; genhist still reads everything.
    let st = std::process::Command::new("python3")
        .arg(py_store())
        .arg(&d)
        .args(["add-fake", "pppppppp-0000-4000-8000-000000000000"])
        .status()
        .unwrap();
    assert!(st.success());
    genhist()
        .args(["--dir", d.to_str().unwrap(), "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Python writer"))
        .stdout(predicate::str::contains(&id[..8]));
}

#[test]
fn add_with_params_snapshot() {
    let (t, d) = python_dir();
    let wav = t.path().join("in.wav");
    write_sine(&wav, 48_000, 1, 0.2, genhist::audio::BitDepth::Int16);
    let params = t.path().join("p.json");
    fs::write(
        &params,
        r#"{"model_id": "snap", "model_name": "Snapshot", "seed": 5, "slider_positions": [2, 2],
            "n_components": 2, "preset_name": "glass", "quality_score": {"x": {"y": 1}}, "custom_field": [1]}"#,
    )
    .unwrap();
    let out = genhist()
        .args([
            "--dir",
            d.to_str().unwrap(),
            "add",
            wav.to_str().unwrap(),
            "--params",
            params.to_str().unwrap(),
        ])
        .args(["--bit-depth", "32f"])
        .assert()
        .success();
    let id = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    // Only the seed's fields are written; the others are named as ignored.
    assert!(!text.contains("custom_field"));
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("ignored"));
    assert!(text.contains("\"preset_name\": \"glass\""));
    let spec = hound::WavReader::open(d.join(format!("audio/{id}.wav")))
        .unwrap()
        .spec();
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
}

#[test]
fn delete_and_dry_run() {
    let (_t, d) = python_dir();
    let dir = d.to_str().unwrap();
    let before = fs::read(d.join("history.json")).unwrap();
    genhist()
        .args(["--dir", dir, "delete", "--dry-run", "3f2b9c1e"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would delete"));
    assert_eq!(fs::read(d.join("history.json")).unwrap(), before);
    genhist()
        .args(["--dir", dir, "delete", "3f2b9c1e", PY_NEWEST])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("deleted {PY_STEREO_24}")));
    assert!(!d.join(format!("audio/{PY_STEREO_24}.wav")).exists());
    assert!(!d.join(format!("thumbnails/{PY_STEREO_24}.png")).exists());
    genhist()
        .args(["--dir", dir, "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("a1b2c3d4"))
        .stdout(predicate::str::contains("3f2b9c1e").not());
}

#[test]
fn delete_by_ambiguous_prefix_touches_nothing_and_broken_entries_can_go() {
    let (_t, d) = python_dir();
    let dir = d.to_str().unwrap();
    // Two ids starting with "b0b0": the prefix is ambiguous.
    let text = PY_FIXTURE.replace("a1b2c3d4-0000", "b0b0c3d4-0000");
    fs::write(d.join("history.json"), &text).unwrap();
    genhist()
        .args(["--dir", dir, "delete", "b0b0"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("matches 2 entries"));
    assert_eq!(fs::read_to_string(d.join("history.json")).unwrap(), text);
    assert!(d.join(format!("audio/{PY_MONO_16}.wav")).exists());
    // An entry that does not fit the schema is still deleted, with its files.
    let broken = PY_FIXTURE.replace("\"seed\": 42,", "\"seed\": \"forty-two\",");
    fs::write(d.join("history.json"), &broken).unwrap();
    genhist()
        .args(["--dir", dir, "delete", PY_MONO_16])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("deleted {PY_MONO_16}")));
    assert!(!d.join(format!("audio/{PY_MONO_16}.wav")).exists());
    let h = genhist::store::GenerationHistory::open(&d).unwrap();
    assert_eq!((h.count(), h.invalid_entries().len()), (2, 0));
}

#[test]
fn list_of_a_large_index_matches_the_full_load_order() {
    let (_t, d, h) = large_demo();
    let model = h.entries()[17].model_id().to_string();
    for (args, model) in [
        (vec![], None),
        (vec!["--model", model.as_str()], Some(model.as_str())),
    ] {
        let out = genhist()
            .args([
                "--dir",
                d.to_str().unwrap(),
                "list",
                "--json",
                "--limit",
                "40",
            ])
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success());
        let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let got: Vec<&str> = listed
            .iter()
            .map(|e| e["entry_id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = h
            .list_entries(model, Some(40))
            .iter()
            .map(|e| e.entry_id.as_str())
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn corrupt_index_exits_1_with_location_and_stays_byte_identical() {
    let (_t, d) = python_dir();
    let broken = PY_FIXTURE.replace("\"seed\": 42,", "\"seed\": 42");
    fs::write(d.join("history.json"), &broken).unwrap();
    let dir = d.to_str().unwrap();
    for args in [
        vec!["list"],
        vec!["stats"],
        vec!["delete", PY_MONO_16],
        vec!["repair"],
    ] {
        genhist()
            .args(["--dir", dir])
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("history.json is broken at line"))
            .stderr(predicate::str::contains("nothing was changed"));
    }
    assert_eq!(fs::read_to_string(d.join("history.json")).unwrap(), broken);
    assert!(d.join(format!("audio/{PY_MONO_16}.wav")).exists());
}

#[test]
fn version_2_lists_with_a_warning_and_refuses_writes() {
    let (_t, d) = python_dir();
    let v2 = PY_FIXTURE.replace("\"version\": 1", "\"version\": 2");
    fs::write(d.join("history.json"), &v2).unwrap();
    let dir = d.to_str().unwrap();
    genhist()
        .args(["--dir", dir, "list"])
        .assert()
        .success()
        .stderr(predicate::str::contains("version 2"));
    genhist()
        .args(["--dir", dir, "delete", PY_MONO_16])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("will not change this file"));
    assert_eq!(fs::read_to_string(d.join("history.json")).unwrap(), v2);
}

#[test]
fn hostile_names_never_reach_the_terminal_raw() {
    let (_t, d) = python_dir();
    let text = PY_FIXTURE.replace(
        "\"model_name\": \"Pads\"",
        "\"model_name\": \"Pads\\u001b[2J\\u001b]0;pwned\\u0007\"",
    );
    fs::write(d.join("history.json"), text).unwrap();
    let out = genhist()
        .args(["--dir", d.to_str().unwrap(), "list"])
        .assert()
        .success();
    let stdout = out.get_output().stdout.clone();
    assert!(!stdout.contains(&0x1b) && !stdout.contains(&0x07));
    let out = genhist()
        .args(["--dir", d.to_str().unwrap(), "show", PY_MONO_16])
        .assert()
        .success();
    assert!(!out.get_output().stdout.contains(&0x1b));
}

/// No ESC, BEL or C1 control (as UTF-8: C2 80..C2 9F) in `bytes`.
fn terminal_safe(bytes: &[u8]) -> bool {
    !bytes.contains(&0x1b)
        && !bytes.contains(&0x07)
        && !bytes
            .windows(2)
            .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
}

#[test]
fn hostile_keys_names_and_paths_are_made_harmless_in_every_command() {
    let (_t, d, ids) = takes_dir(3);
    let dir = d.to_str().unwrap().to_string();
    // Another entry whose key, names and paths carry terminal controls,
    // a C1 CSI and a right-to-left override.
    let evil = "abcd\u{1b}]0;PWNED\u{7}\u{9b}2J\u{202e}x";
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut e = entry_json(
        evil,
        "2026-11-30T00:00:00+00:00",
        &format!("audio/{evil}.wav"),
        "thumbnails/\u{1b}[31m.png",
    );
    e["model_name"] = format!("Pads{evil}").into();
    e["model_id"] = format!("m{evil}").into();
    e["preset_name"] = format!("p{evil}").into();
    v["entries"][evil] = e;
    // A second id with the same start, so the prefix is ambiguous.
    let mut twin = v["entries"][&ids[0]].clone();
    let twin_id = "abcd-twin";
    twin["entry_id"] = twin_id.into();
    v["entries"][twin_id] = twin;
    fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut full = vec!["--dir", dir.as_str()];
        full.extend_from_slice(args);
        let o = genhist().args(&full).output().unwrap();
        for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            assert!(
                terminal_safe(bytes),
                "genhist {args:?} {what}: {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        o
    };
    for json in [
        &["list", "--json"][..],
        &["show", "abcd\u{1b}", "--json"],
        &["stats", "--json"],
    ] {
        let o = run(json);
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(
            !text.contains('\u{202e}'),
            "{json:?}: bidi control unescaped"
        );
        if json[0] != "show" {
            serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON");
        }
    }
    let listed = String::from_utf8(run(&["list"]).stdout).unwrap();
    assert!(!listed.contains('\u{202e}'));
    for args in [
        &["show", "abcd"][..],
        &["show", "abcd\u{1b}"],
        &["stats"],
        &["play", "abcd\u{1b}"],
        &["delete", "--dry-run", "abcd\u{1b}"],
        &["delete", "abcd"],
        &["repair", "--dry-run"],
        &["delete", "abcd\u{1b}"],
        &["trash", "list"],
        &["undo"],
        &["repair"],
        &["undo"],
        &["list", "--model", "Pads\u{1b}"],
    ] {
        run(args);
    }
    assert!(
        index_ids(&d).contains(&evil.to_string()),
        "undo brought it back"
    );
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let (_t, d, _ids) = takes_dir(300);
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["stats"],
        &["stats", "--json"],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("genhist"))
            .arg("--dir")
            .arg(&d)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then close our end, as `head -1` does.
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        use std::io::Read;
        out.read_exact(&mut first).unwrap();
        drop(out);
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success() || o.status.code().is_none(),
            "{args:?}: {:?}",
            o.status
        );
        assert!(
            o.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn stats_json_has_the_counts() {
    let (_t, d, ids) = takes_dir(4);
    genhist()
        .args(["--dir", d.to_str().unwrap(), "delete", &ids[0]])
        .assert()
        .success();
    let o = genhist()
        .args(["--dir", d.to_str().unwrap(), "stats", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&o.get_output().stdout).unwrap();
    assert_eq!(v["entries"], 3, "{v}");
    assert_eq!(v["trash_takes"], 1, "{v}");
    assert!(v["trash_bytes"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn path_escapes_are_reported_invalid_and_not_played_or_deleted() {
    let (t, d) = python_dir();
    let outside = t.path().join("precious.wav");
    write_sine(&outside, 48_000, 1, 0.1, genhist::audio::BitDepth::Int16);
    let text = PY_FIXTURE.replace(&format!("audio/{PY_MONO_16}.wav"), "../precious.wav");
    fs::write(d.join("history.json"), text).unwrap();
    let dir = d.to_str().unwrap();
    genhist()
        .args(["--dir", dir, "show", PY_MONO_16])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "INVALID: '../precious.wav': the path contains '..'",
        ));
    genhist()
        .args(["--dir", dir, "play", PY_MONO_16])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("contains '..'"));
    genhist()
        .args(["--dir", dir, "delete", PY_MONO_16])
        .assert()
        .success();
    assert!(outside.exists());
}

#[test]
fn play_on_an_unplayable_wav_exits_1_and_says_why() {
    let (_t, d, ids) = takes_dir(1);
    let wav = d.join(format!("audio/{}.wav", ids[0]));
    let mut b = fs::read(&wav).unwrap();
    // The fmt chunk's sample rate.
    b[24..28].copy_from_slice(&0u32.to_le_bytes());
    fs::write(&wav, &b).unwrap();
    genhist()
        .args(["--dir", d.to_str().unwrap(), "play", &ids[0]])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("sample rate of 0 Hz"));
    // Truncated inside its header.
    fs::write(&wav, &b[..30]).unwrap();
    let out = genhist()
        .args(["--dir", d.to_str().unwrap(), "play", &ids[0]])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("cannot play"), "{err}");
}

#[test]
fn a_bad_config_file_is_named_with_its_line_and_the_defaults_are_used() {
    let (t, d, ids) = takes_dir(2);
    let conf = t.path().join("conf");
    fs::create_dir_all(conf.join("genhist")).unwrap();
    fs::write(
        conf.join("genhist/config.toml"),
        "[trash]\nretention = \"whenever\"\n",
    )
    .unwrap();
    genhist()
        .env("XDG_CONFIG_HOME", &conf)
        .args(["--dir", d.to_str().unwrap(), "delete", &ids[0]])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "config.toml: line 2: trash.retention",
        ))
        .stderr(predicate::str::contains("using the defaults"));
    // The default retention applied: the batch is in the trash.
    genhist()
        .env("XDG_CONFIG_HOME", &conf)
        .args(["--dir", d.to_str().unwrap(), "trash", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&ids[0][..8]));
}

#[test]
fn completion_scripts_load_and_the_man_page_lists_the_commands() {
    let t = tempfile::tempdir().unwrap();
    let script = t.path().join("genhist.bash");
    let out = genhist().args(["completions", "bash"]).assert().success();
    fs::write(&script, &out.get_output().stdout).unwrap();
    // bash sources it and completes subcommands and their subcommands.
    let complete = |words: &str, cword: usize| {
        let cmd = format!(
            "source '{}' && COMP_WORDS=({words}) && COMP_CWORD={cword} && COMP_LINE='{words}' && \
             COMP_POINT=${{#COMP_LINE}} && _genhist genhist \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\" && \
             echo \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let o = std::process::Command::new("bash")
            .args(["-c", &cmd])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(complete("genhist de", 1).trim(), "delete devices demo");
    let trash = complete("genhist trash ''", 2);
    assert!(trash.contains("list") && trash.contains("purge"), "{trash}");
    for shell in ["zsh", "fish"] {
        let out = genhist().args(["completions", shell]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(
            text.contains("genhist") && text.contains("delete"),
            "{shell}"
        );
    }
    let man = genhist().arg("man").assert().success();
    let man = String::from_utf8_lossy(&man.get_output().stdout).to_string();
    assert!(
        man.starts_with(".ie") || man.contains(".TH genhist 1"),
        "{man}"
    );
    for cmd in ["list", "delete", "undo", "trash", "repair", "stats", "play"] {
        assert!(man.contains(cmd), "the man page names {cmd}");
    }
}

#[test]
fn repair_and_stats() {
    let (_t, d) = python_dir();
    fs::write(d.join("audio/stray.wav"), b"x").unwrap();
    let dir = d.to_str().unwrap();
    genhist()
        .args(["--dir", dir, "stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains("entries:    3"))
        .stdout(predicate::str::contains("2  Pads"));
    genhist()
        .args(["--dir", dir, "repair"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "moved to the trash: {PY_NEWEST} (WAV missing"
        )))
        .stdout(predicate::str::contains(
            "moved to the trash: 1 take with a missing WAV (`genhist undo` restores); left alone: 1 orphan WAV, 0 orphan PNGs",
        ));
    assert!(d.join("audio/stray.wav").exists());
}

#[test]
fn usage_errors_exit_2_and_missing_dir_explains_what_to_do() {
    genhist().args(["list", "--limit", "lots"]).assert().code(2);
    genhist().args(["delete"]).assert().code(2);
    let empty = tempfile::tempdir().unwrap();
    genhist()
        .current_dir(empty.path())
        .arg("list")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--dir DIR"))
        .stderr(predicate::str::contains("--demo"));
    // The current directory is used when it holds history.json.
    let (_t, d) = python_dir();
    genhist().current_dir(&d).arg("stats").assert().success();
}

#[test]
fn demo_writes_distinct_playable_takes() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("demo");
    genhist()
        .args(["demo", d.to_str().unwrap(), "--count", "12"])
        .assert()
        .success();
    let h = genhist::store::GenerationHistory::open(&d).unwrap();
    assert_eq!(h.count(), 12);
    let models: std::collections::HashSet<_> = h.entries().iter().map(|e| e.model_id()).collect();
    assert!(models.len() >= 3);
    assert!(h.entries().iter().any(|e| e.stereo_mode() == "mono"));
    assert!(h.entries().iter().any(|e| e.stereo_mode() != "mono"));
    assert!(h.entries().iter().any(|e| e.latent_vector().is_some()));
    let mut envelopes = std::collections::HashSet::new();
    for e in h.entries() {
        let p =
            genhist::peaks::peaks_of(h.open_file(e, genhist::store::Field::Audio).unwrap().0, 8)
                .unwrap();
        assert!(
            p.envelope(8).iter().any(|&x| x > 0.05),
            "take {} is silent",
            e.entry_id
        );
        envelopes.insert(format!(
            "{:?}",
            p.envelope(8)
                .iter()
                .map(|x| (x * 10.0) as i32)
                .collect::<Vec<_>>()
        ));
    }
    assert!(envelopes.len() >= 6, "takes look too alike");
    let span = h.entries()[0].time_us().unwrap() - h.entries().last().unwrap().time_us().unwrap();
    assert!(
        span > 14 * 86_400 * 1_000_000,
        "timestamps spread over weeks"
    );
    // --no-audio: index only.
    let big = t.path().join("big");
    genhist()
        .args([
            "demo",
            big.to_str().unwrap(),
            "--count",
            "2000",
            "--no-audio",
        ])
        .assert()
        .success();
    assert_eq!(
        genhist::store::GenerationHistory::open(&big)
            .unwrap()
            .count(),
        2000
    );
    assert!(!big.join("audio").exists());
}

#[test]
fn concurrent_adds_by_another_process_survive_deletes() {
    let (t, d) = python_dir();
    let wav = t.path().join("in.wav");
    write_sine(&wav, 8_000, 1, 0.05, genhist::audio::BitDepth::Int16);
    // `genhist add` in a process of its own; returns the new id.
    let add = |dir: &std::path::Path, wav: &std::path::Path, model: &str| -> String {
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("genhist"))
            .args(["--dir", dir.to_str().unwrap(), "add", wav.to_str().unwrap()])
            .args(["--model-id", model])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    // Seed entries to delete.
    let victims: Vec<String> = (0..12).map(|_| add(&d, &wav, "victim")).collect();
    let (d2, wav2) = (d.clone(), wav.clone());
    let adder = std::thread::spawn(move || {
        (0..12)
            .map(|_| add(&d2, &wav2, "other"))
            .collect::<Vec<_>>()
    });
    for v in &victims {
        genhist()
            .args(["--dir", d.to_str().unwrap(), "delete", v])
            .assert()
            .success();
    }
    let added = adder.join().unwrap();
    let h = genhist::store::GenerationHistory::open(&d).unwrap();
    for a in &added {
        assert!(h.get(a).is_ok(), "added entry {a} was lost");
    }
    for v in &victims {
        assert!(h.get(v).is_err(), "deleted entry {v} came back");
    }
    assert_eq!(h.count(), 3 + added.len());
}

#[test]
fn a_take_of_a_large_index_is_looked_up_as_in_a_small_one() {
    let (_t, d, h) = large_demo();
    let dir = d.to_str().unwrap();
    // The oldest take, by a prefix in upper case: its text is in the
    // first half of the file or the second, whichever it is.
    for e in [&h.entries()[0], &h.entries()[5999]] {
        let prefix = e.entry_id[..8].to_uppercase();
        let out = genhist()
            .args(["--dir", dir, "show", "--json", &prefix])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(shown["entry_id"], e.entry_id.as_str());
        assert_eq!(shown["seed"], serde_json::to_value(e.seed()).unwrap());
        genhist()
            .args(["--dir", dir, "rate", &prefix, "4"])
            .assert()
            .success()
            .stdout(predicate::str::contains(&e.entry_id[..8]));
    }
    // A bad tag is reported before an id that names nothing, as before.
    genhist()
        .args(["--dir", dir, "tag", "nosuch1", "+"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a tag"));
    // The index's warnings come before "no entry matches".
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    fs::write(
        d.join("history.json"),
        text.replacen("\"version\": 1", "\"version\": 2", 1),
    )
    .unwrap();
    genhist()
        .args(["--dir", dir, "show", "nosuch1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("version 2"))
        .stderr(predicate::str::contains("no entry matches 'nosuch1'"));
}

#[test]
fn an_index_with_two_entries_objects_is_not_annotated() {
    // Small and large (streamed) alike.
    for count in [2, 6000] {
        let (_t, d, h) = demo_of(count);
        let id = h.entries()[0].entry_id.clone();
        let text = fs::read_to_string(d.join("history.json")).unwrap();
        let twice = text.replacen("\"entries\": {", "\"entries\": {},\n  \"entries\": {", 1);
        fs::write(d.join("history.json"), &twice).unwrap();
        for args in [
            vec!["rate", &id, "3"],
            vec!["tag", &id, "+x"],
            vec!["note", &id, "hi"],
        ] {
            genhist()
                .args(["--dir", d.to_str().unwrap()])
                .args(&args)
                .assert()
                .code(1)
                .stderr(predicate::str::contains("two \"entries\" objects"));
        }
        assert!(!d.join(".genhist/annotations.json").exists());
        assert_eq!(fs::read_to_string(d.join("history.json")).unwrap(), twice);
    }
}

/// A demo history of `count` takes, and it loaded.
fn demo_of(
    count: usize,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    genhist::store::GenerationHistory,
) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("h");
    genhist()
        .args(["demo", d.to_str().unwrap(), "--count", &count.to_string()])
        .arg("--no-audio")
        .assert()
        .success();
    let h = genhist::store::GenerationHistory::open(&d).unwrap();
    (t, d, h)
}

/// A demo history big enough (> 4 MB) for the two-thread reads.
fn large_demo() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    genhist::store::GenerationHistory,
) {
    let demo = demo_of(6000);
    assert!(fs::metadata(demo.1.join("history.json")).unwrap().len() > 4 << 20);
    demo
}
