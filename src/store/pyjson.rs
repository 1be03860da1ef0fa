//! JSON text exactly as Python's `json.dump(obj, f, indent=2)` writes it:
//! `ensure_ascii` escaping, `", "`/`": "` separators, Python's float repr;
//! and the same layout for genhist's own JSON output, where only characters
//! that could act on a terminal are escaped.

use crate::text::acts_on_terminal;
use serde_json::{Number, Value};

/// How strings are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// Python's `ensure_ascii=True`: everything outside printable ASCII.
    Ascii,
    /// Only control characters (C0, DEL, C1) and bidirectional controls, so
    /// the text stays readable and nothing in it can act on a terminal.
    Terminal,
}

/// Appends `s` as a JSON string literal with Python's `ensure_ascii=True` escaping.
pub(crate) fn write_str(out: &mut String, s: &str) {
    write_str_as(out, s, Escape::Ascii)
}

/// Appends `s` as a JSON string literal, escaped as `escape` says.
fn write_str_as(out: &mut String, s: &str, escape: Escape) {
    out.push('"');
    if s.bytes()
        .all(|c| (b' '..=b'~').contains(&c) && c != b'"' && c != b'\\')
    {
        // Plain ASCII (ids, most keys) is written as it is.
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c if escape == Escape::Terminal && !acts_on_terminal(c) => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits, positional for
/// exponents in [-4, 16), scientific (`1e-05`, `1.5e+16`) otherwise.
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{x:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    }
}

/// A JSON number holding a float in Python's repr.
pub(crate) fn float_number(x: f64) -> Option<Number> {
    if !x.is_finite() {
        return None;
    }
    serde_json::from_str(&float_repr(x)).ok()
}

/// The value of a float as genhist holds it: a number, or a marker.
pub(crate) fn float_value(x: f64) -> Value {
    if x.is_nan() {
        Value::String(super::nonfinite::marker("NaN"))
    } else if x.is_infinite() {
        Value::String(super::nonfinite::marker(if x > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }))
    } else {
        float_number(x).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// Appends `v` pretty-printed with 2-space indentation, as if it sat at nesting
/// depth `depth` (its first line is not indented; the caller places it).
pub(crate) fn write_value(out: &mut String, v: &Value, depth: usize) {
    write_value_as(out, v, depth, Escape::Ascii)
}

/// [`write_value`] with strings escaped as `escape` says. Markers of `NaN`
/// and the infinities (see `nonfinite`) are written as those bare tokens.
fn write_value_as(out: &mut String, v: &Value, depth: usize, escape: Escape) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => match super::nonfinite::token_of(s) {
            Some(token) => out.push_str(token),
            None => write_str_as(out, s, escape),
        },
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_value_as(out, item, depth + 1, escape);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_str_as(out, k, escape);
                out.push_str(": ");
                write_value_as(out, item, depth + 1, escape);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

pub(crate) fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// `json.dumps(v, indent=2)`.
pub fn to_python_json(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v, 0);
    s
}

/// A JSON value as a person reads it: a string as itself, `NaN` for a
/// non-finite marker, anything else on one line ([`to_compact`]).
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => match super::nonfinite::token_of(s) {
            Some(t) => t.to_string(),
            None => s.clone(),
        },
        other => to_compact(other),
    }
}

/// A value on one line as `json.dumps(v)` writes it (`[1, 2]`,
/// `{"a": 1}`), with only what acts on a terminal escaped: for showing a
/// value inside a line of text.
pub(crate) fn to_compact(v: &Value) -> String {
    fn go(out: &mut String, v: &Value) {
        match v {
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(out, x);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str_as(out, k, Escape::Terminal);
                    out.push_str(": ");
                    go(out, x);
                }
                out.push('}');
            }
            scalar => write_value_as(out, scalar, 0, Escape::Terminal),
        }
    }
    let mut s = String::new();
    go(&mut s, v);
    s
}

/// genhist's JSON output: indented like Python's, readable text, nothing
/// that acts on a terminal.
pub(crate) fn to_output_json(v: &Value) -> String {
    let mut s = String::new();
    write_value_as(&mut s, v, 0, Escape::Terminal);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_match_python_repr() {
        assert_eq!(float_repr(2.5), "2.5");
        assert_eq!(float_repr(3.0), "3.0");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1234567890123456.0), "1234567890123456.0");
        assert_eq!(float_repr(-0.1), "-0.1");
        assert_eq!(float_repr(1.5e-7), "1.5e-07");
    }

    #[test]
    fn strings_are_ascii_escaped_like_python() {
        let mut s = String::new();
        write_str(&mut s, "Kl\u{e4}nge \u{1f3b5} \"q\"\n\u{7f}");
        assert_eq!(s, r#""Kl\u00e4nge \ud83c\udfb5 \"q\"\n\u007f""#);
    }

    #[test]
    fn output_json_escapes_only_what_acts_on_a_terminal() {
        let v =
            serde_json::json!({"k\u{1b}": "Kl\u{e4}nge \u{202e}x\u{9b}y\u{7}", "n": "\u{0}NaN"});
        let s = to_output_json(&v);
        assert_eq!(
            s,
            "{\n  \"k\\u001b\": \"Kl\u{e4}nge \\u202ex\\u009by\\u0007\",\n  \"n\": NaN\n}"
        );
    }

    #[test]
    fn pretty_layout_matches_python_indent_2() {
        let v: Value =
            serde_json::from_str(r#"{"a": [1, 2], "b": {}, "c": [], "d": {"e": null}}"#).unwrap();
        assert_eq!(
            to_python_json(&v),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": {\n    \"e\": null\n  }\n}"
        );
    }
}
