//! Text shown to people: sanitizing untrusted strings from the index, and
//! formatting times, ages, sizes and durations.

use chrono::{DateTime, Local, TimeZone, Utc};

/// Makes untrusted text safe to print on a terminal: control characters (C0,
/// DEL, C1), which include escape sequences, and bidirectional overrides become
/// visible `�`, so nothing from the index can move the cursor, recolour the
/// screen or reorder text.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    let mut marks = 0;
    let clean = s.chars().all(|c| {
        marks = if is_combining(c) { marks + 1 } else { 0 };
        !acts_on_terminal(c) && marks <= MAX_MARKS
    });
    if clean {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut marks = 0;
    std::borrow::Cow::Owned(
        s.chars()
            .filter_map(|c| {
                marks = if is_combining(c) { marks + 1 } else { 0 };
                if acts_on_terminal(c) {
                    Some('\u{fffd}')
                } else {
                    (marks <= MAX_MARKS).then_some(c)
                }
            })
            .collect(),
    )
}

/// Combining marks kept on one character (real scripts stack two or
/// three; a long run piles up over other rows).
const MAX_MARKS: usize = 3;

/// Combining diacritical marks (the blocks a pile-up is made of).
fn is_combining(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036f}'
            | '\u{1ab0}'..='\u{1aff}'
            | '\u{1dc0}'..='\u{1dff}'
            | '\u{20d0}'..='\u{20ff}'
            | '\u{fe20}'..='\u{fe2f}')
}

/// Characters that can act on a terminal rather than show: control
/// characters (C0, DEL, C1: escape sequences start with them), the
/// bidirectional controls that reorder text, line and paragraph
/// separators, and invisible format characters (zero-width ones, the byte
/// order mark) that terminals draw in different widths.
pub(crate) fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}')
}

/// `2026-11-21 14:03` in local time.
pub(crate) fn local_time(time_us: Option<i64>, raw: &str) -> String {
    zoned_time(time_us, raw, None)
}

/// `2026-11-21 14:03` at `offset` from UTC (`None`: the local time zone).
pub(crate) fn zoned_time(
    time_us: Option<i64>,
    raw: &str,
    offset: Option<chrono::FixedOffset>,
) -> String {
    let Some(t) = time_us.and_then(|us| Utc.timestamp_micros(us).single()) else {
        return sanitize(raw).into_owned();
    };
    match offset {
        Some(o) => t.with_timezone(&o).format("%Y-%m-%d %H:%M").to_string(),
        None => t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// `12s`, `5m`, `3h`, `4d`, `6w` ago, relative to `now`.
pub fn age(time_us: Option<i64>, now: DateTime<Utc>) -> String {
    let Some(us) = time_us else {
        return "?".into();
    };
    let secs = (now.timestamp_micros() - us) / 1_000_000;
    if secs < 0 {
        return "future".into();
    }
    let (n, unit) = match secs {
        s if s < 60 => (s, "s"),
        s if s < 3600 => (s / 60, "m"),
        s if s < 86_400 => (s / 3600, "h"),
        s if s < 86_400 * 14 => (s / 86_400, "d"),
        s if s < 86_400 * 365 => (s / (86_400 * 7), "w"),
        s => (s / (86_400 * 365), "y"),
    };
    format!("{n}{unit} ago")
}

/// `1.2 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// `12ms`, `3.2s` or `1:05.0`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".into();
    }
    if secs < 0.1 {
        // A very short take is not "0.0s".
        return format!(
            "{}ms",
            (secs * 1000.0)
                .round()
                .max(if secs > 0.0 { 1.0 } else { 0.0 })
        );
    }
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}:{:04.1}", (secs / 60.0).floor(), secs % 60.0)
    }
}

/// Parses a duration as people write it: `30s`, `10m`, `12h`, `7d`, `2w`,
/// `1h 30m` (humantime's language; a bare whole number is days). A
/// duration too large to hold is an error, never a panic.
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let bad =
        |why: String| format!("'{s}' is not a duration ({why}); write 30s, 10m, 12h, 7d or 2w");
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .ok()
            .and_then(|days| days.checked_mul(86_400))
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| bad("too large".into()));
    }
    humantime::parse_duration(s).map_err(|e| bad(e.to_string()))
}

/// A caught panic's message, for the user.
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown error".into())
}

/// `1 take`, `3 takes`, `0 takes`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `16 dims, min -1.2, max 2.3, mean 0.1, norm 4.5; first: 0.1, -0.2, …`
pub(crate) fn latent_summary(v: &[f64]) -> String {
    if v.is_empty() {
        return "0 dims".into();
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let first: Vec<String> = v.iter().take(4).map(|x| format!("{x:.3}")).collect();
    format!(
        "{} dims, min {min:.3}, max {max:.3}, mean {mean:.3}, norm {norm:.3}; first: {}{}",
        v.len(),
        first.join(", "),
        if v.len() > 4 { ", …" } else { "" }
    )
}

/// A rating as stars: `★★★☆☆` (0: none).
pub(crate) fn stars(rating: u8) -> String {
    let n = rating.min(5) as usize;
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

/// Pads `s` with spaces to `width` display columns (`{:<N}` counts chars, not columns).
pub fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// The longest start of `s` at most `width` display columns wide, cut
/// between characters (never inside one): every cut of text genhist shows
/// goes through here.
pub fn cut(s: &str, width: usize) -> &str {
    use unicode_width::UnicodeWidthChar;
    let mut w = 0;
    for (i, c) in s.char_indices() {
        let cw = c.width().unwrap_or(0);
        if w + cw > width {
            return &s[..i];
        }
        w += cw;
    }
    s
}

/// A take's id as lists show it: its first 8 columns.
pub(crate) fn short_id(id: &str) -> &str {
    cut(id, 8)
}

/// Splits `text` into lines of at most `width` columns at spaces; a word
/// longer than a line is split where it must be. Nothing is cut off.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let width = width.max(1);
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("one line");
        let ww = UnicodeWidthStr::width(word);
        let need = UnicodeWidthStr::width(cur.as_str()) + usize::from(!cur.is_empty()) + ww;
        if need <= width {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
            continue;
        }
        let mut rest = word;
        if ww <= width {
            // It fits on a line of its own.
            lines.push(String::new());
        } else {
            // Wider than any line: it goes on from here, split where it must.
            let cur = lines.last_mut().expect("one line");
            if !cur.is_empty() {
                if UnicodeWidthStr::width(cur.as_str()) + 2 <= width {
                    cur.push(' ');
                } else {
                    lines.push(String::new());
                }
            }
        }
        loop {
            let cur = lines.last_mut().expect("one line");
            let room = width - UnicodeWidthStr::width(cur.as_str());
            if UnicodeWidthStr::width(rest) <= room {
                break;
            }
            let mut head = cut(rest, room);
            if head.is_empty() && cur.is_empty() {
                // A character wider than the line: it goes alone.
                head = &rest[..rest.chars().next().map_or(0, char::len_utf8)];
            }
            cur.push_str(head);
            lines.push(String::new());
            rest = &rest[head.len()..];
        }
        lines.last_mut().expect("one line").push_str(rest);
    }
    lines
}

/// Cuts `s` to at most `width` display columns, with `…` when cut.
pub(crate) fn truncate(s: &str, width: usize) -> String {
    if unicode_width::UnicodeWidthStr::width(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    format!("{}…", cut(s, width - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_never_survive() {
        let s = sanitize("evil\x1b[2J\x1b]0;title\x07name\u{202e}txt\u{9b}");
        assert!(!s.chars().any(|c| c.is_control()));
        assert_eq!(
            s,
            "evil\u{fffd}[2J\u{fffd}]0;title\u{fffd}name\u{fffd}txt\u{fffd}"
        );
        assert!(matches!(
            sanitize("Klänge 🎵"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn ages_and_sizes_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
        let t = |s: i64| Some(now.timestamp_micros() - s * 1_000_000);
        assert_eq!(age(t(5), now), "5s ago");
        assert_eq!(age(t(3 * 3600), now), "3h ago");
        assert_eq!(age(t(3 * 86400), now), "3d ago");
        assert_eq!(age(t(30 * 86400), now), "4w ago");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(duration(75.0), "1:15.0");
        assert_eq!(duration(0.001), "1ms");
        assert_eq!(duration(0.0004), "1ms");
        assert_eq!(duration(0.05), "50ms");
        assert_eq!(duration(0.25), "0.2s");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn wrapping_loses_nothing() {
        let text = "a quite long sentence with a verylongwordthatdoesnotfit and more";
        for w in [1, 5, 10, 30, 200] {
            let lines = wrap(text, w);
            assert!(lines
                .iter()
                .all(|l| unicode_width::UnicodeWidthStr::width(l.as_str()) <= w));
            assert_eq!(
                lines.concat().replace(' ', ""),
                text.replace(' ', ""),
                "{w}"
            );
        }
        assert_eq!(wrap("日本語", 4), ["日本", "語"]);
    }

    #[test]
    fn cuts_never_split_a_character() {
        assert_eq!(cut("a日本語-take", 4), "a日");
        assert_eq!(short_id("a日本語-take-1234"), "a日本語-");
        assert_eq!(short_id("57b71307-aaaa"), "57b71307");
        assert_eq!(truncate("日本語", 4), "日…");
        assert_eq!(cut("e\u{301}x", 1), "e\u{301}");
    }
}
