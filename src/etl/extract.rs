//! Extract: a byte stream → [`RawRecord`]s, handed one at a time to a callback, so no stage ever
//! holds the input or a parsed copy of it. The stream is checked to be UTF-8 as it passes, and a
//! bad byte is reported with its offset, line and column.

use super::bounded::Budget;
use super::EtlError;
use crate::domain::record::{provider_of_columns, Field, RawRecord, RawValue, MAX_RECORD_BYTES};
use crate::domain::source::Provider;
use serde::de::{Deserializer as _, Error as _, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufReader, Read};

/// The formats a byte source can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of objects (the vega layout).
    Json,
    /// CSV with a header row.
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    /// The format a file name says (`.json`, `.csv`, either optionally `.gz`).
    pub fn of_file(name: &str) -> Option<Self> {
        let name = name.to_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".json") {
            Some(Format::Json)
        } else if name.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// Streams the records of `reader` into `on_record`; returns how many there were. `name` is
/// used in error messages. An error from `on_record` stops the extract and is returned.
pub fn extract(
    name: &str,
    reader: impl Read,
    format: Format,
    on_record: impl FnMut(RawRecord) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let budget = Budget::default();
    let mut checked = Utf8Check::new(budget.wrap(reader));
    let result = match format {
        Format::Json => extract_json(name, &mut checked, &budget, on_record),
        Format::Csv => extract_csv(name, &mut checked, &budget, on_record),
    };
    if let Some(p) = checked.problem {
        return Err(EtlError::NotUtf8 {
            source_name: name.to_owned(),
            offset: p.offset,
            line: p.line,
            column: p.column,
        });
    }
    if !checked.saw_content {
        return Err(EtlError::Empty {
            source_name: name.to_owned(),
        });
    }
    match result? {
        0 => Err(EtlError::Empty {
            source_name: name.to_owned(),
        }),
        n => Ok(n),
    }
}

fn extract_json(
    name: &str,
    reader: impl Read,
    budget: &Budget,
    on_record: impl FnMut(RawRecord) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 * 1024, reader));
    let json_error = |e: serde_json::Error| EtlError::Json {
        source_name: name.to_owned(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    };
    let mut visitor = RecordVisitor {
        on_record,
        columns: HashMap::new(),
        failed: None,
        budget,
        rows: 0,
    };
    let count = de.deserialize_seq(&mut visitor);
    if let Some(e) = visitor.failed {
        return Err(e);
    }
    if budget.exceeded() {
        return Err(too_long(name, visitor.rows + 1));
    }
    let count = count.map_err(json_error)?;
    de.end().map_err(json_error)?;
    Ok(count)
}

/// serde_json appends " at line L column C"; we report the position in our own words.
fn strip_position(message: &str) -> String {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
        .to_owned()
}

/// The error of a record longer than [`MAX_RECORD_BYTES`].
fn too_long(name: &str, record: u64) -> EtlError {
    EtlError::RecordTooLong {
        source_name: name.to_owned(),
        record,
        limit: MAX_RECORD_BYTES,
    }
}

struct RecordVisitor<'b, F> {
    on_record: F,
    /// Key → what it says, resolved once per distinct key rather than once per record.
    columns: HashMap<String, Column>,
    /// The callback's error, which stopped the parse.
    failed: Option<EtlError>,
    /// Reset at each element, so no element is read past the record limit.
    budget: &'b Budget,
    /// Elements read whole so far.
    rows: u64,
}

impl<'de, F: FnMut(RawRecord) -> Result<(), EtlError>> Visitor<'de> for &mut RecordVisitor<'_, F> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of movie objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut row = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            self.budget.reset();
            row += 1;
            self.rows = row;
            let mut record = RawRecord::new(row, Provider::File);
            match value {
                serde_json::Value::Object(map) => {
                    let mut provider = Provider::File;
                    for key in map.keys() {
                        let column = match self.columns.get(key) {
                            Some(column) => *column,
                            None => *self
                                .columns
                                .entry(key.clone())
                                .or_insert_with_key(|k| Column::of(k)),
                        };
                        provider = match (provider, column.provider) {
                            (Provider::Vega, _) | (_, Provider::Vega) => Provider::Vega,
                            (Provider::Tmdb, _) | (_, Provider::Tmdb) => Provider::Tmdb,
                            _ => Provider::File,
                        };
                    }
                    record.provider = provider;
                    for (key, value) in map {
                        if let Some(field) = self.columns.get(&key).and_then(|c| c.field(provider))
                        {
                            record.set(field, RawValue::from(value));
                        }
                    }
                }
                other => record.malformed = Some(other.to_string()),
            }
            if let Err(e) = (self.on_record)(record) {
                self.failed = Some(e);
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(row)
    }
}

/// What a JSON key says: the field it feeds (in a TMDB record and in any other) and the
/// provider it betrays.
#[derive(Debug, Clone, Copy)]
struct Column {
    tmdb: Option<Field>,
    other: Option<Field>,
    provider: Provider,
}

impl Column {
    fn of(key: &str) -> Self {
        Self {
            tmdb: Field::from_column(key, Provider::Tmdb),
            other: Field::from_column(key, Provider::File),
            provider: provider_of_columns([key]),
        }
    }

    fn field(&self, provider: Provider) -> Option<Field> {
        if provider == Provider::Tmdb {
            self.tmdb
        } else {
            self.other
        }
    }
}

fn extract_csv(
    name: &str,
    reader: impl Read,
    budget: &Budget,
    mut on_record: impl FnMut(RawRecord) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(reader);
    let csv_error = |e: csv::Error, row: u64| {
        if budget.exceeded() {
            return too_long(name, row + 1);
        }
        EtlError::Csv {
            source_name: name.to_owned(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        }
    };
    let headers = reader.headers().map_err(|e| csv_error(e, 0))?.clone();
    if headers.iter().all(str::is_empty) {
        return Ok(0);
    }
    let provider = provider_of_columns(headers.iter());
    let columns: Vec<Option<Field>> = headers
        .iter()
        .map(|h| Field::from_column(h, provider))
        .collect();
    if let Some(missing) = Field::REQUIRED
        .into_iter()
        .find(|f| !columns.contains(&Some(*f)))
    {
        return Err(EtlError::MissingColumn {
            source_name: name.to_owned(),
            field: missing,
            accepted: missing.aliases().join("\", \""),
        });
    }
    let mut row = 0;
    let mut values = csv::StringRecord::new();
    budget.reset();
    while reader
        .read_record(&mut values)
        .map_err(|e| csv_error(e, row))?
    {
        budget.reset();
        row += 1;
        let mut record = RawRecord::new(row, provider);
        for (field, value) in columns.iter().zip(values.iter()) {
            if let Some(field) = field {
                let raw = if value.is_empty() {
                    RawValue::Null
                } else {
                    RawValue::Text(value.to_owned())
                };
                record.set(*field, raw);
            }
        }
        on_record(record)?;
    }
    Ok(row)
}

/// Where the first byte that is not UTF-8 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Utf8Problem {
    offset: usize,
    line: usize,
    column: usize,
}

/// A reader that checks its stream is UTF-8 as it passes, across chunk boundaries.
struct Utf8Check<R> {
    inner: R,
    /// Bytes passed on so far.
    offset: usize,
    /// 1-based line and column of the next byte.
    line: usize,
    column: usize,
    /// The start of a multi-byte character split by a chunk boundary.
    pending: Vec<u8>,
    problem: Option<Utf8Problem>,
    /// Whether anything but whitespace went past.
    saw_content: bool,
}

impl<R: Read> Utf8Check<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            line: 1,
            column: 1,
            pending: Vec::new(),
            problem: None,
            saw_content: false,
        }
    }

    /// Advances the position over `bytes`, all valid.
    fn advance(&mut self, bytes: &[u8]) {
        self.offset += bytes.len();
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += bytes.iter().filter(|&&b| b == b'\n').count();
                self.column = bytes.len() - last;
            }
            None => self.column += bytes.len(),
        }
        if !self.saw_content {
            self.saw_content = bytes.iter().any(|b| !b.is_ascii_whitespace());
        }
    }

    /// The problem at `valid` bytes into `bytes`.
    fn fail(&mut self, bytes: &[u8], valid: usize) -> io::Error {
        self.advance(&bytes[..valid]);
        let p = Utf8Problem {
            offset: self.offset,
            line: self.line,
            column: self.column,
        };
        self.problem = Some(p);
        io::Error::new(io::ErrorKind::InvalidData, "input is not valid UTF-8")
    }

    /// Checks one chunk; an incomplete character at its end waits for the next chunk.
    fn check(&mut self, chunk: &[u8]) -> io::Result<()> {
        let mut rest = chunk;
        if !self.pending.is_empty() {
            let width = char_width(self.pending[0]);
            let take = (width - self.pending.len()).min(rest.len());
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if joined.len() < width && rest.is_empty() {
                self.pending = joined;
                return Ok(());
            }
            if std::str::from_utf8(&joined).is_err() {
                return Err(self.fail(&joined, 0));
            }
            self.advance(&joined);
        }
        match std::str::from_utf8(rest) {
            Ok(_) => self.advance(rest),
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                self.advance(&rest[..valid]);
                self.pending = rest[valid..].to_vec();
            }
            Err(e) => return Err(self.fail(rest, e.valid_up_to())),
        }
        Ok(())
    }
}

/// Bytes of the UTF-8 character a lead byte starts (the lead byte is known to be valid).
fn char_width(lead: u8) -> usize {
    match lead {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

impl<R: Read> Read for Utf8Check<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.problem.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            return Err(self.fail(&pending, 0));
        }
        self.check(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(bytes: &[u8], format: Format) -> Result<Vec<RawRecord>, EtlError> {
        let mut out = Vec::new();
        extract("input", bytes, format, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// A reader that returns one byte per read: every chunk boundary falls everywhere.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((&b, rest)) if !buf.is_empty() => {
                    buf[0] = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// `count` short records, one of `huge` bytes at position `at` (1-based), in `format`.
    fn with_one_huge_record(format: Format, count: u64, at: u64, huge: usize) -> Vec<u8> {
        let row = |i: u64| {
            let title = if i == at {
                "x".repeat(huge)
            } else {
                format!("Film {i}")
            };
            match format {
                Format::Json => format!(r#"{{"Title": "{title}", "Release Date": "1999-01-01"}}"#),
                Format::Csv => format!("{title},1999-01-01"),
            }
        };
        let rows: Vec<String> = (1..=count).map(row).collect();
        match format {
            Format::Json => format!("[{}]", rows.join(",\n")),
            Format::Csv => format!("Title,Release Date\n{}\n", rows.join("\n")),
        }
        .into_bytes()
    }

    #[test]
    fn a_record_past_the_limit_fails_the_extract_naming_it_and_many_short_ones_do_not() {
        for format in [Format::Json, Format::Csv] {
            // 60,000 short records (more than the limit together) read fine.
            let fine = with_one_huge_record(format, 60_000, 0, 0);
            assert!(fine.len() > MAX_RECORD_BYTES);
            assert_eq!(collect(&fine, format).map(|r| r.len()).ok(), Some(60_000));
            // Just under the limit (less a read-ahead block) is a record.
            let under = with_one_huge_record(format, 3, 2, MAX_RECORD_BYTES - 70 * 1024);
            assert_eq!(collect(&under, format).map(|r| r.len()).ok(), Some(3));
            let over = with_one_huge_record(format, 5, 4, 3 * MAX_RECORD_BYTES);
            let mut seen = 0;
            let err = extract("big", over.as_slice(), format, |_| {
                seen += 1;
                Ok(())
            })
            .unwrap_err();
            assert_eq!(seen, 3, "{format:?}");
            assert_eq!(
                err.to_string(),
                format!("big: record 4 is longer than {MAX_RECORD_BYTES} bytes, the longest a record may be"),
                "{format:?}"
            );
        }
    }

    #[test]
    fn json_records_are_numbered_from_one() {
        let recs = collect(
            br#"[{"Title": "A", "IMDB Rating": 5}, {"Title": 300}]"#,
            Format::Json,
        )
        .expect("ok");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].row, 1);
        assert_eq!(recs[0].get(Field::Rating), &RawValue::Number(5.0));
        assert_eq!(recs[1].get(Field::Title), &RawValue::Number(300.0));
        assert_eq!(recs[1].get(Field::Rating), &RawValue::Missing);
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = collect(
            b"[\n  {\"Title\": \"A\"},\n  {\"Title\": }\n]",
            Format::Json,
        )
        .unwrap_err();
        match err {
            EtlError::Json { line, column, .. } => assert_eq!((line, column), (3, 13)),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn json_that_is_not_an_array_is_an_error() {
        assert!(matches!(
            collect(br#"{"Title": "A"}"#, Format::Json),
            Err(EtlError::Json { .. })
        ));
    }

    #[test]
    fn json_array_element_that_is_not_an_object_becomes_a_malformed_record() {
        let recs = collect(br#"[1, {"Title": "A"}]"#, Format::Json).expect("ok");
        assert_eq!(recs[0].malformed.as_deref(), Some("1"));
        assert_eq!(recs[1].malformed, None);
    }

    #[test]
    fn non_utf8_input_reports_byte_offset() {
        let err = collect(b"[{\"Title\": \"Caf\xe9\"}]", Format::Json).unwrap_err();
        match err {
            EtlError::NotUtf8 {
                offset,
                line,
                column,
                ..
            } => assert_eq!((offset, line, column), (15, 1, 16)),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn utf8_split_across_reads_is_accepted_and_bad_bytes_are_found_at_any_boundary() {
        let good = "Title,Release Date,IMDB Rating\nAmélie 日本 🎬,2001-04-25,8.3\n";
        let mut out = Vec::new();
        extract("x", Trickle(good.as_bytes()), Format::Csv, |r| {
            out.push(r);
            Ok(())
        })
        .expect("valid UTF-8 in one-byte reads");
        assert_eq!(
            out[0].get(Field::Title),
            &RawValue::Text("Amélie 日本 🎬".into())
        );
        let bad = b"Title,Release Date,IMDB Rating\nAm\xc3(lie,2001-04-25,8.3\n";
        let err = extract("x", Trickle(bad), Format::Csv, |_| Ok(())).unwrap_err();
        match err {
            EtlError::NotUtf8 {
                offset,
                line,
                column,
                ..
            } => assert_eq!((offset, line, column), (33, 2, 3)),
            other => panic!("unexpected error {other:?}"),
        }
        let truncated = b"Title,Release Date,IMDB Rating\nAm\xc3";
        assert!(matches!(
            extract("x", Trickle(truncated), Format::Csv, |_| Ok(())),
            Err(EtlError::NotUtf8 { offset: 33, .. })
        ));
    }

    #[test]
    fn empty_inputs_are_errors() {
        for (bytes, format) in [
            (&b""[..], Format::Json),
            (b"  \n", Format::Csv),
            (b"  \n", Format::Json),
            (b"[]", Format::Json),
        ] {
            assert!(
                matches!(collect(bytes, format), Err(EtlError::Empty { .. })),
                "{bytes:?}"
            );
        }
        assert!(matches!(
            collect(b"title,release_date,rating\n", Format::Csv),
            Err(EtlError::Empty { .. })
        ));
    }

    #[test]
    fn csv_missing_required_column_names_it() {
        let err = collect(b"title,rating\nHeat,8.2\n", Format::Csv).unwrap_err();
        assert!(err.to_string().contains("release_date"), "{err}");
    }

    #[test]
    fn csv_blank_cell_is_null_and_short_row_is_missing() {
        let recs = collect(
            b"Title,Release Date,IMDB Rating\nHeat,,8.2\nAlien\n",
            Format::Csv,
        )
        .expect("ok");
        assert_eq!(recs[0].get(Field::ReleaseDate), &RawValue::Null);
        assert_eq!(recs[1].get(Field::Rating), &RawValue::Missing);
        assert_eq!(recs[1].row, 2);
    }

    #[test]
    fn a_callback_error_stops_the_extract() {
        let mut seen = 0;
        let err = extract(
            "x",
            &br#"[{"Title": "A"}, {"Title": "B"}]"#[..],
            Format::Json,
            |_| {
                seen += 1;
                Err(EtlError::Empty {
                    source_name: "stop".into(),
                })
            },
        )
        .unwrap_err();
        assert_eq!(seen, 1);
        assert!(err.to_string().contains("stop"), "{err}");
    }
}
