//! The browser's styles. Every distinction that matters (the selected row,
//! marks, errors) is made with an attribute (reverse, bold, underline), so
//! it shows on any palette and without colour; colours come on top, from
//! the theme. `NO_COLOR` (any value) removes every colour.

use ratatui::style::{Color, Modifier, Style};

/// Colours of the screen's parts (config: `[theme]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub accent: Option<Color>,
    /// The list's sparklines (a calm colour: there is one on every row).
    pub sparkline: Option<Color>,
    pub waveform: Option<Color>,
    pub waveform_right: Option<Color>,
    pub playhead: Option<Color>,
    pub selected_bg: Option<Color>,
    pub status_fg: Option<Color>,
    pub status_bg: Option<Color>,
    pub info: Option<Color>,
    pub error: Option<Color>,
    pub dim: Option<Color>,
    pub label: Option<Color>,
    pub mark: Option<Color>,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            accent: Some(Color::Yellow),
            sparkline: Some(Color::Indexed(67)),
            waveform: Some(Color::Cyan),
            waveform_right: Some(Color::LightBlue),
            playhead: Some(Color::Yellow),
            selected_bg: Some(Color::DarkGray),
            status_fg: Some(Color::Black),
            status_bg: Some(Color::Gray),
            info: Some(Color::Green),
            error: Some(Color::Red),
            dim: Some(Color::DarkGray),
            label: Some(Color::Gray),
            mark: Some(Color::Magenta),
        }
    }
}

/// The names of the theme's colours (for the config file and its docs).
const THEME_KEYS: &[&str] = &[
    "accent",
    "sparkline",
    "waveform",
    "waveform_right",
    "playhead",
    "selected_bg",
    "status_fg",
    "status_bg",
    "info",
    "error",
    "dim",
    "label",
    "mark",
];

fn fg(c: Option<Color>) -> Style {
    c.map_or(Style::new(), |c| Style::new().fg(c))
}

impl Theme {
    /// No colours at all: attributes only.
    pub fn no_color() -> Theme {
        Theme {
            accent: None,
            sparkline: None,
            waveform: None,
            waveform_right: None,
            playhead: None,
            selected_bg: None,
            status_fg: None,
            status_bg: None,
            info: None,
            error: None,
            dim: None,
            label: None,
            mark: None,
        }
    }

    /// The theme for this environment: `NO_COLOR` wins over everything.
    pub(crate) fn for_env(configured: Theme) -> Theme {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Theme::no_color()
        } else {
            configured
        }
    }

    /// Sets a colour by name (`accent`, ...) from `#rrggbb`, a colour name or
    /// an ANSI index; `none` removes it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let c = if value.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(value.parse::<Color>().map_err(|_| {
                format!("'{value}' is not a colour (#rrggbb, a name like cyan, or 0-255)")
            })?)
        };
        let slot = match key {
            "accent" => &mut self.accent,
            "sparkline" => &mut self.sparkline,
            "waveform" => &mut self.waveform,
            "waveform_right" => &mut self.waveform_right,
            "playhead" => &mut self.playhead,
            "selected_bg" => &mut self.selected_bg,
            "status_fg" => &mut self.status_fg,
            "status_bg" => &mut self.status_bg,
            "info" => &mut self.info,
            "error" => &mut self.error,
            "dim" => &mut self.dim,
            "label" => &mut self.label,
            "mark" => &mut self.mark,
            other => {
                return Err(format!(
                    "unknown theme colour '{other}' (known: {})",
                    THEME_KEYS.join(", ")
                ))
            }
        };
        *slot = c;
        Ok(())
    }

    pub fn selected(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        match self.selected_bg {
            // A colour of its own instead of reversing the row's colours.
            Some(bg) => Style::new().bg(bg).add_modifier(Modifier::BOLD),
            None => s,
        }
    }

    pub fn header(&self) -> Style {
        fg(self.label).add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub(crate) fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub(crate) fn accent(&self) -> Style {
        fg(self.accent)
    }

    pub fn mark(&self) -> Style {
        fg(self.mark).add_modifier(Modifier::BOLD)
    }

    pub(crate) fn spark(&self) -> Style {
        fg(self.sparkline)
    }

    /// A sparkline's columns at full scale (the take clips there).
    pub(crate) fn spark_hot(&self) -> Style {
        fg(self.error).add_modifier(Modifier::BOLD)
    }

    pub(crate) fn wave(&self, channel: usize) -> Color {
        let c = if channel == 0 {
            self.waveform
        } else {
            self.waveform_right
        };
        c.unwrap_or(Color::Reset)
    }

    pub(crate) fn playhead(&self) -> Color {
        self.playhead.unwrap_or(Color::Reset)
    }

    pub fn status(&self) -> Style {
        let mut s = Style::new();
        if let Some(c) = self.status_fg {
            s = s.fg(c);
        }
        match self.status_bg {
            Some(c) => s.bg(c),
            None => s.add_modifier(Modifier::REVERSED),
        }
    }

    pub(crate) fn info(&self) -> Style {
        fg(self.info)
    }

    pub fn error(&self) -> Style {
        fg(self.error).add_modifier(Modifier::BOLD)
    }

    pub(crate) fn dim(&self) -> Style {
        match self.dim {
            Some(c) => Style::new().fg(c),
            None => Style::new().add_modifier(Modifier::DIM),
        }
    }

    pub fn label(&self) -> Style {
        fg(self.label)
    }

    /// A missing or refused file, a failed waveform.
    pub fn bad(&self) -> Style {
        fg(self.error)
    }
}
