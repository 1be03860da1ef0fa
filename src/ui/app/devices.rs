//! `:device`: a picker of the output devices (the one in use marked);
//! `Enter` plays on the chosen one at once, keeping the position and pause
//! state of what plays.

use super::{App, Effect, Mode};
use crate::playback::device::DeviceInfo;
use crate::playback::PlayerCmd;
use crate::ui::command::Command;

/// The picker's state.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePicker {
    pub devices: Vec<DeviceInfo>,
    pub selected: usize,
}

impl App {
    /// `:device`: the devices are listed off this thread (the answer opens
    /// the picker).
    pub(super) fn ask_devices(&mut self) -> Vec<Effect> {
        self.info("looking for output devices…");
        vec![Effect::ListDevices]
    }

    /// The host's devices (or why there are none): the picker opens on the
    /// one in use.
    pub(super) fn devices_found(&mut self, r: Result<Vec<DeviceInfo>, String>) {
        match r {
            Ok(devices) if devices.is_empty() => self.error("no output devices"),
            Ok(devices) => {
                let current = self.player.status.device.clone();
                let selected = devices
                    .iter()
                    .position(|d| match &current {
                        Some(c) => &d.name == c,
                        None => d.default,
                    })
                    .unwrap_or(0);
                self.mode = Mode::Devices(DevicePicker { devices, selected });
            }
            Err(why) => self.error(format!("cannot list the output devices: {why}")),
        }
    }

    /// The picker's keys (the popup table: j/k, g/G, Enter, Esc).
    pub(super) fn run_devices(&mut self, cmd: Command) -> Vec<Effect> {
        let Mode::Devices(p) = &mut self.mode else {
            return vec![];
        };
        let last = p.devices.len().saturating_sub(1);
        match cmd {
            Command::Down => p.selected = (p.selected + 1).min(last),
            Command::Up => p.selected = p.selected.saturating_sub(1),
            Command::Top | Command::PageUp => p.selected = 0,
            Command::Bottom | Command::PageDown => p.selected = last,
            Command::Accept | Command::Play(None) => {
                let d = p.devices[p.selected].clone();
                self.mode = Mode::Normal;
                // The default follows the host's default wherever it goes.
                let name = (!d.default).then_some(d.name);
                return vec![Effect::Player(PlayerCmd::SetDevice(name))];
            }
            Command::Close | Command::Cancel => self.mode = Mode::Normal,
            _ => {}
        }
        vec![]
    }
}
