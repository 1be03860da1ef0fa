//! What the status line says: information that fades, and errors that stay
//! until their cause is gone (or Esc).

use std::collections::VecDeque;

/// Ticks (of about 100 ms) an informational message stays.
const INFO_TICKS: u64 = 40;
/// Messages kept for `:messages`.
const KEPT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// What an error is about, so it can clear once its cause is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Other,
    /// No sound device (cleared when a take plays).
    Device,
    /// history.json cannot be read (cleared when it can).
    Index,
    CommandHistory,
    Config,
    /// The annotations file cannot be read (cleared when it can).
    Annotations,
    /// A rating, reject, tag or note command that did not parse (cleared
    /// by the next one that works).
    Edit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    pub cause: Cause,
    /// The tick it was shown at.
    pub at: u64,
    /// Errors stay until their cause is gone or Esc; then this is set.
    pub dismissed: bool,
}

/// The recent messages, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Messages {
    pub list: VecDeque<Message>,
    /// Ticks since start (the clock information fades by).
    pub ticks: u64,
}

impl Messages {
    pub fn tick(&mut self) {
        self.ticks += 1;
    }

    /// The message the status line shows: the newest info still fresh, else
    /// the newest error not dismissed.
    pub fn current(&self) -> Option<&Message> {
        self.list.iter().rev().find(|m| match m.level {
            Level::Info => self.ticks.saturating_sub(m.at) < INFO_TICKS,
            Level::Error => !m.dismissed,
        })
    }

    pub fn push(&mut self, level: Level, cause: Cause, text: String) {
        // The same message again (autoplay over takes with no device, say)
        // is the one message, shown again; not another line.
        if let Some(last) = self.list.back_mut() {
            if last.level == level && last.cause == cause && last.text == text {
                last.at = self.ticks;
                last.dismissed = false;
                return;
            }
        }
        tracing::info!("{level:?}: {text}");
        self.list.push_back(Message {
            level,
            text,
            cause,
            at: self.ticks,
            dismissed: false,
        });
        while self.list.len() > KEPT {
            self.list.pop_front();
        }
    }

    /// An error about `cause`: a newer one of the same cause replaces the old.
    pub(crate) fn error_about(&mut self, cause: Cause, text: String) {
        self.clear_cause(cause);
        self.push(Level::Error, cause, text);
    }

    /// The cause of these errors is gone.
    pub(crate) fn clear_cause(&mut self, cause: Cause) {
        for m in &mut self.list {
            if m.level == Level::Error && m.cause == cause {
                m.dismissed = true;
            }
        }
    }

    pub(crate) fn dismiss_all(&mut self) {
        for m in &mut self.list {
            m.dismissed = true;
        }
    }

    /// Every message in full for `:messages`: errors first, newest first.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for level in [Level::Error, Level::Info] {
            for m in self.list.iter().rev().filter(|m| m.level == level) {
                let tag = if level == Level::Error {
                    "error"
                } else {
                    "info "
                };
                lines.push(format!("{tag}  {}", m.text));
            }
        }
        if lines.is_empty() {
            lines.push("no messages yet".into());
        }
        lines
    }
}
