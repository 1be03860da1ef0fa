//! The playback engine: play / pause / stop / seek / loop / volume over rodio,
//! on its own thread behind [`Output`], so tests run it without a device.
//!
//! Every start or seek builds a fresh `rodio::Player` on the open mixer with a
//! decoder already positioned, instead of `Player::clear`/`try_seek`, which wait
//! for the audio thread and could hang when it is not pulling.

pub mod decode;
pub mod device;

pub use decode::{Decoded, Source};
pub use device::{DeviceOutput, OutputFormat};

use rodio::Source as _;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How long the device stays open after the last take stopped.
pub const IDLE_RELEASE: Duration = Duration::from_secs(10);

/// Where players come from: the sound device, or a test queue.
pub trait Output: Send {
    /// A new player with `source` queued (at `volume`, paused or not),
    /// connected to the output, or why there is none.
    fn connect(
        &mut self,
        source: Decoded,
        volume: f32,
        paused: bool,
    ) -> Result<rodio::Player, PlayerError>;

    /// Lets the device go (it is opened again on the next play).
    fn release(&mut self) {}

    /// True while the device is open.
    fn is_open(&self) -> bool {
        false
    }

    /// Plays on device `name` from now on (`None`: the default); what is
    /// open is closed.
    fn set_device(&mut self, _name: Option<String>) {}

    /// The device chosen (`None`: the default).
    fn device(&self) -> Option<String> {
        None
    }

    /// A stream error since the last call (the device went away, was
    /// suspended, the sound server restarted): why. The output is closed.
    fn take_failure(&mut self) -> Option<String> {
        None
    }
}

/// Commands to the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerCmd {
    /// Play `source` from the start (the entry `id` is shown as playing).
    Play { id: String, source: Source },
    /// Open the take's file (`path` inside the history directory `dir`, by
    /// the store's rules) on the player's thread, then play it.
    Open {
        id: String,
        dir: PathBuf,
        path: crate::store::paths::RelPath,
        /// The take's sample peak (0..1) when known: above 100 % the volume
        /// never lifts it past full scale.
        peak: Option<f32>,
    },
    /// Open another take and go on at the same position (A/B comparison;
    /// paused stays paused). With nothing playing, like `Open`.
    Switch {
        id: String,
        dir: PathBuf,
        path: crate::store::paths::RelPath,
        peak: Option<f32>,
    },
    /// A gain on top of the volume (loudness matching); 1.0 is none.
    SetGain(f32),
    /// Pause when playing, resume when paused.
    TogglePause,
    /// Stop and return to idle.
    Stop,
    /// Seek by seconds (`+5`, `-5`) or to an absolute position.
    Seek(SeekTo),
    /// Volume in percent, 0..=150 (above 100 % only as far as the take's
    /// peak allows: the player never adds clipping).
    SetVolume(u16),
    /// Loop the take when it ends.
    SetLoop(bool),
    /// Play on device `name` from now on (`None`: the default); what plays
    /// goes on there at the same position, paused or not.
    SetDevice(Option<String>),
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
                Some((m, sec)) => {
                    let sec = num(sec)?;
                    // 2:75 is not a time.
                    if !(0.0..60.0).contains(&sec) {
                        return Err(bad());
                    }
                    num(m)? * 60.0 + sec
                }
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
    /// The volume the take really plays at when the one asked for would
    /// push its peak past full scale (or its peak is not known yet).
    pub capped: Option<u16>,
    pub looping: bool,
    /// The output device is open.
    pub device_open: bool,
    /// The device chosen (`None`: the host's default).
    pub device: Option<String>,
    /// The device failed and is being opened again.
    pub recovering: bool,
}

impl Default for Status {
    fn default() -> Status {
        Status {
            state: PlayState::Idle,
            id: None,
            position: Duration::ZERO,
            duration: Duration::ZERO,
            volume: 100,
            capped: None,
            looping: false,
            device_open: false,
            device: None,
            recovering: false,
        }
    }
}

/// Why the player could not do what it was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerError {
    /// No sound device could be opened: why (it clears when a take plays).
    NoDevice(String),
    /// The take could not be played: why.
    Take(String),
}

impl std::fmt::Display for PlayerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlayerError::NoDevice(why) => write!(f, "no audio output device ({why})"),
            PlayerError::Take(why) => f.write_str(why),
        }
    }
}

impl From<String> for PlayerError {
    fn from(why: String) -> PlayerError {
        PlayerError::Take(why)
    }
}

impl From<&str> for PlayerError {
    fn from(why: &str) -> PlayerError {
        PlayerError::Take(why.to_string())
    }
}

/// What the player thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    Status(Status),
    /// A command could not be carried out: why.
    Error(PlayerError),
    /// Something worth a word ("seek past the end: stopped").
    Note(String),
}

struct Track {
    id: String,
    source: Source,
    duration: Duration,
    /// Its sample peak (0..1), when known.
    peak: Option<f32>,
}

/// How long a failed device is tried again before the engine gives up.
pub const RECOVERY_FOR: Duration = Duration::from_secs(10);

/// The longest wait between two tries (so sound is back within it of the
/// device's return).
const RETRY_AT_MOST: Duration = Duration::from_millis(200);

/// A device that failed, being opened again.
struct Recovery {
    since: Instant,
    next_try: Instant,
    delay: Duration,
    /// Where the take was.
    at: Duration,
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
    gain: f32,
    /// Since when nothing plays (the device is released after [`IDLE_RELEASE`]).
    idle_since: Option<Instant>,
    recovery: Option<Recovery>,
    /// What is worth saying, for the thread to send.
    notes: Vec<PlayerEvent>,
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
            gain: 1.0,
            idle_since: Some(Instant::now()),
            recovery: None,
            notes: Vec::new(),
        }
    }

    /// What happened on its own since the last call (a device failed, came
    /// back, is gone), for the screen.
    pub fn take_notes(&mut self) -> Vec<PlayerEvent> {
        std::mem::take(&mut self.notes)
    }

    fn device_name(&self) -> String {
        match self.out.device() {
            Some(d) => format!("'{}'", crate::text::sanitize(&d)),
            None => "the default device".into(),
        }
    }

    /// A stream error: the take stops where it was and the device is
    /// opened again, at once and then with a growing wait, for up to
    /// [`RECOVERY_FOR`].
    fn recover(&mut self, now: Instant) {
        if let Some(why) = self.out.take_failure() {
            if self.track.is_some() && self.recovery.is_none() {
                let at = self.position();
                self.player = None;
                self.offset = at;
                self.recovery = Some(Recovery {
                    since: now,
                    next_try: now,
                    delay: Duration::from_millis(20),
                    at,
                });
                self.notes.push(PlayerEvent::Note(format!(
                    "the sound on {} failed ({}); reconnecting…",
                    self.device_name(),
                    crate::text::sanitize(&why)
                )));
            }
        }
        let Some(r) = &mut self.recovery else { return };
        if now < r.next_try {
            return;
        }
        let (at, since) = (r.at, r.since);
        r.delay = (r.delay * 2).min(RETRY_AT_MOST);
        r.next_try = now + r.delay;
        match self.start(at) {
            Ok(()) => {
                self.recovery = None;
                self.notes.push(PlayerEvent::Note(format!(
                    "sound back on {} at {:.1} s",
                    self.device_name(),
                    at.as_secs_f64()
                )));
            }
            Err(_) if now.saturating_duration_since(since) >= RECOVERY_FOR => {
                self.recovery = None;
                self.stop();
                self.notes.push(PlayerEvent::Error(PlayerError::NoDevice(format!(
                    "{} is gone (tried for {} s); plug it back and play again, or pick another with :device",
                    self.device_name(),
                    RECOVERY_FOR.as_secs()
                ))));
            }
            Err(_) => {}
        }
    }

    /// The output (tests look at their double through it).
    pub fn output(&self) -> &O {
        &self.out
    }

    /// Carries out one command: `Ok(Some(note))` when there is something to
    /// say; an error is a message for the status bar.
    // One arm per command of the player.
    pub fn handle(&mut self, cmd: PlayerCmd) -> Result<Option<String>, PlayerError> {
        match cmd {
            PlayerCmd::Open {
                id,
                dir,
                path,
                peak,
            } => {
                let source = open_take(&dir, &path)?;
                self.handle(PlayerCmd::Play { id, source })?;
                if let Some(t) = &mut self.track {
                    t.peak = peak;
                }
                self.apply_level();
                Ok(None)
            }
            PlayerCmd::Play { id, source } => {
                crate::fault::point("player");
                self.stop();
                let duration = decode::probe(&source)?.duration;
                self.track = Some(Track {
                    id,
                    source,
                    duration,
                    peak: None,
                });
                self.paused = false;
                if let Err(e) = self.start(Duration::ZERO) {
                    self.stop();
                    return Err(e);
                }
                Ok(None)
            }
            PlayerCmd::Switch {
                id,
                dir,
                path,
                peak,
            } => {
                let source = open_take(&dir, &path)?;
                if self.track.is_none() {
                    self.handle(PlayerCmd::Play { id, source })?;
                    if let Some(t) = &mut self.track {
                        t.peak = peak;
                    }
                    self.apply_level();
                    return Ok(None);
                }
                crate::fault::point("player");
                let at = self.position();
                let duration = decode::probe(&source)?.duration;
                let at = if duration > Duration::ZERO && at >= duration {
                    Duration::from_secs_f64(at.as_secs_f64() % duration.as_secs_f64())
                } else {
                    at
                };
                self.track = Some(Track {
                    id,
                    source,
                    duration,
                    peak,
                });
                if let Err(e) = self.start(at) {
                    self.stop();
                    return Err(e);
                }
                Ok(None)
            }
            PlayerCmd::SetGain(g) => {
                self.gain = if g.is_finite() {
                    g.clamp(0.0, 4.0)
                } else {
                    1.0
                };
                if let Some(p) = &self.player {
                    p.set_volume(self.level());
                }
                Ok(None)
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
                Ok(None)
            }
            PlayerCmd::Stop => {
                self.stop();
                Ok(None)
            }
            PlayerCmd::Seek(to) => {
                let Some(track) = &self.track else {
                    return Err(PlayerError::Take("nothing is playing".into()));
                };
                let total = track.duration.as_secs_f64();
                let now = self.position().as_secs_f64();
                let mut target = match to {
                    SeekTo::By(d) => now + d,
                    SeekTo::To(t) => t,
                }
                .max(0.0);
                if total > 0.0 && target >= total {
                    if !self.looping {
                        self.stop();
                        return Ok(Some("seek past the end: stopped".into()));
                    }
                    target %= total;
                }
                self.start(Duration::from_secs_f64(target)).map(|()| None)
            }
            PlayerCmd::SetVolume(v) => {
                self.volume = v.min(150);
                if let Some(p) = &self.player {
                    p.set_volume(self.level());
                }
                Ok(None)
            }
            PlayerCmd::SetLoop(on) => {
                self.looping = on;
                Ok(None)
            }
            PlayerCmd::SetDevice(name) => {
                let at = self.position();
                self.player = None;
                self.recovery = None;
                self.out.set_device(name);
                if self.track.is_some() {
                    // What plays goes on there, paused or not; a device that
                    // cannot be opened plays nothing (never another one).
                    if let Err(e) = self.start(at) {
                        self.offset = at;
                        return Err(e);
                    }
                }
                Ok(Some(format!("sound on {}", self.device_name())))
            }
        }
    }

    /// (Re)starts the current track at `offset` on a fresh player.
    fn start(&mut self, offset: Duration) -> Result<(), PlayerError> {
        let track = self.track.as_ref().ok_or("nothing to play")?;
        let mut source = decode::decode(&track.source)?;
        if offset > Duration::ZERO {
            source
                .try_seek(offset)
                .map_err(|e| format!("cannot seek to {:.1}s: {e}", offset.as_secs_f64()))?;
        }
        let player = self.out.connect(source, self.level(), self.paused)?;
        // Dropping the old player silences it at once.
        self.player = Some(player);
        self.offset = offset;
        self.idle_since = None;
        Ok(())
    }

    /// The player's volume: the user's, times the loudness-matching gain;
    /// above 1 only as far as the take's peak stays at or under full scale
    /// (not at all while its peak is unknown).
    fn level(&self) -> f32 {
        let want = self.volume as f32 / 100.0 * self.gain;
        if want <= 1.0 {
            return want;
        }
        let ceiling = match self.track.as_ref().and_then(|t| t.peak) {
            Some(p) if p > 0.0 => (1.0 / p).max(1.0),
            _ => 1.0,
        };
        want.min(ceiling)
    }

    /// Sets the level on the player now playing.
    fn apply_level(&self) {
        if let Some(p) = &self.player {
            p.set_volume(self.level());
        }
    }

    /// The volume in percent the take really plays at, when that is less
    /// than what was asked for (to keep it from clipping).
    fn capped(&self) -> Option<u16> {
        let want = self.volume as f32 / 100.0 * self.gain;
        let got = self.level();
        (self.track.is_some() && got + 1e-4 < want)
            .then(|| (got / self.gain.max(1e-6) * 100.0).floor() as u16)
    }

    fn stop(&mut self) {
        self.player = None;
        self.recovery = None;
        self.track = None;
        self.offset = Duration::ZERO;
        self.paused = false;
        self.idle_since.get_or_insert_with(Instant::now);
    }

    fn position(&self) -> Duration {
        self.offset + self.player.as_ref().map_or(Duration::ZERO, |p| p.get_pos())
    }

    /// Notices the end of a take (looping or going idle), and releases the
    /// device after [`IDLE_RELEASE`] without playback (`now`: the clock).
    pub fn tick(&mut self, now: Instant) {
        self.recover(now);
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
        if self.track.is_none() && self.out.is_open() {
            let since = *self.idle_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= IDLE_RELEASE {
                self.out.release();
            }
        }
    }

    /// The state as the screen shows it.
    pub fn status(&mut self) -> Status {
        self.tick(Instant::now());
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
            capped: self.capped(),
            looping: self.looping,
            device_open: self.out.is_open(),
            device: self.out.device(),
            recovering: self.recovery.is_some(),
        }
    }
}

/// Opens `path` below `dir` by the store's rules (no symlink, a regular file).
fn open_take(dir: &std::path::Path, path: &crate::store::paths::RelPath) -> Result<Source, String> {
    use crate::store::paths::{locate, Located};
    let root = crate::fsutil::Dir::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let full = dir.join(path.to_string());
    match locate(&root, path) {
        Located::Present { parent, name, .. } => parent
            .open_regular(&name)
            .map(|f| Source::new(f, full.clone()))
            .map_err(|e| format!("{}: {e}", full.display())),
        Located::Missing => Err(format!("{}: the WAV file is missing", full.display())),
        Located::Refused(why) => Err(format!("{}: {why}", full.display())),
    }
}

/// The engine on its own thread: commands in, [`PlayerEvent`]s out through
/// `notify` (status when it changes, at most every 20 ms while playing).
pub struct PlayerThread {
    tx: Sender<PlayerCmd>,
}

impl PlayerThread {
    pub fn spawn<O: Output + 'static>(
        out: O,
        notify: impl Fn(PlayerEvent) + Send + 'static,
    ) -> PlayerThread {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("genhist-player".into())
            .spawn(move || run_engine(Engine::new(out), rx, notify))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the player thread: {e}"));
        PlayerThread { tx }
    }

    pub fn send(&self, cmd: PlayerCmd) {
        let _ = self.tx.send(cmd);
    }
}

fn run_engine<O: Output>(
    mut engine: Engine<O>,
    rx: Receiver<PlayerCmd>,
    notify: impl Fn(PlayerEvent),
) {
    let mut last: Option<Status> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(cmd) => {
                tracing::debug!("player: {cmd:?}");
                // A panic (a decoder's, say) ends this command, not the player.
                let r =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.handle(cmd)));
                match r {
                    Ok(Ok(None)) => {}
                    Ok(Ok(Some(note))) => notify(PlayerEvent::Note(note)),
                    Ok(Err(e)) => {
                        tracing::warn!("player: {e}");
                        notify(PlayerEvent::Error(e));
                    }
                    Err(p) => {
                        let msg = format!("cannot play: {}", crate::text::panic_text(&*p));
                        tracing::error!("player: {msg}");
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            engine.handle(PlayerCmd::Stop)
                        }));
                        notify(PlayerEvent::Error(PlayerError::Take(msg)));
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let s = engine.status();
        for n in engine.take_notes() {
            notify(n);
        }
        if last.as_ref() != Some(&s) {
            notify(PlayerEvent::Status(s.clone()));
            last = Some(s);
        }
    }
}

/// A device-less output for tests: each player's sample queue is handed out
/// through `queue` so a test can pull samples like a sound card would.
#[cfg(any(test, feature = "test-double"))]
#[derive(Clone, Default)]
pub struct QueueOutput {
    pub queue: std::sync::Arc<std::sync::Mutex<Option<rodio::queue::SourcesQueueOutput>>>,
    /// When set, `connect` fails with this reason (a machine without a device).
    pub fail: Option<String>,
    /// Whether the "device" is open, and how often it was opened.
    pub state: std::sync::Arc<std::sync::Mutex<(bool, usize)>>,
    /// A stream error to report (a test makes the device fail mid-take).
    pub failure: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// While true, the "device" cannot be opened (it is gone).
    pub down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The device chosen.
    pub chosen: Option<String>,
}

#[cfg(any(test, feature = "test-double"))]
impl Output for QueueOutput {
    fn connect(
        &mut self,
        source: Decoded,
        volume: f32,
        paused: bool,
    ) -> Result<rodio::Player, PlayerError> {
        if let Some(why) = &self.fail {
            return Err(PlayerError::NoDevice(why.clone()));
        }
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PlayerError::NoDevice("the test device is gone".into()));
        }
        if let Ok(mut s) = self.state.lock() {
            if !s.0 {
                *s = (true, s.1 + 1);
            }
        }
        // The test "device" runs mono at 48 kHz.
        let output = OutputFormat {
            channels: rodio::ChannelCount::new(1).expect("nonzero"),
            sample_rate: rodio::SampleRate::new(48_000).expect("nonzero"),
        };
        let (player, queue) = device::queued_player(source, volume, paused, output);
        if let Ok(mut q) = self.queue.lock() {
            *q = Some(queue);
        }
        Ok(player)
    }

    fn release(&mut self) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = false;
        }
    }

    fn is_open(&self) -> bool {
        self.state.lock().is_ok_and(|s| s.0)
    }

    fn set_device(&mut self, name: Option<String>) {
        self.release();
        self.chosen = name;
    }

    fn device(&self) -> Option<String> {
        self.chosen.clone()
    }

    fn take_failure(&mut self) -> Option<String> {
        let why = self.failure.lock().ok()?.take()?;
        self.release();
        if let Ok(mut q) = self.queue.lock() {
            *q = None;
        }
        Some(why)
    }
}

#[cfg(any(test, feature = "test-double"))]
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

    /// How many times the "device" was opened.
    pub fn opens(&self) -> usize {
        self.state.lock().map_or(0, |s| s.1)
    }
}
