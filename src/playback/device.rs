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

/// An ALSA configuration whose devices `name` (each with its description)
/// write what is played to their own raw file (float32 LE) through the
/// `file` plugin over `null`: several devices without sound hardware, for
/// the device tests. The default device is the first.
pub fn capture_devices_config(devices: &[(&str, &str, &Path)]) -> String {
    let mut s = String::new();
    for (i, (name, description, raw)) in devices.iter().enumerate() {
        let pcm = format!(
            "{{ type file; slave.pcm {{ type null }}; file \"{}\"; format \"raw\"; hint {{ show on; description \"{description}\" }} }}",
            raw.display()
        );
        s.push_str(&format!("pcm.{name} {pcm}\n"));
        if i == 0 {
            s.push_str(&format!("pcm.!default {pcm}\n"));
        }
    }
    s
}

/// An output device as the host offers it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceInfo {
    /// What `--device` takes (ALSA's PCM name: `default`, `hw:CARD=0,DEV=0`, …).
    pub name: String,
    pub description: String,
    /// The host's default output.
    pub default: bool,
}

/// The output devices the audio host offers, the default first.
pub fn list_devices() -> Result<Vec<DeviceInfo>, String> {
    use rodio::cpal::traits::HostTrait;
    use rodio::DeviceTrait;
    let _quiet = StderrRedirect::to_null();
    let host = rodio::cpal::default_host();
    let default = host
        .default_output_device()
        .and_then(|d| d.id().ok())
        .map(|id| id.id().to_string());
    let devices = host.output_devices().map_err(|e| e.to_string())?;
    let mut out: Vec<DeviceInfo> = Vec::new();
    for d in devices {
        let Ok(id) = d.id() else { continue };
        let name = id.id().to_string();
        if out.iter().any(|o| o.name == name) {
            continue;
        }
        let description = d
            .description()
            .map(|x| {
                let mut lines: Vec<String> = vec![x.name().to_string()];
                lines.extend(x.extended().map(str::to_string).filter(|l| l != x.name()));
                lines.join(" — ")
            })
            .unwrap_or_default();
        out.push(DeviceInfo {
            default: Some(&name) == default.as_ref(),
            name,
            description,
        });
    }
    out.sort_by_key(|d| !d.default);
    Ok(out)
}

/// The device `asked` names among `devices`: its exact name, else the one
/// whose name (or description) holds it, any case. An unknown or ambiguous
/// name is an error listing the candidates.
pub fn resolve(asked: &str, devices: &[DeviceInfo]) -> Result<String, String> {
    if let Some(d) = devices.iter().find(|d| d.name == asked) {
        return Ok(d.name.clone());
    }
    let low = asked.to_lowercase();
    let by_name: Vec<&DeviceInfo> = devices
        .iter()
        .filter(|d| d.name.to_lowercase().contains(&low))
        .collect();
    let hits = if by_name.is_empty() {
        devices
            .iter()
            .filter(|d| d.description.to_lowercase().contains(&low))
            .collect()
    } else {
        by_name
    };
    let names = |l: &[&DeviceInfo]| {
        l.iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match hits.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => Err(format!(
            "no output device is called '{}'; the devices are: {} (genhist devices lists them)",
            crate::text::sanitize(asked),
            names(&devices.iter().collect::<Vec<_>>())
        )),
        many => Err(format!(
            "'{}' matches several output devices: {}; give more of the name",
            crate::text::sanitize(asked),
            names(many)
        )),
    }
}

/// The message of a rodio error with its causes.
fn describe(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// Opens the output device `choice` (`None`: the host's default), never
/// another one; stream errors are put in `failed`. The error says why it
/// cannot be opened.
pub(crate) fn open_device(
    choice: Option<&str>,
    failed: std::sync::Arc<std::sync::Mutex<Option<String>>>,
) -> Result<rodio::MixerDeviceSink, String> {
    use rodio::cpal::traits::HostTrait;
    use rodio::DeviceTrait;
    let _quiet = StderrRedirect::to_null();
    let host = rodio::cpal::default_host();
    let device = match choice {
        None => host
            .default_output_device()
            .ok_or_else(|| "the host has no default output".to_string())?,
        Some(name) => host
            .output_devices()
            .map_err(|e| e.to_string())?
            .find(|d| d.id().is_ok_and(|id| id.id() == name))
            .ok_or_else(|| format!("the device '{}' is not there", crate::text::sanitize(name)))?,
    };
    let on_error = move |e: rodio::cpal::Error| {
        tracing::warn!("audio stream error: {e}");
        if let Ok(mut f) = failed.lock() {
            f.get_or_insert_with(|| e.to_string());
        }
    };
    let builder = rodio::DeviceSinkBuilder::from_device(device)
        .map_err(|e| describe(&e))?
        .with_error_callback(on_error);
    match builder.open_sink_or_fallback() {
        Ok(mut sink) => {
            sink.log_on_drop(false);
            Ok(sink)
        }
        Err(e) => Err(describe(&e)),
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

/// The audio device (the chosen one, else the host's default): opened on
/// the first play, released when the engine has been idle a while (an open
/// stream keeps a real sound card busy and a capture file growing), opened
/// again on the next play. A stream error is kept for the engine to
/// recover from ([`Output::take_failure`]).
#[derive(Default)]
pub struct DeviceOutput {
    sink: Option<rodio::MixerDeviceSink>,
    choice: Option<String>,
    failed: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl DeviceOutput {
    /// The output on device `choice` (`None`: the default).
    pub fn on(choice: Option<String>) -> DeviceOutput {
        DeviceOutput {
            choice,
            ..DeviceOutput::default()
        }
    }
}

impl Output for DeviceOutput {
    fn connect(
        &mut self,
        source: Decoded,
        volume: f32,
        paused: bool,
    ) -> Result<rodio::Player, PlayerError> {
        if self.sink.is_none() {
            if let Ok(mut f) = self.failed.lock() {
                *f = None;
            }
            let sink = open_device(self.choice.as_deref(), self.failed.clone())
                .map_err(PlayerError::NoDevice)?;
            self.sink = Some(sink);
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

    fn set_device(&mut self, choice: Option<String>) {
        self.sink = None;
        self.choice = choice;
    }

    fn device(&self) -> Option<String> {
        self.choice.clone()
    }

    fn take_failure(&mut self) -> Option<String> {
        let why = self.failed.lock().ok()?.take()?;
        // The stream is broken: the next connect opens the device anew.
        self.sink = None;
        Some(why)
    }
}
