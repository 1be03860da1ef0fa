//! Reopening a history whose takes are measured reads no WAV to draw its
//! screen: the waveforms come from the analysis cache. (Its own test
//! binary: it counts the WAVs the peaks worker reads, process-wide.)

mod common;

use common::*;
use std::sync::atomic::Ordering;

#[test]
fn an_analysed_history_draws_without_reading_a_wav() {
    let (_t, d, ids) = takes_dir(6);
    run(&d, &["analyze"]).success();
    let reads = &genhist::ui::workers::peaks::WAVS_READ;
    let before = reads.load(Ordering::Relaxed);
    let mut dr = Driver::new(&d);
    dr.settle();
    let screen = screen_text(&dr.app, 120, 40);
    assert!(screen.contains(&ids[0][..8]));
    assert!(
        ids.iter().all(|id| matches!(
            dr.app.waves.peaks.get(id),
            Some(genhist::ui::app::PeakState::Ready(_))
        )),
        "every waveform is drawn"
    );
    assert_eq!(reads.load(Ordering::Relaxed), before, "no WAV was read");
    // A WAV that changed since is drawn as it is now: its cached peaks are
    // stale. (The peaks worker reads it, unless the analysis worker measured
    // it first and cached its new peaks: either way, no other WAV is read.)
    let frames = |dr: &Driver| match dr.app.waves.peaks.get(&ids[0]) {
        Some(genhist::ui::app::PeakState::Ready(p)) => p.frames,
        other => panic!("no waveform: {other:?}"),
    };
    assert_eq!(frames(&dr), 400);
    genhist::audio::write_wav(
        &wav_of(&d, &ids[0]),
        &sine(8000, 1, 0.1, 220.0),
        genhist::audio::BitDepth::Int16,
    )
    .unwrap();
    drop(dr);
    let mut dr = Driver::new(&d);
    dr.settle();
    assert_eq!(frames(&dr), 800, "the changed WAV's waveform");
    assert!(reads.load(Ordering::Relaxed) <= before + 1);
}
