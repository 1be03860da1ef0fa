//! A progress bar on stderr for long commands, shown only when stderr is a
//! terminal and the work has taken more than a moment.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub(super) struct Progress {
    bar: indicatif::ProgressBar,
    start: Instant,
    wanted: bool,
    shown: std::cell::Cell<bool>,
    template: &'static str,
}

impl Progress {
    /// `template`: indicatif's, e.g. `"exporting {bar:30} {pos}/{len}"`.
    pub(super) fn new(wanted: bool, template: &'static str) -> Progress {
        Progress {
            bar: indicatif::ProgressBar::hidden(),
            start: Instant::now(),
            wanted: wanted && std::io::stderr().is_terminal(),
            shown: std::cell::Cell::new(false),
            template,
        }
    }

    pub(super) fn tick(&self, done: usize, total: usize) {
        if !self.wanted {
            return;
        }
        if !self.shown.get() && self.start.elapsed() > Duration::from_millis(300) {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(self.template) {
                self.bar.set_style(style);
            }
            self.shown.set(true);
        }
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }

    pub(super) fn finish(&self) {
        if self.shown.get() {
            self.bar.finish_and_clear();
        }
    }
}
