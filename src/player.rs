//! Audio output through rodio: opening the default device without letting
//! ALSA's own messages reach the terminal, and blocking playback for `genhist play`.

use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::Duration;

/// While alive, file descriptor 2 points at `target` (the log file or /dev/null),
/// so libasound's and rodio's `eprintln!`s never land on the screen.
pub struct StderrRedirect {
    saved: libc::c_int,
}

impl StderrRedirect {
    pub fn to_file(target: &File) -> Option<StderrRedirect> {
        // SAFETY: dup/dup2 on descriptors we own; failure leaves fd 2 untouched.
        unsafe {
            let saved = libc::dup(2);
            if saved < 0 {
                return None;
            }
            if libc::dup2(target.as_raw_fd(), 2) < 0 {
                libc::close(saved);
                return None;
            }
            Some(StderrRedirect { saved })
        }
    }

    pub fn to_null() -> Option<StderrRedirect> {
        let null = File::options().write(true).open("/dev/null").ok()?;
        StderrRedirect::to_file(&null)
    }
}

impl Drop for StderrRedirect {
    fn drop(&mut self) {
        // SAFETY: restores the descriptor saved in `to_file`.
        unsafe {
            libc::dup2(self.saved, 2);
            libc::close(self.saved);
        }
    }
}

/// Opens the default output device; the error says why there is none.
/// An ALSA configuration (for `ALSA_CONFIG_PATH`) whose default device
/// writes what is played to `raw` (float32 LE, as negotiated) through the
/// `file` plugin over a `null` device: real output without sound hardware,
/// for the capture test and the latency benchmark.
pub fn capture_config(raw: &Path) -> String {
    format!(
        "pcm.!default {{ type file; slave.pcm {{ type null }}; file \"{}\"; format \"raw\" }}\n",
        raw.display()
    )
}

pub fn open_device() -> Result<rodio::MixerDeviceSink, String> {
    let _quiet = StderrRedirect::to_null();
    match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(mut sink) => {
            sink.log_on_drop(false);
            Ok(sink)
        }
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            Err(msg)
        }
    }
}

/// A take's audio, opened once (safely, by the store): each decode reads it
/// through its own file description, so a new decoder never shares a read
/// position with one still playing, and the path is never looked up again.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: std::path::PathBuf,
    pub file: std::sync::Arc<File>,
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        self.path == other.path
    }
}

impl Source {
    pub fn new(file: File, path: std::path::PathBuf) -> Source {
        Source {
            path,
            file: std::sync::Arc::new(file),
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

/// Decodes a take through rodio (so 64-bit float, µ-law and a-law play too).
pub fn decode(src: &Source) -> Result<rodio::Decoder<std::io::BufReader<File>>, String> {
    let path = &src.path;
    let f = src.reopen()?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    rodio::Decoder::builder()
        .with_data(std::io::BufReader::new(f))
        .with_byte_len(len)
        .with_seekable(true)
        .with_hint("wav")
        .build()
        .map_err(|e| format!("{}: cannot decode: {e}", path.display()))
}

/// Plays `src` to the default device and returns when it has ended.
/// Exit code 1 (with a message on stderr) when there is no device.
pub fn play_blocking(src: &Source, out: &mut impl Write) -> anyhow::Result<i32> {
    let path = &src.path;
    let source = decode(src).map_err(anyhow::Error::msg)?;
    let sink = match open_device() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("genhist: no audio output device ({why})");
            return Ok(1);
        }
    };
    use rodio::Source;
    let total = source.total_duration();
    let output = crate::playback::OutputFormat::of(&sink);
    let (player, queue) = crate::playback::queued_player(source, 1.0, false, output);
    sink.mixer().add(queue);
    let _ = writeln!(
        out,
        "playing {}{}",
        path.display(),
        total.map_or(String::new(), |d| format!(" ({:.1}s)", d.as_secs_f64()))
    );
    let _ = out.flush();
    player.sleep_until_end();
    // Let the device drain what the mixer has handed it.
    std::thread::sleep(Duration::from_millis(150));
    Ok(0)
}
