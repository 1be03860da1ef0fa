//! The sound device: opening the default output without letting ALSA's own
//! messages reach the terminal, the format it runs at, and how a take is
//! handed to its mixer.

use std::path::Path;

use super::decode::Decoded;
use super::{Output, PlayerError};
use crate::sys::StderrRedirect;

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

/// Opens the default output device; the error says why there is none.
pub(crate) fn open_device() -> Result<rodio::MixerDeviceSink, String> {
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

/// The format an output runs at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputFormat {
    pub channels: rodio::ChannelCount,
    pub sample_rate: rodio::SampleRate,
}

impl OutputFormat {
    /// The format an opened device runs at.
    pub fn of(sink: &rodio::MixerDeviceSink) -> OutputFormat {
        OutputFormat {
            channels: sink.config().channel_count(),
            sample_rate: sink.config().sample_rate(),
        }
    }
}

/// A player with `source` already queued, and the queue's output to hand to
/// the mixer. Two things keep the start of a take clean:
/// - The take is queued before the queue joins the mixer: the mixer reads the
///   queue's format when it is added, and an empty queue reports a
///   placeholder format for its first ~512 samples (a take in another format
///   played garbled, a chirp).
/// - A take at another sample rate than the output's is converted here, once:
///   left to the mixer, its converter restarts at every span of the queue
///   (a one-sample hiccup after the first 512 samples). A take at the output's
///   rate goes through untouched (bit-exact).
pub(crate) fn queued_player(
    source: Decoded,
    volume: f32,
    paused: bool,
    output: OutputFormat,
) -> (rodio::Player, rodio::queue::SourcesQueueOutput) {
    use rodio::Source;
    let (player, queue) = rodio::Player::new();
    player.set_volume(volume);
    if paused {
        player.pause();
    }
    if source.sample_rate() == output.sample_rate {
        player.append(source);
    } else {
        player.append(rodio::source::UniformSourceIterator::new(
            source,
            output.channels,
            output.sample_rate,
        ));
    }
    (player, queue)
}

/// The default audio device: opened on the first play, released when the
/// engine has been idle a while (an open stream keeps a real sound card busy
/// and a capture file growing), opened again on the next play.
#[derive(Default)]
pub struct DeviceOutput {
    sink: Option<rodio::MixerDeviceSink>,
}

impl Output for DeviceOutput {
    fn connect(
        &mut self,
        source: Decoded,
        volume: f32,
        paused: bool,
    ) -> Result<rodio::Player, PlayerError> {
        if self.sink.is_none() {
            self.sink = Some(open_device().map_err(PlayerError::NoDevice)?);
        }
        let sink = self
            .sink
            .as_ref()
            .ok_or_else(|| PlayerError::NoDevice("it closed".into()))?;
        let (player, queue) = queued_player(source, volume, paused, OutputFormat::of(sink));
        sink.mixer().add(queue);
        Ok(player)
    }

    fn release(&mut self) {
        self.sink = None;
    }

    fn is_open(&self) -> bool {
        self.sink.is_some()
    }
}
