//! The browser's loop: one channel of [`Event`]s, fed by the terminal
//! reader, a ticker, the workers and the player; each event goes through
//! `App::update`; the effects it returns are handed to the workers (no file
//! work happens on this thread); then the screen is drawn.

use super::app::App;
use super::event::{Effect, Event};
use super::workers::Workers;
use crate::playback::{DeviceOutput, PlayerThread};
use crate::store::HistoryDir;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

/// How often the screen gets a tick (message fading, the playhead).
const TICK: Duration = Duration::from_millis(100);

/// Reads the terminal on its own thread.
fn read_terminal(tx: Sender<Event>) {
    use crossterm::event::Event as T;
    super::workers::spawn("genhist-input", move || loop {
        let ev = match crossterm::event::read() {
            Ok(T::Key(k)) => Event::Key(k),
            Ok(T::Mouse(m)) => Event::Mouse(m),
            Ok(T::Resize(w, h)) => Event::Resize(w, h),
            Ok(T::Paste(s)) => Event::Paste(s),
            Ok(_) => continue,
            Err(e) => {
                tracing::error!("reading the terminal: {e}");
                return;
            }
        };
        if tx.send(ev).is_err() {
            return;
        }
    });
}

fn tick(tx: Sender<Event>) {
    super::workers::spawn("genhist-tick", move || loop {
        std::thread::sleep(TICK);
        if tx.send(Event::Tick).is_err() {
            return;
        }
    });
}

/// Runs the browser over `app` until quit. `retention` is the trash's;
/// `history_file` where the command bar's lines are saved.
pub fn run_loop(
    screen: &mut super::terminal::Screen,
    mut app: App,
    first: Vec<Effect>,
    dir: &Path,
    retention: Option<Duration>,
    history_file: PathBuf,
) -> Result<i32> {
    let (tx, rx) = channel::<Event>();
    read_terminal(tx.clone());
    tick(tx.clone());
    let ptx = tx.clone();
    let workers = Workers::spawn(
        HistoryDir::new(dir).with_retention(retention),
        history_file,
        tx.clone(),
    );
    let player = PlayerThread::spawn(DeviceOutput::default(), move |e| {
        let _ = ptx.send(Event::Player(e));
    });
    drop(tx);
    let (w, h) = screen.size();
    let mut effects = first;
    effects.extend(app.update(Event::Resize(w, h)));
    loop {
        for e in effects.drain(..) {
            match workers.perform(e) {
                Some(Effect::Quit) => return Ok(0),
                Some(Effect::Player(cmd)) => player.send(cmd),
                _ => {}
            }
        }
        let now = chrono::Utc::now();
        screen.term.draw(|f| super::draw::draw(f, &app, now))?;
        let Ok(ev) = rx.recv() else {
            return Ok(0);
        };
        effects = app.update(ev);
        // Whatever else is waiting, before the next frame.
        while let Ok(ev) = rx.try_recv() {
            effects.extend(app.update(ev));
        }
    }
}
