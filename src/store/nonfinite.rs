//! `NaN`, `Infinity` and `-Infinity`: Python's `json.dump` writes them (the
//! SNR of a silent take, say) and its `json.load` reads them back, so they are
//! valid in `history.json`, although JSON proper has no such numbers.
//!
//! The scanner accepts them as numbers. For serde_json, which does not, an
//! entry's text is parsed with each token replaced by a marker string
//! (`"\u0000NaN"`); values hold the marker, [`as_f64`] reads it as the float,
//! and every writer of JSON turns it back into the bare token. Rewrites of the
//! index copy stored text as it is, so the tokens are written back exactly as
//! they were.

use serde_json::Value;
use std::borrow::Cow;

/// The three tokens, longest first where one starts another.
const TOKENS: [&str; 3] = ["-Infinity", "Infinity", "NaN"];

/// A marker string's value for each token.
pub fn marker(token: &str) -> String {
    format!("\u{0}{token}")
}

/// The token a marker string stands for.
pub(crate) fn token_of(s: &str) -> Option<&'static str> {
    let t = s.strip_prefix('\u{0}')?;
    TOKENS.into_iter().find(|&k| k == t)
}

/// The float a value stands for: a number, or a marker of a non-finite one.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match token_of(s)? {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            _ => Some(f64::NEG_INFINITY),
        },
        _ => None,
    }
}

/// Calls `f(start, token)` for each token outside strings in JSON-like text.
fn each_token(text: &[u8], mut f: impl FnMut(usize, &'static str)) {
    let mut i = 0;
    let mut in_str = false;
    while i < text.len() {
        let c = text[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else if c == b'"' {
            in_str = true;
        } else if matches!(c, b'N' | b'I' | b'-') {
            if let Some(t) = TOKENS
                .into_iter()
                .find(|t| text[i..].starts_with(t.as_bytes()))
            {
                f(i, t);
                i += t.len();
                continue;
            }
        }
        i += 1;
    }
}

/// The text with each token replaced by its quoted marker, for serde_json.
/// Borrowed when there is none.
pub fn to_markers(text: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    each_token(text, |at, t| {
        let o = out.get_or_insert_with(|| Vec::with_capacity(text.len() + 16));
        o.extend_from_slice(&text[copied..at]);
        o.extend_from_slice(b"\"\\u0000");
        o.extend_from_slice(t.as_bytes());
        o.push(b'"');
        copied = at + t.len();
    });
    match out {
        Some(mut o) => {
            o.extend_from_slice(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// The text with each token replaced by a valid number of the same length,
/// so serde_json's line and column for a real error stay right.
pub(crate) fn neutralize(text: &str) -> Cow<'_, str> {
    let mut spots = Vec::new();
    each_token(text.as_bytes(), |at, t| spots.push((at, t)));
    if spots.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut s = text.to_string();
    for (at, t) in spots {
        let same_len = match t {
            "NaN" => "0.0",
            "Infinity" => "1.0e+308",
            _ => "-1.0e+308",
        };
        s.replace_range(at..at + t.len(), same_len);
    }
    Cow::Owned(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_outside_strings_become_markers() {
        let text = br#"{"a": NaN, "b": [-Infinity, Infinity], "c": "NaN \" Infinity"}"#;
        let m = to_markers(text);
        let v: Value = serde_json::from_slice(&m).unwrap();
        assert!(as_f64(&v["a"]).unwrap().is_nan());
        assert_eq!(as_f64(&v["b"][0]), Some(f64::NEG_INFINITY));
        assert_eq!(as_f64(&v["b"][1]), Some(f64::INFINITY));
        assert_eq!(v["c"], "NaN \" Infinity");
        assert!(matches!(to_markers(b"{\"x\": 1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn neutralized_text_keeps_positions() {
        let text = "{\"a\": NaN, \"b\": -Infinity,\n \"c\": x}";
        let n = neutralize(text);
        assert_eq!(n.len(), text.len());
        let e = serde_json::from_str::<Value>(&n).unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 7));
    }
}
