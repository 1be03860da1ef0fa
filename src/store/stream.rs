//! `history.json` read in chunks, one member at a time, with the validation
//! of [`super::scan`] and the file never whole in memory. Index rewrites
//! (delete, undo, add, repair) and the browser's reload of what other
//! programs changed go through this, so they cost a buffer, not the file.

use super::scan::{EntrySpan, Parser, Str};
use std::borrow::Cow;
use std::io::Read;

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// One entry as the stream meets it, borrowing the chunk it is in.
pub(crate) struct EntryRef<'a> {
    /// Its place among the entries the stream met (0 = the first in the
    /// file, or where a [`Start::Entry`] stream began).
    pub position: usize,
    pub(super) buf: &'a [u8],
    /// The file offset of `buf[0]`.
    pub(super) base: u64,
    pub(super) span: EntrySpan,
}

impl<'a> EntryRef<'a> {
    /// The key (the entry's id), decoded.
    pub(crate) fn key(&self) -> Cow<'a, str> {
        self.span.key.get_at(self.buf)
    }

    /// The key as written, with its quotes (validated UTF-8).
    pub(crate) fn raw_key(&self) -> &'a str {
        let k = &self.span.key.span;
        let b = &self.buf[k.start - 1..k.end + 1];
        std::str::from_utf8(b).expect("the scan accepts only UTF-8")
    }

    /// The entry's stored text (validated UTF-8).
    pub(crate) fn text(&self) -> &'a str {
        let b = &self.buf[self.span.value.clone()];
        // The scan accepted the unit this value lies in, so it is UTF-8
        // ([`Parser::string`] checks strings; outside them only ASCII is
        // accepted), and a value starts and ends at ASCII bytes: this check
        // cannot fail; it costs a pass over the entry's bytes.
        std::str::from_utf8(b).expect("the scan accepts only UTF-8")
    }

    /// The entry's stored text as bytes (valid UTF-8: the scan accepted
    /// its unit), without checking it again.
    pub(super) fn bytes(&self) -> &'a [u8] {
        &self.buf[self.span.value.clone()]
    }

    fn field(&self, s: &Option<Str>) -> Option<Cow<'a, str>> {
        s.as_ref().map(|s| s.get_at(self.buf))
    }

    pub(crate) fn audio_file(&self) -> Option<Cow<'a, str>> {
        self.field(&self.span.audio_file)
    }

    pub(crate) fn thumbnail_file(&self) -> Option<Cow<'a, str>> {
        self.field(&self.span.thumbnail_file)
    }

    /// True when the text holds `NaN`/`Infinity`/`-Infinity`.
    pub(crate) fn nonfinite(&self) -> bool {
        self.span.nonfinite
    }
}

/// What the stream meets, in file order.
pub(crate) enum Item<'a> {
    /// A top-level member other than `entries`, with its value's text.
    Top {
        key: Cow<'a, str>,
        value: &'a str,
    },
    /// `"entries": {` (it sits here among the top-level members).
    EntriesStart,
    Entry(EntryRef<'a>),
    /// The end of `entries`.
    EntriesEnd,
}

/// Why a stream stopped.
#[derive(Debug)]
pub(crate) enum StreamError<E> {
    Io(std::io::Error),
    /// Not valid JSON, or not UTF-8, near this byte offset (the caller reads
    /// the whole file to say where, in words).
    Syntax(u64),
    /// No `entries` object at the top level.
    NoEntries,
    /// `entries` appears twice at the top level.
    DuplicateEntries,
    /// The visitor's own error.
    Visit(E),
}

impl<E> From<std::io::Error> for StreamError<E> {
    fn from(e: std::io::Error) -> Self {
        StreamError::Io(e)
    }
}

struct Chunks<R> {
    r: R,
    /// The read buffer; bytes `..end` are from the file, the rest is room
    /// (kept initialized, so it is never zeroed again).
    store: Vec<u8>,
    end: usize,
    /// Where the next unit starts.
    pos: usize,
    /// File offset of `store[0]`.
    base: u64,
    eof: bool,
}

impl<R: Read> Chunks<R> {
    /// The bytes read and not yet dropped.
    fn buf(&self) -> &[u8] {
        &self.store[..self.end]
    }

    /// Reads at least `n` more bytes unless the file ends first.
    fn more(&mut self, n: usize) -> std::io::Result<()> {
        if self.pos > 0 && self.pos >= self.end / 2 {
            self.store.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let target = self.end + n;
        if self.store.len() < target {
            self.store.resize(target, 0);
        }
        while self.end < target && !self.eof {
            let got = loop {
                match self.r.read(&mut self.store[self.end..target]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            }?;
            self.end += got;
            if got == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Runs `f` over the buffer from the next unit's start. A failure close
    /// to the end of the data read so far may only mean the unit is cut
    /// there: read more and try again; anywhere else, or at the end of the
    /// file, it is an error. On success, returns `f`'s result and the unit's
    /// end (a unit the scan accepts is UTF-8: see [`Parser::string`]).
    fn unit<T, E>(
        &mut self,
        f: impl Fn(&mut Parser<'_>) -> Result<T, usize>,
    ) -> Result<(T, usize), StreamError<E>> {
        let mut grow = CHUNK;
        loop {
            let mut p = Parser::new(self.buf(), self.pos);
            match f(&mut p) {
                Ok(t) => {
                    debug_assert!(std::str::from_utf8(&self.buf()[self.pos..p.i]).is_ok());
                    return Ok((t, p.i));
                }
                // Literals fail at their start, so allow a few bytes.
                Err(at) if at + 16 >= self.end && !self.eof => {
                    self.more(grow)?;
                    grow = grow.saturating_mul(2);
                }
                Err(at) => return Err(StreamError::Syntax(self.base + at as u64)),
            }
        }
    }
}

/// After a member's value: `,` (more follow: false) or `}` (last: true).
fn separator(p: &mut Parser<'_>) -> Result<bool, usize> {
    p.ws();
    match p.next()? {
        b',' => Ok(false),
        b'}' => Ok(true),
        _ => Err(p.i - 1),
    }
}

enum TopUnit {
    Member {
        key: Str,
        value: std::ops::Range<usize>,
        last: bool,
    },
    EntriesOpen,
    EntriesEmpty {
        last: bool,
    },
}

/// Reads `history.json` from `r` and calls `visit` for each member and
/// entry in file order. The data a call borrows is valid only during it.
pub(crate) fn stream<R: Read, E>(
    r: R,
    visit: impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), StreamError<E>> {
    stream_part(r, Start::Document { stop_at: None }, visit).map(|_| ())
}

/// Where a [`stream_part`] begins.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start {
    /// At the start of the document; with `stop_at`, the file offset of an
    /// entry's key, it stops there when an entry begins exactly there.
    Document { stop_at: Option<u64> },
    /// At the file offset of an entry's key inside `entries` (where the
    /// reader given is): that entry, the rest of `entries` and of the
    /// document follow. Entry positions then count from it.
    Entry(u64),
}

/// How a [`stream_part`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// At the end of the document.
    End,
    /// At the entry `Start::Document`'s `stop_at` names.
    Stopped,
}

/// [`stream`] of a part of the document: from its start (up to an entry,
/// when asked) or from an entry to its end, so that two threads can read
/// the halves of a large index.
pub(crate) fn stream_part<R: Read, E>(
    r: R,
    start: Start,
    mut visit: impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<Ended, StreamError<E>> {
    let mut c = Chunks {
        r,
        store: Vec::new(),
        end: 0,
        pos: 0,
        base: match start {
            Start::Document { .. } => 0,
            Start::Entry(at) => at,
        },
        eof: false,
    };
    c.more(CHUNK)?;
    let stop_at = match start {
        Start::Document { stop_at } => stop_at,
        Start::Entry(_) => None,
    };
    let mut seen_entries = false;
    let mut last = match start {
        Start::Document { .. } => {
            let (empty, end) = c.unit(|p| {
                p.ws();
                p.expect(b'{')?;
                p.ws();
                if p.peek() == Some(b'}') {
                    p.i += 1;
                    return Ok(true);
                }
                Ok(false)
            })?;
            c.pos = end;
            empty
        }
        Start::Entry(_) => {
            seen_entries = true;
            match entries(&mut c, None, &mut visit)? {
                Some(l) => l,
                None => return Ok(Ended::Stopped),
            }
        }
    };
    while !last {
        let (unit, end) = c.unit(|p| {
            p.ws();
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            if key.is_at(p.bytes(), "entries") && p.peek() == Some(b'{') {
                p.i += 1;
                p.ws();
                if p.peek() == Some(b'}') {
                    p.i += 1;
                    return Ok(TopUnit::EntriesEmpty {
                        last: separator(p)?,
                    });
                }
                return Ok(TopUnit::EntriesOpen);
            }
            let start = p.i;
            p.value(0)?;
            let value = start..p.i;
            Ok(TopUnit::Member {
                key,
                value,
                last: separator(p)?,
            })
        })?;
        match unit {
            TopUnit::Member {
                key,
                value,
                last: l,
            } => {
                // A later `entries` that is not an object: the last member
                // counts (as in Python and the scan), so there are none.
                if seen_entries && key.is_at(c.buf(), "entries") {
                    return Err(StreamError::NoEntries);
                }
                let text = std::str::from_utf8(&c.buf()[value]).unwrap_or_default();
                visit(Item::Top {
                    key: key.get_at(c.buf()),
                    value: text,
                })
                .map_err(StreamError::Visit)?;
                c.pos = end;
                last = l;
            }
            TopUnit::EntriesEmpty { last: l } => {
                if std::mem::replace(&mut seen_entries, true) {
                    return Err(StreamError::DuplicateEntries);
                }
                visit(Item::EntriesStart).map_err(StreamError::Visit)?;
                visit(Item::EntriesEnd).map_err(StreamError::Visit)?;
                c.pos = end;
                last = l;
            }
            TopUnit::EntriesOpen => {
                if std::mem::replace(&mut seen_entries, true) {
                    return Err(StreamError::DuplicateEntries);
                }
                visit(Item::EntriesStart).map_err(StreamError::Visit)?;
                c.pos = end;
                match entries(&mut c, stop_at, &mut visit)? {
                    Some(l) => last = l,
                    None => return Ok(Ended::Stopped),
                }
            }
        }
    }
    // Only whitespace may follow.
    loop {
        let mut p = Parser::new(c.buf(), c.pos);
        p.ws();
        if p.i < c.end {
            return Err(StreamError::Syntax(c.base + p.i as u64));
        }
        c.pos = p.i;
        if c.eof {
            break;
        }
        c.more(CHUNK)?;
    }
    if !seen_entries {
        return Err(StreamError::NoEntries);
    }
    Ok(Ended::End)
}

/// The entries from the next one to the end of `entries`, each visited;
/// gives whether `entries` was the document's last member, or `None` when
/// the next entry began at `stop_at` (not visited).
fn entries<R: Read, E>(
    c: &mut Chunks<R>,
    stop_at: Option<u64>,
    visit: &mut impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<Option<bool>, StreamError<E>> {
    let mut position = 0;
    loop {
        if let Some(stop) = stop_at {
            // Past the whitespace (reading on while the buffer ends in it):
            // does the next entry begin there?
            loop {
                let mut p = Parser::new(c.buf(), c.pos);
                p.ws();
                let at = p.i;
                c.pos = at;
                if at < c.end || c.eof {
                    break;
                }
                c.more(CHUNK)?;
            }
            if c.base + c.pos as u64 == stop {
                return Ok(None);
            }
        }
        let ((span, close), end) = c.unit(|p| {
            p.ws();
            let span = p.entry_member()?;
            p.ws();
            match p.next()? {
                b',' => Ok((span, None)),
                b'}' => Ok((span, Some(separator(p)?))),
                _ => Err(p.i - 1),
            }
        })?;
        visit(Item::Entry(EntryRef {
            position,
            buf: c.buf(),
            base: c.base,
            span,
        }))
        .map_err(StreamError::Visit)?;
        c.pos = end;
        position += 1;
        if let Some(last) = close {
            visit(Item::EntriesEnd).map_err(StreamError::Visit)?;
            return Ok(Some(last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one byte at a time: every unit is cut somewhere.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(out.len()).min(7);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn collect(text: &str) -> Result<Vec<String>, StreamError<()>> {
        let mut out = Vec::new();
        stream(Trickle(text.as_bytes()), |item| {
            out.push(match item {
                Item::Top { key, value } => format!("top {key}={value}"),
                Item::EntriesStart => "[".into(),
                Item::Entry(e) => format!(
                    "{} {}={} {:?}{}",
                    e.position,
                    e.key(),
                    e.text(),
                    e.audio_file(),
                    if e.nonfinite() { " nonfinite" } else { "" }
                ),
                Item::EntriesEnd => "]".into(),
            });
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn members_and_entries_in_file_order_across_cuts() {
        let text = r#"{
  "version": 1,
  "entries": {
    "a\u00e9": {"audio_file": "audio/a.wav", "q": [1, true, null, "x\"y"]},
    "b": {"snr": NaN, "t": -Infinity}
  },
  "after": {"k": false}
}
"#;
        assert_eq!(
            collect(text).unwrap(),
            [
                "top version=1",
                "[",
                "0 a\u{e9}={\"audio_file\": \"audio/a.wav\", \"q\": [1, true, null, \"x\\\"y\"]} Some(\"audio/a.wav\")",
                "1 b={\"snr\": NaN, \"t\": -Infinity} None nonfinite",
                "]",
                "top after={\"k\": false}",
            ]
        );
        assert_eq!(
            collect("{\"entries\": {}, \"version\": 1}").unwrap(),
            ["[", "]", "top version=1"]
        );
    }

    #[test]
    fn broken_documents_are_errors_with_an_offset() {
        for (bad, at) in [
            ("{\"entries\": {\"a\": {}}", 21),
            ("{\"entries\": {\"a\": tru}}", 18),
            ("{\"entries\": {}} x", 16),
            ("{\"entries\": {\"a\": 1,}}", 20),
        ] {
            match collect(bad) {
                Err(StreamError::Syntax(o)) => assert_eq!(o, at, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            collect("{\"version\": 1}"),
            Err(StreamError::NoEntries)
        ));
        assert!(matches!(
            collect("{\"entries\": {}, \"entries\": {}}"),
            Err(StreamError::DuplicateEntries)
        ));
        // The last `entries` counts: one that is not an object after the
        // object leaves none (an earlier one is only a member).
        assert!(matches!(
            collect("{\"entries\": {\"a\": {}}, \"entries\": null}"),
            Err(StreamError::NoEntries)
        ));
        assert_eq!(
            collect("{\"entries\": null, \"entries\": {\"a\": {}}}").unwrap(),
            ["top entries=null", "[", "0 a={} None", "]"]
        );
        let mut bytes = b"{\"entries\": {\"a\": \"".to_vec();
        bytes.extend_from_slice(&[0xff, b'"', b'}', b'}']);
        let r = stream(Trickle(&bytes), |_| Ok::<(), ()>(()));
        assert!(matches!(r, Err(StreamError::Syntax(19))), "{r:?}");
    }

    #[test]
    fn agrees_with_the_in_memory_scan_on_a_large_file() {
        let mut m = serde_json::Map::new();
        for i in 0..3000 {
            m.insert(
                format!("id-{i}"),
                serde_json::json!({"audio_file": format!("audio/id-{i}.wav"), "pad": "p".repeat(700 + i % 900)}),
            );
        }
        let text =
            serde_json::to_string_pretty(&serde_json::json!({"version": 1, "entries": m})).unwrap();
        let scan = super::super::scan::scan(&text).unwrap();
        let mut keys = Vec::new();
        stream(text.as_bytes(), |item| {
            if let Item::Entry(e) = item {
                keys.push((e.key().into_owned(), e.text().len()));
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        let want: Vec<(String, usize)> = scan
            .entries
            .iter()
            .map(|e| (e.key.get(&text).into_owned(), e.value.len()))
            .collect();
        assert_eq!(keys, want);
    }
}
