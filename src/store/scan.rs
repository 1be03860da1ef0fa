//! A validating, non-allocating scan of `history.json`: where each top-level
//! member and each entry is in the text, plus the two fields needed to order and
//! filter entries (`timestamp`, `model_id`), without building any values.
//!
//! This is what makes `list`, `show`, `delete` and every index rewrite fast on
//! large histories: a full typed parse of 100,000 entries costs hundreds of
//! milliseconds, the scan a few tens. The scan accepts exactly RFC 8259 JSON;
//! on any error callers fall back to `serde_json`, which gives the user the
//! line and column of the problem.

use std::borrow::Cow;
use std::ops::Range;

/// A JSON string in the text: its content (between the quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str {
    pub span: Range<usize>,
    /// True when the content has backslash escapes (decode before use).
    pub escaped: bool,
}

impl Str {
    /// The string's value.
    pub(crate) fn get<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.unescape(text.as_bytes()) {
            Some(v) => Cow::Owned(v),
            None => Cow::Borrowed(&text[self.span.clone()]),
        }
    }

    /// The string's value from the bytes it was scanned in (text that is not
    /// UTF-8 yields replacement characters).
    pub(crate) fn get_at<'a>(&self, b: &'a [u8]) -> Cow<'a, str> {
        match self.unescape(b) {
            Some(v) => Cow::Owned(v),
            // Checked at once when valid (nearly always), else made lossy.
            None => match std::str::from_utf8(&b[self.span.clone()]) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(&b[self.span.clone()]),
            },
        }
    }

    /// Compares with `s` without allocating when the string has no escapes.
    pub(crate) fn is(&self, text: &str, s: &str) -> bool {
        self.is_at(text.as_bytes(), s)
    }

    /// [`Str::is`] over the bytes it was scanned in.
    pub(crate) fn is_at(&self, b: &[u8], s: &str) -> bool {
        match self.unescape(b) {
            Some(v) => v == s,
            None => &b[self.span.clone()] == s.as_bytes(),
        }
    }

    /// The decoded value when the string has escapes (which the scan
    /// validated); `None` when its bytes are its value.
    fn unescape(&self, b: &[u8]) -> Option<String> {
        if !self.escaped {
            return None;
        }
        let quoted = &b[self.span.start - 1..self.span.end + 1];
        serde_json::from_slice::<String>(quoted).ok()
    }
}

/// A member of an object: key and the value's text range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub key: Str,
    pub value: Range<usize>,
}

/// One member of `entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntrySpan {
    pub key: Str,
    pub value: Range<usize>,
    /// `timestamp`, `model_id` and the two file paths when they are strings
    /// directly in the entry.
    pub timestamp: Option<Str>,
    pub model_id: Option<Str>,
    pub audio_file: Option<Str>,
    pub thumbnail_file: Option<Str>,
    /// The timestamp in microseconds since the epoch, when it parses (read
    /// during the scan, while the text is in the cache).
    pub time_us: Option<i64>,
    /// [`super::known::id_hash`] of the key (made during the scan, while the
    /// key is in the cache).
    pub id: u64,
    /// The entry holds `NaN`, `Infinity` or `-Infinity` somewhere.
    pub nonfinite: bool,
}

/// The scanned document.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Top-level members other than `entries`, in file order.
    pub top: Vec<Member>,
    /// Where `entries` sits among `top` (its index in file order), if present
    /// and an object.
    pub entries_pos: Option<usize>,
    pub entries: Vec<EntrySpan>,
}

/// Scans `text`; `Err(offset)` says roughly where it stopped being valid JSON
/// (callers re-parse with serde_json for the message). Python's `NaN`,
/// `Infinity` and `-Infinity` are numbers here, as in Python's `json.load`.
#[cfg(test)]
pub(crate) fn scan(text: &str) -> Result<Scan, usize> {
    let b = text.as_bytes();
    match split_point(b) {
        Some(split) => scan_split(b, split),
        None => scan_from_start(b, usize::MAX).map(|(doc, _)| doc),
    }
}

/// Scans `bytes`, which are then UTF-8 text, using a second core for the
/// second half of large files.
pub(crate) fn scan_utf8(bytes: Vec<u8>) -> Result<(String, Scan), ScanError> {
    let scanned = match split_point(&bytes) {
        Some(split) => scan_split(&bytes, split),
        None => scan_from_start(&bytes, usize::MAX).map(|(doc, _)| doc),
    };
    if let Ok(doc) = scanned {
        return Ok((crate::sys::text_of_scanned(bytes), doc));
    }
    // Which comes first, bad UTF-8 or bad JSON, decides the message.
    let text = String::from_utf8(bytes).map_err(ScanError::Utf8)?;
    match scan_from_start(text.as_bytes(), usize::MAX) {
        Ok((doc, _)) => Ok((text, doc)),
        Err(at) => Err(ScanError::Json(text, at)),
    }
}

/// Why [`scan_utf8`] failed.
#[derive(Debug)]
pub(crate) enum ScanError {
    Utf8(std::string::FromUtf8Error),
    /// The text and roughly where it stops being valid JSON.
    Json(String, usize),
}

/// Files smaller than this are scanned on one core.
pub(crate) const PARALLEL_MIN: usize = 4 << 20;

/// Where the second core may start: the key of an entry near the middle, in
/// the layout Python's `json.dump(indent=2)` writes. A raw newline never
/// occurs inside a JSON string, so the pattern is always structure; whether it
/// really is a boundary between entries is confirmed by the first core, which
/// scans up to it.
pub(crate) fn split_point(b: &[u8]) -> Option<usize> {
    if b.len() < PARALLEL_MIN {
        return None;
    }
    let mid = b.len() / 2;
    Some(mid + boundary_in(&b[mid..(mid + SPLIT_WINDOW).min(b.len())])?)
}

/// How far past the middle [`split_point`] looks.
pub(crate) const SPLIT_WINDOW: usize = 1 << 20;

/// Where in `window` the first key that looks like an entry's (see
/// [`split_point`]) begins.
pub(crate) fn boundary_in(window: &[u8]) -> Option<usize> {
    const BOUNDARY: &[u8] = b"\n    },\n    \"";
    let at = window.windows(BOUNDARY.len()).position(|w| w == BOUNDARY)?;
    Some(at + BOUNDARY.len() - 1)
}

/// Scans with two threads: the first from the start up to `split`, the second
/// from `split` (assumed to be an entry key) to the end; each first runs
/// `extra` over its half (the verdicts, and-ed, are returned beside the scan). Falls back to one pass when
/// the first thread does not land exactly on `split` or the second fails.
fn scan_split(b: &[u8], split: usize) -> Result<Scan, usize> {
    let (head, tail) = std::thread::scope(|s| {
        let tail = s.spawn(|| scan_tail(b, split));
        let head = scan_from_start(b, split);
        (head, tail.join().ok())
    });
    let whole = || scan_from_start(b, usize::MAX).map(|(doc, _)| doc);
    match (head, tail) {
        (Err(e), _) => Err(e),
        // The pattern was not a boundary between entries: the first pass went
        // through to the end on its own.
        (Ok((doc, false)), _) => Ok(doc),
        (Ok((mut doc, true)), Some(Ok((entries, top)))) => {
            doc.entries.extend(entries);
            doc.top.extend(top);
            Ok(doc)
        }
        // The second half failed: one plain pass finds the first error.
        (Ok((_, true)), _) => whole(),
    }
}

/// Scans from the start; with `stop_at` an entry key position, stops there
/// (returning `true`) if the scan lands exactly on it.
pub(crate) fn scan_from_start(b: &[u8], stop_at: usize) -> Result<(Scan, bool), usize> {
    let mut p = Parser::new(b, 0);
    let mut doc = Scan::default();
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
        p.end()?;
        return Ok((doc, false));
    }
    let stopped = p.top_members(&mut doc, stop_at)?;
    Ok((doc, stopped))
}

/// The second half: entries from `split` to the end of `entries`, then the
/// top-level members after it.
pub(crate) fn scan_tail(b: &[u8], split: usize) -> Result<(Vec<EntrySpan>, Vec<Member>), usize> {
    let mut p = Parser::new(b, split);
    let mut entries = Vec::new();
    p.entry_members(&mut entries, usize::MAX)?;
    let mut rest = Scan::default();
    p.ws();
    match p.next()? {
        b',' => {
            p.ws();
            p.top_members(&mut rest, usize::MAX)?;
        }
        b'}' => p.end()?,
        _ => return Err(p.i - 1),
    }
    if rest.entries_pos.is_some() {
        // A second "entries" member: not worth a fast path; scan as one.
        return Err(split);
    }
    Ok((entries, rest.top))
}

/// The entries after the one whose value ends at `at` (the text before it
/// known to be a valid start of a document, inside `entries`), then the
/// top-level members after `entries`; `Err` also when no entry follows.
pub(crate) fn scan_after_entry(
    b: &[u8],
    at: usize,
) -> Result<(Vec<EntrySpan>, Vec<Member>), usize> {
    let mut p = Parser::new(b, at);
    p.ws();
    p.expect(b',')?;
    p.ws();
    scan_tail(b, p.i)
}

/// A fast 64-bit hash of bytes (XXH3), to notice changed entry texts
/// without keeping them. Not for anything adversarial: a collision only
/// means a change is noticed at the next change.
pub(crate) fn fast_hash(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

/// The number at the dotted `path` inside a JSON object's text (a quality
/// score: `spectral.centroid_hz`), without building any value: fast enough
/// to sort 100,000 entries by it. Booleans count as 0 and 1; `NaN` and the
/// infinities (also as genhist's markers) as those floats.
pub(crate) fn number_at(text: &str, path: &str) -> Option<f64> {
    let mut p = Parser::new(text.as_bytes(), 0);
    p.ws();
    let mut parts = path.split('.').peekable();
    loop {
        let want = parts.next()?;
        let last = parts.peek().is_none();
        let mut found: Option<std::ops::Range<usize>> = None;
        let start = p.i;
        // Find the member (the last of equal keys wins, as in JSON parsers).
        p.object(0, |q, key| {
            let at = q.i;
            q.value(1)?;
            if key.is_at(q.b, want) {
                found = Some(at..q.i);
            }
            Ok(())
        })
        .ok()?;
        let v = found?;
        let _ = start;
        if !last {
            p = Parser::new(text.as_bytes(), v.start);
            continue;
        }
        return value_number(&text[v]);
    }
}

/// A scalar value's JSON text as a number: numbers, `true` = 1, `false` =
/// 0, `NaN`/`Infinity` bare or as markers; `None` for anything else.
pub(crate) fn value_number(raw: &str) -> Option<f64> {
    match raw.as_bytes().first()? {
        b't' => Some(1.0),
        b'f' => Some(0.0),
        b'"' => {
            let s: String = serde_json::from_str(raw).ok()?;
            super::nonfinite::as_f64(&serde_json::Value::String(s))
        }
        b'N' => Some(f64::NAN),
        b'I' => Some(f64::INFINITY),
        b'-' if raw.starts_with("-I") => Some(f64::NEG_INFINITY),
        _ => raw.parse().ok(),
    }
}

/// serde_json's nesting limit; deeper documents go to the fallback path.
const MAX_DEPTH: usize = 127;

/// Bytes that end the fast part of a string: quote, backslash, control characters.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const SPACES: u64 = ONES * b' ' as u64;

/// High bit set in the lowest byte of `w` that is a quote, a backslash or below
/// 0x20 (bits above the lowest hit may be spurious; only the lowest is used).
#[inline]
fn string_stops(w: u64) -> u64 {
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    control | zero_byte(w ^ (ONES * b'"' as u64)) | zero_byte(w ^ (ONES * b'\\' as u64))
}

/// The scanner over `b` from position `i`. The streaming reader
/// (`store::stream`) drives it one member at a time.
pub(crate) struct Parser<'a> {
    b: &'a [u8],
    pub(crate) i: usize,
    /// Set when a `NaN`/`Infinity`/`-Infinity` was met.
    nonfinite: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(b: &'a [u8], i: usize) -> Parser<'a> {
        Parser {
            b,
            i,
            nonfinite: false,
        }
    }

    /// The text being scanned.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.b
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    pub(crate) fn next(&mut self) -> Result<u8, usize> {
        let c = *self.b.get(self.i).ok_or(self.i)?;
        self.i += 1;
        Ok(c)
    }

    #[inline]
    pub(crate) fn expect(&mut self, c: u8) -> Result<(), usize> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.i)
        }
    }

    #[inline]
    pub(crate) fn ws(&mut self) {
        loop {
            match self.b.get(self.i) {
                Some(b' ' | b'\r' | b'\t') => self.i += 1,
                Some(b'\n') => {
                    // Indentation: skip runs of spaces eight at a time.
                    self.i += 1;
                    while let Some(w) = self.word() {
                        let other = w ^ SPACES;
                        if other != 0 {
                            self.i += (other.trailing_zeros() / 8) as usize;
                            break;
                        }
                        self.i += 8;
                    }
                }
                _ => return,
            }
        }
    }

    /// The next eight bytes as a little-endian word, if there are eight.
    #[inline]
    fn word(&self) -> Option<u64> {
        let bytes = self.b.get(self.i..self.i + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().expect("eight bytes")))
    }

    /// A string starting at the opening quote. A string with a byte above
    /// 0x7f is checked to be UTF-8 (`Err` where it stops being): with the
    /// rest of the scan accepting only ASCII outside strings, a document
    /// that scans is UTF-8 text.
    pub(crate) fn string(&mut self) -> Result<Str, usize> {
        self.expect(b'"')?;
        let start = self.i;
        let mut escaped = false;
        // The bytes passed over, or-ed: its high bits say whether any byte
        // was not ASCII.
        let mut seen = 0u64;
        loop {
            // Eight bytes at a time while none is a quote, backslash or control character.
            while let Some(w) = self.word() {
                let stop = string_stops(w);
                if stop != 0 {
                    // Only the bytes below the first stop are the string's.
                    seen |= w & ((stop & stop.wrapping_neg()) - 1);
                    self.i += (stop.trailing_zeros() / 8) as usize;
                    break;
                }
                seen |= w;
                self.i += 8;
            }
            while let Some(&c) = self.b.get(self.i) {
                if STRING_STOP[c as usize] {
                    break;
                }
                seen |= c as u64;
                self.i += 1;
            }
            match self.next()? {
                b'"' => {
                    let span = start..self.i - 1;
                    if seen & HIGHS != 0 {
                        if let Err(e) = std::str::from_utf8(&self.b[span.clone()]) {
                            return Err(start + e.valid_up_to());
                        }
                    }
                    return Ok(Str { span, escaped });
                }
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            for _ in 0..4 {
                                if !self.next()?.is_ascii_hexdigit() {
                                    return Err(self.i - 1);
                                }
                            }
                        }
                        _ => return Err(self.i - 1),
                    }
                }
                _ => return Err(self.i - 1),
            }
        }
    }

    fn digits(&mut self) -> Result<(), usize> {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        if self.i == start {
            Err(self.i)
        } else {
            Ok(())
        }
    }

    fn number(&mut self) -> Result<(), usize> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'I') => {
                self.nonfinite = true;
                return self.literal(b"Infinity");
            }
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits()?,
            _ => return Err(self.i),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digits()?;
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), usize> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.i)
        }
    }

    /// Skips one value, validating it.
    pub(crate) fn value(&mut self, depth: usize) -> Result<(), usize> {
        match self.peek().ok_or(self.i)? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth + 1, |p, _| p.value(depth + 1)),
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(self.i);
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b']' => return Ok(()),
                        _ => return Err(self.i - 1),
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' | b'I' => self.number(),
            b'N' => {
                self.nonfinite = true;
                self.literal(b"NaN")
            }
            _ => Err(self.i),
        }
    }

    /// An object at the opening brace; `member` is called with each key, with
    /// the position at the value, and must consume the value.
    fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, Str) -> Result<(), usize>,
    ) -> Result<(), usize> {
        if depth > MAX_DEPTH {
            return Err(self.i);
        }
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            member(self, key)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Ok(()),
                _ => return Err(self.i - 1),
            }
        }
    }

    /// End of the document: only whitespace may follow.
    pub(crate) fn end(&mut self) -> Result<(), usize> {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(self.i)
        }
    }

    /// Top-level members from a key to the end of the document. True when the
    /// scan stopped at `stop_at` inside `entries`.
    fn top_members(&mut self, doc: &mut Scan, stop_at: usize) -> Result<bool, usize> {
        loop {
            let key = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let start = self.i;
            let is_entries = key.is_at(self.b, "entries");
            if is_entries && self.peek() == Some(b'{') {
                doc.entries.clear();
                doc.entries_pos = Some(doc.top.len());
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else if self.entry_members(&mut doc.entries, stop_at)? {
                    return Ok(true);
                }
            } else {
                if is_entries {
                    doc.entries_pos = None;
                    doc.entries.clear();
                }
                self.value(0)?;
                doc.top.push(Member {
                    key,
                    value: start..self.i,
                });
            }
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => break,
                _ => return Err(self.i - 1),
            }
        }
        self.end()?;
        Ok(false)
    }

    /// Members of `entries` from a key through the closing brace.
    /// Returns true (without consuming more) on reaching `stop_at` at a key.
    fn entry_members(
        &mut self,
        out: &mut Vec<EntrySpan>,
        mut stop_at: usize,
    ) -> Result<bool, usize> {
        loop {
            if self.i >= stop_at {
                if self.i == stop_at {
                    return Ok(true);
                }
                stop_at = usize::MAX;
            }
            out.push(self.entry_member()?);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Ok(false),
                _ => return Err(self.i - 1),
            }
        }
    }

    /// One member of `entries`, from its key through its value: the value's
    /// range and, for an object, its `timestamp`, `model_id`, `audio_file`
    /// and `thumbnail_file` strings.
    pub(crate) fn entry_member(&mut self) -> Result<EntrySpan, usize> {
        let b = self.b;
        let key = self.string()?;
        let id = super::known::id_hash(&key.get_at(b));
        self.ws();
        self.expect(b':')?;
        self.ws();
        let start = self.i;
        let mut timestamp = None;
        let mut model_id = None;
        let mut audio_file = None;
        let mut thumbnail_file = None;
        let had_nonfinite = std::mem::take(&mut self.nonfinite);
        if self.peek() == Some(b'{') {
            self.object(2, |p, field| {
                // A name written with escapes (`"timest\u0061mp"`) is the
                // same member to a JSON parser.
                let unescaped;
                let name: &[u8] = if field.escaped {
                    unescaped = field.get_at(b);
                    unescaped.as_bytes()
                } else {
                    &b[field.span.clone()]
                };
                let wanted = match name {
                    b"timestamp" => Some(&mut timestamp),
                    b"model_id" => Some(&mut model_id),
                    b"audio_file" => Some(&mut audio_file),
                    b"thumbnail_file" => Some(&mut thumbnail_file),
                    _ => None,
                };
                match wanted {
                    Some(slot) if p.peek() == Some(b'"') => {
                        *slot = Some(p.string()?);
                        Ok(())
                    }
                    _ => p.value(2),
                }
            })?;
        } else {
            self.value(1)?;
        }
        let nonfinite = std::mem::replace(&mut self.nonfinite, had_nonfinite);
        self.nonfinite |= nonfinite;
        let time_us = match &timestamp {
            Some(t) if !t.escaped => std::str::from_utf8(&b[t.span.clone()])
                .ok()
                .and_then(super::time::parse_timestamp_us),
            _ => None,
        };
        Ok(EntrySpan {
            id,
            key,
            value: start..self.i,
            timestamp,
            model_id,
            audio_file,
            thumbnail_file,
            time_us,
            nonfinite,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_entry_fields_whose_names_have_escapes() {
        let text = r#"{"entries": {"a": {"timest\u0061mp": "2024-01-01T00:00:00+00:00", "\u006dodel_id": "m", "audio_file": "x.wav"}}}"#;
        let s = scan(text).unwrap();
        let e = &s.entries[0];
        let ts = e.timestamp.as_ref().expect("the escaped name is timestamp");
        assert_eq!(ts.get(text), "2024-01-01T00:00:00+00:00");
        assert_eq!(
            e.time_us,
            super::super::time::parse_timestamp_us(&ts.get(text))
        );
        assert!(e.time_us.is_some());
        assert_eq!(e.model_id.as_ref().unwrap().get(text), "m");
        assert_eq!(e.audio_file.as_ref().unwrap().get(text), "x.wav");
    }

    #[test]
    fn finds_members_and_entry_fields() {
        let text = r#"{
  "version": 1,
  "entries": {
    "a\u00e9": {"timestamp": "2024-01-01T00:00:00+00:00", "model_id": "m", "x": [1, {"timestamp": "no"}]},
    "b": 5
  },
  "extra": {"k": [true, false, null, -1.5e3]}
}"#;
        let s = scan(text).unwrap();
        assert_eq!(s.top.len(), 2);
        assert!(s.top[0].key.is(text, "version"));
        assert_eq!(&text[s.top[0].value.clone()], "1");
        assert_eq!(s.entries_pos, Some(1));
        assert_eq!(
            &text[s.top[1].value.clone()],
            r#"{"k": [true, false, null, -1.5e3]}"#
        );
        assert_eq!(s.entries.len(), 2);
        let e = &s.entries[0];
        assert_eq!(e.key.get(text), "a\u{e9}");
        assert_eq!(
            e.timestamp.as_ref().unwrap().get(text),
            "2024-01-01T00:00:00+00:00"
        );
        assert_eq!(e.model_id.as_ref().unwrap().get(text), "m");
        assert_eq!(&text[s.entries[1].value.clone()], "5");
        assert_eq!(s.entries[1].timestamp, None);
        // The id hash is of the key's value (escapes decoded).
        assert_eq!(e.id, super::super::known::id_hash("a\u{e9}"));
        assert_eq!(s.entries[1].id, super::super::known::id_hash("b"));
    }

    #[test]
    fn python_nonfinite_numbers_are_numbers() {
        let text = r#"{"version": 1, "entries": {
    "a": {"quality_score": {"snr_db": NaN, "peak": -Infinity, "x": [Infinity]},
          "audio_file": "audio/a.wav", "thumbnail_file": "thumbnails/a.png"},
    "b": {"note": "NaN in a string is text"}
  }}"#;
        let s = scan(text).unwrap();
        assert!(s.entries[0].nonfinite);
        assert!(!s.entries[1].nonfinite);
        assert_eq!(
            s.entries[0].audio_file.as_ref().unwrap().get(text),
            "audio/a.wav"
        );
        assert_eq!(
            s.entries[0].thumbnail_file.as_ref().unwrap().get(text),
            "thumbnails/a.png"
        );
        for bad in [
            "{\"a\": Nan}",
            "{\"a\": -Inf}",
            "{\"a\": +Infinity}",
            "{\"a\": nan}",
        ] {
            assert!(scan(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn numbers_are_found_by_dotted_path() {
        let q = r#"{"snr": 31.5, "s": {"c": 2, "x": {"y": -1e3}}, "ok": true, "n": NaN, "m": "\u0000-Infinity", "t": "x"}"#;
        assert_eq!(number_at(q, "snr"), Some(31.5));
        assert_eq!(number_at(q, "s.c"), Some(2.0));
        assert_eq!(number_at(q, "s.x.y"), Some(-1000.0));
        assert_eq!(number_at(q, "ok"), Some(1.0));
        assert!(number_at(q, "n").unwrap().is_nan());
        assert_eq!(number_at(q, "m"), Some(f64::NEG_INFINITY));
        assert_eq!(number_at(q, "t"), None);
        assert_eq!(number_at(q, "s"), None);
        assert_eq!(number_at(q, "nope"), None);
        assert_eq!(number_at(q, "snr.x"), None);
        assert_eq!(number_at("[]", "a"), None);
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for bad in [
            "",
            "{",
            "{\"entries\": {\"a\": {}}",
            "{\"a\": 01}",
            "{\"a\": 1.}",
            "{\"a\": -}",
            "{\"a\": tru}",
            "{\"a\": \"x\ny\"}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\\u12g4\"}",
            "{\"a\": [1,]}",
            "{\"a\": 1,}",
            "{\"a\" 1}",
            "{} x",
            "[]",
            "{\"a\": [1 2]}",
        ] {
            assert!(scan(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(scan(&deep).is_err());
    }

    /// A document in Python's indent=2 layout, large enough for two threads.
    fn big_doc(n: usize) -> String {
        let mut entries = serde_json::Map::new();
        for i in 0..n {
            entries.insert(
                format!("id-{i:06}"),
                serde_json::json!({
                    "timestamp": format!("2024-01-01T00:{:02}:{:02}+00:00", (i / 60) % 60, i % 60),
                    "model_id": format!("m{}", i % 3),
                    "padding": "p".repeat(900),
                    "quality_score": {"nested": {"deep": [1, 2.5, "x\\\"y"]}},
                    "tail": 0,
                }),
            );
        }
        let doc = serde_json::json!({"version": 1, "entries": entries, "after": {"k": [true]}});
        serde_json::to_string_pretty(&doc).unwrap()
    }

    #[test]
    fn two_threads_find_what_one_pass_finds() {
        let text = big_doc(6000);
        assert!(
            split_point(text.as_bytes()).is_some(),
            "test needs the parallel path"
        );
        let one = scan_from_start(text.as_bytes(), usize::MAX).unwrap().0;
        let two = scan(&text).unwrap();
        assert_eq!(one, two);
        assert_eq!(two.entries.len(), 6000);
        assert_eq!(two.top.len(), 2, "members after entries are kept");
        let (t, via_utf8) = scan_utf8(text.clone().into_bytes()).unwrap();
        assert_eq!(t, text);
        assert_eq!(via_utf8, one);
    }

    #[test]
    fn a_boundary_lookalike_falls_back_to_one_pass() {
        let text = big_doc(6000);
        // Re-indent the middle entry's nested object so its closing brace looks
        // like the end of an entry right where the second thread would start.
        let mid = text.len() / 2;
        let at = mid + text[mid..].find("\"quality_score\": {").unwrap();
        let end = at + text[at..].find("\n      },\n      \"tail\"").unwrap();
        let mut odd = text.clone();
        odd.replace_range(end..end + 16, "\n    },\n    ");
        assert!(
            serde_json::from_str::<serde_json::Value>(&odd).is_ok(),
            "still valid JSON"
        );
        let split = split_point(odd.as_bytes()).unwrap();
        assert_eq!(split, end + 12, "the lookalike is where the split lands");
        assert_eq!(
            scan(&odd).unwrap(),
            scan_from_start(odd.as_bytes(), usize::MAX).unwrap().0
        );
    }

    #[test]
    fn errors_and_bad_bytes_in_the_second_half_are_found() {
        let text = big_doc(6000);
        let late = text.len() * 3 / 4;
        let at = late + text[late..].find("\"padding\"").unwrap();
        let mut broken = text.clone();
        broken.replace_range(at..at + 1, "{");
        assert!(scan(&broken).is_err());
        let mut bytes = text.clone().into_bytes();
        bytes[at + 14] = 0xff;
        assert!(matches!(scan_utf8(bytes), Err(ScanError::Utf8(_))));
        let truncated = &text[..text.len() - 3];
        assert!(matches!(
            scan_utf8(truncated.as_bytes().to_vec()),
            Err(ScanError::Json(..))
        ));
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            (-1e6f64..1e6).prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                prop::collection::vec((".*", inner), 0..5)
                    .prop_map(|v| serde_json::Value::Object(v.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever serde_json writes, the scan accepts, and the spans it finds
        /// hold exactly the values serde_json reads.
        #[test]
        fn agrees_with_serde_json(top in prop::collection::vec((".*", json_value()), 0..4),
                                  entries in prop::collection::vec((".*", json_value()), 0..6),
                                  pretty in any::<bool>()) {
            let mut m = serde_json::Map::new();
            for (k, v) in top { m.insert(k, v); }
            m.insert("entries".into(), serde_json::Value::Object(entries.into_iter().collect()));
            let doc = serde_json::Value::Object(m);
            let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
            let s = scan(&text).unwrap();
            let obj = doc.as_object().unwrap();
            let want = obj["entries"].as_object().unwrap();
            prop_assert_eq!(s.entries.len(), want.len());
            for (e, (k, v)) in s.entries.iter().zip(want) {
                let key = e.key.get(&text);
                prop_assert_eq!(key.as_ref(), k.as_str());
                let got: serde_json::Value = serde_json::from_str(&text[e.value.clone()]).unwrap();
                prop_assert_eq!(&got, v);
            }
            prop_assert_eq!(s.top.len(), obj.len() - 1);
        }

        /// Bytes that are not UTF-8 anywhere (in a key, a value, between
        /// them) never make a document that scans: the scan is the only
        /// UTF-8 check of the text it gives.
        #[test]
        fn bytes_that_are_not_utf8_never_scan(entries in prop::collection::vec((".*", json_value()), 1..4),
                                              hits in prop::collection::vec((0.0f64..1.0, prop::collection::vec(any::<u8>(), 1..4)), 1..4),
                                              pretty in any::<bool>()) {
            let doc = serde_json::json!({"version": 1, "entries": entries.into_iter().collect::<serde_json::Map<_, _>>()});
            let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
            let mut bytes = text.into_bytes();
            for (at, put) in hits {
                let at = ((bytes.len() as f64) * at) as usize;
                let end = (at + put.len()).min(bytes.len());
                bytes.splice(at..end, put);
            }
            let utf8 = std::str::from_utf8(&bytes).is_ok();
            match scan_utf8(bytes.clone()) {
                Ok((t, _)) => prop_assert!(utf8 && t.as_bytes() == &bytes[..]),
                Err(ScanError::Utf8(_)) => prop_assert!(!utf8),
                Err(ScanError::Json(..)) => prop_assert!(utf8),
            }
        }

        /// Cutting a valid document anywhere makes it invalid for both parsers.
        #[test]
        fn truncation_is_always_an_error(entries in prop::collection::vec((".*", json_value()), 1..4), cut in 0.0f64..1.0) {
            let doc = serde_json::json!({"version": 1, "entries": entries.into_iter().collect::<serde_json::Map<_, _>>()});
            let text = serde_json::to_string_pretty(&doc).unwrap();
            let mut at = ((text.len() as f64) * cut) as usize;
            while !text.is_char_boundary(at) { at -= 1; }
            let cut_text = text[..at].trim_end();
            prop_assert!(scan(cut_text).is_err());
        }
    }
}
