//! Reading a take for playback: the file opened once (by the store's rules),
//! its header checked, then decoded through rodio (so 64-bit float, µ-law
//! and a-law play too). A header that would make the decoder fail or panic
//! (0 Hz, 0 channels, an odd block alignment, a truncated file) is a message
//! instead, and a panic inside the decoder is caught and becomes one too.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A decoded take on its way to a player.
pub type Decoded = rodio::Decoder<std::io::BufReader<File>>;

/// A take's audio, opened once: each decode reads it through its own file
/// description, so a new decoder never shares a read position with one
/// still playing, and the path is never looked up again.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub file: Arc<File>,
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        self.path == other.path
    }
}

impl Source {
    pub fn new(file: File, path: PathBuf) -> Source {
        Source {
            path,
            file: Arc::new(file),
        }
    }

    /// Opens `path` plainly (tests and tools outside a history directory).
    pub fn open(path: &Path) -> Result<Source, String> {
        let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Source::new(f, path.to_path_buf()))
    }

    /// A fresh file description on the same file, with its own position.
    fn reopen(&self) -> Result<File, String> {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&*self.file);
        File::open(format!("/proc/self/fd/{fd}"))
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// What the header of a take says, checked against the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// How long the audio the file really holds plays.
    pub duration: std::time::Duration,
}

/// Reads the WAV header of `src` and checks it for what a player needs; a
/// file shorter than its header says (a copy cut off, a crashed writer)
/// is an error that says so. A header that says "unknown length" (as
/// streaming writers leave it) plays what the file holds.
pub fn probe(src: &Source) -> Result<Probe, String> {
    let cannot = |why: String| format!("cannot play {}: {why}", src.path.display());
    let w = crate::wav::open_file(src.reopen()?).map_err(cannot)?;
    if w.is_truncated() {
        return Err(cannot(format!(
            "the file is truncated: its header says {:.1} s of audio, the file holds {:.1} s",
            w.header_duration_s().unwrap_or_default(),
            w.duration_s()
        )));
    }
    Ok(Probe {
        duration: std::time::Duration::from_secs_f64(w.duration_s()),
    })
}

/// Decodes a take, or says why it cannot be played.
pub(crate) fn decode(src: &Source) -> Result<Decoded, String> {
    let path = &src.path;
    let cannot = |why: String| format!("cannot play {}: {why}", path.display());
    probe(src)?;
    let f = src.reopen()?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rodio::Decoder::builder()
            .with_data(std::io::BufReader::new(f))
            .with_byte_len(len)
            .with_seekable(true)
            .with_hint("wav")
            .build()
    }));
    match built {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(cannot(format!("cannot decode: {e}"))),
        Err(p) => Err(cannot(format!(
            "the decoder failed ({})",
            crate::text::panic_text(&*p)
        ))),
    }
}
