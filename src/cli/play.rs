//! `genhist play`: one take to the chosen (else the default) device,
//! returning when it ends.

use crate::playback::device::{open_device, queued_player, OutputFormat};
use crate::playback::{decode, Source};
use std::io::Write;

/// Plays `src` and returns when it has ended. Exit code 1 (with a message on
/// stderr) when there is no device or the take cannot be played.
pub(crate) fn play_blocking(
    src: &Source,
    device: Option<&str>,
    out: &mut impl Write,
) -> anyhow::Result<i32> {
    let total = decode::probe(src).map_err(anyhow::Error::msg)?.duration;
    let source = decode::decode(src).map_err(anyhow::Error::msg)?;
    let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let sink = match open_device(device, failed) {
        Ok(s) => s,
        Err(why) => {
            match device {
                Some(d) => eprintln!(
                    "genhist: cannot play on '{}' ({})",
                    crate::text::sanitize(d),
                    crate::text::sanitize(&why)
                ),
                None => eprintln!("genhist: no audio output device ({why})"),
            }
            return Ok(1);
        }
    };
    let (player, queue) = queued_player(source, 1.0, false, OutputFormat::of(&sink));
    sink.mixer().add(queue);
    writeln!(
        out,
        "playing {} ({:.1}s)",
        crate::text::sanitize(&src.path.display().to_string()),
        total.as_secs_f64()
    )?;
    out.flush()?;
    player.sleep_until_end();
    // Let the device drain what the mixer has handed it.
    std::thread::sleep(std::time::Duration::from_millis(150));
    Ok(0)
}
