//! Extract: source bytes → a stream of [`RawRecord`]s, handed one at a time to a callback so no
//! stage ever holds a parsed copy of the whole input.

use super::record::{Field, RawRecord, RawValue};
use super::EtlError;
use serde::de::{Deserializer as _, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// The formats a source can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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
}

/// Checks the input is non-empty UTF-8, then streams its records into `on_record`.
/// Returns the number of records extracted. `name` is used in error messages.
pub fn extract(
    name: &str,
    bytes: &[u8],
    format: Format,
    on_record: impl FnMut(RawRecord),
) -> Result<u64, EtlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let (line, column) = line_column(&bytes[..offset]);
        EtlError::NotUtf8 {
            source_name: name.to_owned(),
            offset,
            line,
            column,
        }
    })?;
    if text.trim().is_empty() {
        return Err(EtlError::Empty {
            source_name: name.to_owned(),
        });
    }
    let count = match format {
        Format::Json => extract_json(name, text, on_record)?,
        Format::Csv => extract_csv(name, text, on_record)?,
    };
    if count == 0 {
        return Err(EtlError::Empty {
            source_name: name.to_owned(),
        });
    }
    Ok(count)
}

/// 1-based line and column of the byte just after `prefix`.
fn line_column(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

fn extract_json(name: &str, text: &str, on_record: impl FnMut(RawRecord)) -> Result<u64, EtlError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let json_error = |e: serde_json::Error| EtlError::Json {
        source_name: name.to_owned(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    };
    let visitor = RecordVisitor {
        on_record,
        columns: HashMap::new(),
    };
    let count = de.deserialize_seq(visitor).map_err(json_error)?;
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

struct RecordVisitor<F> {
    on_record: F,
    /// Key → field, resolved once per distinct key rather than once per record.
    columns: HashMap<String, Option<Field>>,
}

impl<'de, F: FnMut(RawRecord)> Visitor<'de> for RecordVisitor<F> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of movie objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<u64, A::Error> {
        let mut row = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            row += 1;
            let mut record = RawRecord::new(row);
            match value {
                serde_json::Value::Object(map) => {
                    for (key, value) in map {
                        let field = match self.columns.get(&key) {
                            Some(field) => *field,
                            None => *self
                                .columns
                                .entry(key)
                                .or_insert_with_key(|k| Field::from_column(k)),
                        };
                        if let Some(field) = field {
                            record.set(field, RawValue::from(value));
                        }
                    }
                }
                other => record.malformed = Some(other.to_string()),
            }
            (self.on_record)(record);
        }
        Ok(row)
    }
}

fn extract_csv(
    name: &str,
    text: &str,
    mut on_record: impl FnMut(RawRecord),
) -> Result<u64, EtlError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| EtlError::Csv {
        source_name: name.to_owned(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let columns: Vec<Option<Field>> = headers.iter().map(Field::from_column).collect();
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
    for result in reader.records() {
        let values = result.map_err(csv_error)?;
        row += 1;
        let mut record = RawRecord::new(row);
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
        on_record(record);
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(bytes: &[u8], format: Format) -> Result<Vec<RawRecord>, EtlError> {
        let mut out = Vec::new();
        extract("input", bytes, format, |r| out.push(r))?;
        Ok(out)
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
    fn empty_inputs_are_errors() {
        for (bytes, format) in [
            (&b""[..], Format::Json),
            (b"  \n", Format::Csv),
            (b"[]", Format::Json),
        ] {
            assert!(matches!(
                collect(bytes, format),
                Err(EtlError::Empty { .. })
            ));
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
}
