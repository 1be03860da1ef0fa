//! The playback engine: play / pause / stop / seek / loop / volume over rodio,
//! on its own thread behind [`Output`], so tests run it without a device.
//!
//! Every start or seek builds a fresh `rodio::Player` on the open mixer with a
//! decoder already positioned, instead of `Player::clear`/`try_seek`, which wait
//! for the audio thread and could hang when it is not pulling.

use crate::player::{decode, open_device};
use rodio::Source;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where players come from: the sound device, or a test queue.
pub trait Output: Send {
    /// A new player with `source` queued (at `volume`, paused or not),
    /// connected to the output, or why there is none.
    fn connect(
        &mut self,
        source: Decoded,
        volume: f32,
        paused: bool,
    ) -> Result<rodio::Player, String>;
}

/// A decoded take on its way to a player.
pub type Decoded = rodio::Decoder<std::io::BufReader<std::fs::File>>;

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
pub fn queued_player(
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

/// The default audio device, opened on first use and retried after a failure.
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
    ) -> Result<rodio::Player, String> {
        if self.sink.is_none() {
            self.sink = Some(open_device().map_err(|e| format!("no audio output device ({e})"))?);
        }
        let sink = self.sink.as_ref().ok_or("no audio output device")?;
        let (player, queue) = queued_player(source, volume, paused, OutputFormat::of(sink));
        sink.mixer().add(queue);
        Ok(player)
    }
}

/// Commands to the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerCmd {
    /// Play `source` from the start (the entry `id` is shown as playing).
    Play {
        id: String,
        source: crate::player::Source,
    },
    /// Pause when playing, resume when paused.
    TogglePause,
    /// Stop and return to idle.
    Stop,
    /// Seek by seconds (`+5`, `-5`) or to an absolute position.
    Seek(SeekTo),
    /// Volume in percent, 0..=150.
    SetVolume(u16),
    /// Loop the take when it ends.
    SetLoop(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeekTo {
    By(f64),
    To(f64),
}

impl SeekTo {
    /// `+5`, `-5`, `30`, `1:30`.
    pub fn parse(s: &str) -> Result<SeekTo, String> {
        let s = s.trim();
        let bad = || format!("seek takes +5, -5, 30 or 1:30, not '{s}'");
        let secs = |t: &str| -> Result<f64, String> {
            let num = |x: &str| x.parse::<f64>().map_err(|_| bad());
            let v = match t.split_once(':') {
                Some((m, sec)) => num(m)? * 60.0 + num(sec)?,
                None => num(t)?,
            };
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad())
            }
        };
        if let Some(r) = s.strip_prefix('+') {
            Ok(SeekTo::By(secs(r)?))
        } else if let Some(r) = s.strip_prefix('-') {
            Ok(SeekTo::By(-secs(r)?))
        } else {
            Ok(SeekTo::To(secs(s)?))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlayState {
    #[default]
    Idle,
    Playing,
    Paused,
}

/// What the screen shows about playback.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub state: PlayState,
    pub id: Option<String>,
    pub position: Duration,
    pub duration: Duration,
    pub volume: u16,
    pub looping: bool,
    /// The newest error, numbered so the screen shows each once.
    pub error: Option<(u64, String)>,
}

impl Default for Status {
    fn default() -> Status {
        Status {
            state: PlayState::Idle,
            id: None,
            position: Duration::ZERO,
            duration: Duration::ZERO,
            volume: 100,
            looping: false,
            error: None,
        }
    }
}

struct Track {
    id: String,
    source: crate::player::Source,
    duration: Duration,
}

/// The engine itself, synchronous; [`PlayerThread`] runs it on a thread.
pub struct Engine<O: Output> {
    out: O,
    player: Option<rodio::Player>,
    track: Option<Track>,
    offset: Duration,
    paused: bool,
    looping: bool,
    volume: u16,
}

impl<O: Output> Engine<O> {
    pub fn new(out: O) -> Engine<O> {
        Engine {
            out,
            player: None,
            track: None,
            offset: Duration::ZERO,
            paused: false,
            looping: false,
            volume: 100,
        }
    }

    /// Carries out one command; an error is a message for the status bar.
    pub fn handle(&mut self, cmd: PlayerCmd) -> Result<(), String> {
        match cmd {
            PlayerCmd::Play { id, source } => {
                self.stop();
                let duration = decode(&source)?.total_duration().unwrap_or_default();
                self.track = Some(Track {
                    id,
                    source,
                    duration,
                });
                self.paused = false;
                if let Err(e) = self.start(Duration::ZERO) {
                    self.track = None;
                    return Err(e);
                }
                Ok(())
            }
            PlayerCmd::TogglePause => {
                if let Some(p) = &self.player {
                    self.paused = !self.paused;
                    if self.paused {
                        p.pause()
                    } else {
                        p.play()
                    }
                }
                Ok(())
            }
            PlayerCmd::Stop => {
                self.stop();
                Ok(())
            }
            PlayerCmd::Seek(to) => {
                let Some(track) = &self.track else {
                    return Err("nothing is playing".into());
                };
                let now = self.position().as_secs_f64();
                let target = match to {
                    SeekTo::By(d) => now + d,
                    SeekTo::To(t) => t,
                }
                .max(0.0);
                if track.duration > Duration::ZERO && target >= track.duration.as_secs_f64() {
                    // Past the end: the take is over.
                    self.stop();
                    return Ok(());
                }
                self.start(Duration::from_secs_f64(target))
            }
            PlayerCmd::SetVolume(v) => {
                self.volume = v.min(150);
                if let Some(p) = &self.player {
                    p.set_volume(self.volume as f32 / 100.0);
                }
                Ok(())
            }
            PlayerCmd::SetLoop(on) => {
                self.looping = on;
                Ok(())
            }
        }
    }

    /// (Re)starts the current track at `offset` on a fresh player.
    fn start(&mut self, offset: Duration) -> Result<(), String> {
        let track = self.track.as_ref().ok_or("nothing to play")?;
        let mut source = decode(&track.source)?;
        if offset > Duration::ZERO {
            source
                .try_seek(offset)
                .map_err(|e| format!("cannot seek to {:.1}s: {e}", offset.as_secs_f64()))?;
        }
        let player = self
            .out
            .connect(source, self.volume as f32 / 100.0, self.paused)?;
        // Dropping the old player silences it at once.
        self.player = Some(player);
        self.offset = offset;
        Ok(())
    }

    fn stop(&mut self) {
        self.player = None;
        self.track = None;
        self.offset = Duration::ZERO;
        self.paused = false;
    }

    fn position(&self) -> Duration {
        self.offset + self.player.as_ref().map_or(Duration::ZERO, |p| p.get_pos())
    }

    /// Notices the end of a take (looping or going idle) and reports the state.
    pub fn status(&mut self) -> Status {
        let ended = self.player.as_ref().is_some_and(|p| p.empty());
        if ended && self.track.is_some() {
            if self.looping {
                if self.start(Duration::ZERO).is_err() {
                    self.stop();
                }
            } else {
                self.stop();
            }
        }
        let state = match (&self.track, self.paused) {
            (None, _) => PlayState::Idle,
            (Some(_), true) => PlayState::Paused,
            (Some(_), false) => PlayState::Playing,
        };
        let duration = self.track.as_ref().map_or(Duration::ZERO, |t| t.duration);
        Status {
            state,
            id: self.track.as_ref().map(|t| t.id.clone()),
            position: self.position().min(duration.max(self.offset)),
            duration,
            volume: self.volume,
            looping: self.looping,
            error: None,
        }
    }
}

/// The engine on its own thread: commands in, a shared [`Status`] out (updated
/// every 20 ms, so the screen's position moves at far more than 10 Hz).
pub struct PlayerThread {
    tx: Sender<PlayerCmd>,
    status: Arc<Mutex<Status>>,
}

impl PlayerThread {
    pub fn spawn<O: Output + 'static>(out: O) -> PlayerThread {
        let (tx, rx) = channel();
        let status = Arc::new(Mutex::new(Status::default()));
        let shared = status.clone();
        std::thread::Builder::new()
            .name("genhist-player".into())
            .spawn(move || run_engine(Engine::new(out), rx, shared))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the player thread: {e}"));
        PlayerThread { tx, status }
    }

    pub fn send(&self, cmd: PlayerCmd) {
        let _ = self.tx.send(cmd);
    }

    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn run_engine<O: Output>(
    mut engine: Engine<O>,
    rx: Receiver<PlayerCmd>,
    shared: Arc<Mutex<Status>>,
) {
    let mut errors = 0u64;
    let mut last_error: Option<(u64, String)> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(cmd) => {
                let t0 = Instant::now();
                tracing::debug!("player: {cmd:?}");
                if let Err(e) = engine.handle(cmd) {
                    tracing::warn!("player: {e}");
                    errors += 1;
                    last_error = Some((errors, e));
                }
                tracing::debug!("player: handled in {:?}", t0.elapsed());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let mut s = engine.status();
        s.error = last_error.clone();
        if let Ok(mut g) = shared.lock() {
            *g = s;
        }
    }
}

/// A device-less output for tests: each player's sample queue is handed out
/// through `queue` so a test can pull samples like a sound card would.
#[derive(Clone, Default)]
pub struct QueueOutput {
    pub queue: Arc<Mutex<Option<rodio::queue::SourcesQueueOutput>>>,
    /// When set, `connect` fails with this reason (a machine without a device).
    pub fail: Option<String>,
}

impl Output for QueueOutput {
    fn connect(
        &mut self,
        source: Decoded,
        volume: f32,
        paused: bool,
    ) -> Result<rodio::Player, String> {
        if let Some(why) = &self.fail {
            return Err(format!("no audio output device ({why})"));
        }
        // The test "device" runs mono at 48 kHz.
        let output = OutputFormat {
            channels: rodio::ChannelCount::new(1).expect("nonzero"),
            sample_rate: rodio::SampleRate::new(48_000).expect("nonzero"),
        };
        let (player, queue) = queued_player(source, volume, paused, output);
        if let Ok(mut q) = self.queue.lock() {
            *q = Some(queue);
        }
        Ok(player)
    }
}

impl QueueOutput {
    /// Pulls `n` samples as the device would; returns them.
    pub fn pull(&self, n: usize) -> Vec<f32> {
        let mut guard = match self.queue.lock() {
            Ok(g) => g,
            Err(_) => return Vec::new(),
        };
        match guard.as_mut() {
            Some(q) => q.by_ref().take(n).collect(),
            None => Vec::new(),
        }
    }
}
