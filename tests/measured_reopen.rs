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
    // A WAV that changed since is read again (its cached peaks are stale).
    genhist::audio::write_wav(
        &wav_of(&d, &ids[0]),
        &sine(8000, 1, 0.1, 220.0),
        genhist::audio::BitDepth::Int16,
    )
    .unwrap();
    drop(dr);
    let mut dr = Driver::new(&d);
    dr.settle();
    assert_eq!(reads.load(Ordering::Relaxed), before + 1);
}
