//! Timestamps as the seed's Python writes them: `isoformat()` text read to
//! microseconds since the epoch (fast for the usual shapes, chrono for the
//! rest), and a UTC time written back the way Python writes it.

/// Parses an ISO 8601 timestamp as Python's `isoformat()` writes it (with or
/// without fractional seconds, any offset, or naive = UTC) to epoch microseconds.
pub(crate) fn parse_timestamp_us(s: &str) -> Option<i64> {
    if let Some(t) = fast_iso_us(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc().timestamp_micros());
        }
    }
    // `2024-01-01 10:00:00+00:00` (space separator with offset).
    chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z")
        .ok()
        .map(|d| d.timestamp_micros())
}

/// `time_us` as Python's `isoformat()` writes a UTC time
/// (`2024-05-01T10:00:00.123456+00:00`, no fraction when it is zero);
/// `None` outside the years 1 to 9999.
pub(crate) fn format_timestamp_us(time_us: i64) -> Option<String> {
    let mut buf = [0u8; 32];
    let b = timestamp_into(time_us, &mut buf)?;
    Some(String::from_utf8_lossy(b).into_owned())
}

/// [`format_timestamp_us`] into `buf`, without allocating (every entry
/// of a load is checked against it).
pub(crate) fn timestamp_into(time_us: i64, buf: &mut [u8; 32]) -> Option<&[u8]> {
    let secs = time_us.div_euclid(1_000_000);
    let micros = time_us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if !(1..=9999).contains(&y) {
        return None;
    }
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mut n = 0;
    let mut digits = |buf: &mut [u8; 32], v: i64, width: u32, after: u8| {
        for i in (0..width).rev() {
            buf[n] = b'0' + (v / 10i64.pow(i) % 10) as u8;
            n += 1;
        }
        if after != 0 {
            buf[n] = after;
            n += 1;
        }
    };
    digits(buf, y, 4, b'-');
    digits(buf, m, 2, b'-');
    digits(buf, d, 2, b'T');
    digits(buf, h, 2, b':');
    digits(buf, mi, 2, b':');
    if micros == 0 {
        digits(buf, s, 2, 0);
    } else {
        digits(buf, s, 2, b'.');
        digits(buf, micros, 6, 0);
    }
    buf[n..n + 6].copy_from_slice(b"+00:00");
    Some(&buf[..n + 6])
}

/// The common shapes (`2024-05-01T10:00:00[.ffffff][+02:00|Z]`) without chrono's
/// general parser; `None` sends anything else (and leap seconds) to chrono.
fn fast_iso_us(b: &[u8]) -> Option<i64> {
    fn num(b: &[u8]) -> Option<i64> {
        b.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    }
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[(mo - 1) as usize] {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let mut scaled = num(&frac[..n])?;
        for _ in n..6 {
            scaled *= 10;
        }
        for _ in 6..n {
            scaled /= 10;
        }
        micros = scaled;
        rest = &frac[n..];
    }
    let offset_s = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh @ .., b':', om1, om2] if oh.len() == 2 => {
            let (oh, om) = (num(oh)?, num(&[*om1, *om2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What chrono alone makes of a timestamp (the reference for the fast path).
    fn chrono_us(s: &str) -> Option<i64> {
        if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
            return Some(dt.timestamp_micros());
        }
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc().timestamp_micros())
    }

    #[test]
    fn fast_timestamps_match_chrono() {
        for s in [
            "2024-01-01T10:00:00+00:00",
            "2024-01-01T10:00:00.123456+00:00",
            "2024-02-29T23:59:59.5-07:30",
            "1969-12-31T23:59:59.999999Z",
            "2000-03-01T00:00:00.123456789+14:00",
            "2024-06-01T12:00:00",
            "2024-06-01T12:00:00.25",
        ] {
            assert_eq!(fast_iso_us(s.as_bytes()), chrono_us(s), "{s}");
            assert!(fast_iso_us(s.as_bytes()).is_some(), "{s}");
        }
        for s in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
        ] {
            assert_eq!(fast_iso_us(s.as_bytes()), None, "{s}");
            assert_eq!(parse_timestamp_us(s), chrono_us(s), "{s}");
        }
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_chrono(y in 1000i64..3000, mo in 1u32..13, d in 1u32..32,
                                        h in 0u32..24, mi in 0u32..60, s in 0u32..60,
                                        frac in prop::option::of(0u32..1_000_000),
                                        off in prop::option::of(-23i32 * 60..23 * 60)) {
            let mut t = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            if let Some(f) = frac { t.push_str(&format!(".{f:06}")); }
            if let Some(o) = off {
                let sign = if o < 0 { '-' } else { '+' };
                t.push_str(&format!("{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60));
            }
            if let Some(fast) = fast_iso_us(t.as_bytes()) {
                prop_assert_eq!(Some(fast), chrono_us(&t), "{}", t);
            } else {
                prop_assert_eq!(chrono_us(&t), None, "{}", t);
            }
        }
    }

    proptest! {
        #[test]
        fn times_format_as_python_writes_them(us in -62_135_596_800_000_000i64..253_402_300_799_999_999) {
            let t = format_timestamp_us(us).unwrap();
            let dt = chrono::DateTime::from_timestamp_micros(us).unwrap();
            let python = if us.rem_euclid(1_000_000) == 0 {
                dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
            };
            prop_assert_eq!(&t, &python);
            prop_assert_eq!(parse_timestamp_us(&t), Some(us));
        }
    }
}
