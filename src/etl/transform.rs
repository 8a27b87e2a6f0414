//! Transform: typed, pure stages from a [`RawRecord`] to a valid [`Movie`] or the list of reasons
//! it was rejected. No I/O here; every stage is unit-tested on its own.

use crate::domain::etl::{Reason, Reject};
use crate::domain::movie::{Movie, Rating, ReleaseDate, Title, MIN_YEAR};
use crate::domain::record::{Field, RawRecord, RawValue};
use chrono::NaiveDate;

/// Settings of the transform that depend on the world, passed in so the stages stay pure.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Latest release year accepted: next year, relative to the day of the run.
    pub max_year: i32,
}

type Stage<T> = Result<T, (Reason, Option<String>)>;

/// Runs every stage on one record; a row with any problem yields all of its problems.
pub fn transform(record: &RawRecord, rules: Rules) -> Result<Movie, Vec<Reject>> {
    if let Some(what) = &record.malformed {
        return Err(vec![Reject {
            source_row: record.row,
            field: Field::Record,
            reason: Reason::NotAnObject,
            raw_value: Some(what.clone()),
            detail: None,
        }]);
    }
    let mut rejects = Vec::new();
    let title = check(
        &mut rejects,
        record,
        Field::Title,
        parse_title(record.get(Field::Title)),
    );
    let date = check(
        &mut rejects,
        record,
        Field::ReleaseDate,
        parse_release_date(record.get(Field::ReleaseDate), rules),
    );
    let rating = check(
        &mut rejects,
        record,
        Field::Rating,
        parse_rating(record.get(Field::Rating)),
    );
    let votes = check(
        &mut rejects,
        record,
        Field::Votes,
        parse_votes(record.get(Field::Votes)),
    );
    match (title, date, rating, votes) {
        (Some(title), Some(release_date), Some(rating), Some(votes)) => Ok(Movie {
            title,
            release_date,
            rating,
            votes,
            genre: optional_text(record.get(Field::Genre)).map(|g| genre_names(&g)),
            director: optional_text(record.get(Field::Director)),
            source_row: record.row,
        }),
        _ => Err(rejects),
    }
}

/// Keeps a stage's value, or records its problem against `field` and yields `None`.
fn check<T>(
    rejects: &mut Vec<Reject>,
    record: &RawRecord,
    field: Field,
    outcome: Stage<T>,
) -> Option<T> {
    outcome
        .map_err(|(reason, detail)| {
            rejects.push(Reject {
                source_row: record.row,
                field,
                reason,
                raw_value: record.get(field).display(),
                detail,
            })
        })
        .ok()
}

/// Title stage. Numbers are titles too (`300`, `1776`, `2012` are real films), booleans are not.
pub fn parse_title(raw: &RawValue) -> Stage<Title> {
    let text = match raw {
        RawValue::Text(s) => s.clone(),
        RawValue::Number(n) => format_number(*n),
        RawValue::Missing | RawValue::Null => return Err((Reason::Missing, None)),
        RawValue::Bool(_) | RawValue::Nested(_) | RawValue::List(_) => {
            return Err((Reason::WrongType, None))
        }
    };
    Title::parse(&text).ok_or((Reason::Missing, Some("blank title".into())))
}

/// Release-date stage: the vega form `Jun 12 1998` or ISO `1998-06-12`, year in range.
pub fn parse_release_date(raw: &RawValue, rules: Rules) -> Stage<ReleaseDate> {
    let text = match raw {
        RawValue::Text(s) if !s.trim().is_empty() => s.trim(),
        RawValue::Missing | RawValue::Null | RawValue::Text(_) => {
            return Err((Reason::Missing, None))
        }
        _ => return Err((Reason::WrongType, None)),
    };
    // ISO first when the text starts with a digit: most sources write dates that way.
    let (first, second) = if text.starts_with(|c: char| c.is_ascii_digit()) {
        ("%Y-%m-%d", "%b %d %Y")
    } else {
        ("%b %d %Y", "%Y-%m-%d")
    };
    let date = NaiveDate::parse_from_str(text, first)
        .or_else(|_| NaiveDate::parse_from_str(text, second))
        .map_err(|_| {
            (
                Reason::InvalidDate,
                Some("expected `Jun 12 1998` or `1998-06-12`".into()),
            )
        })?;
    ReleaseDate::new(date, rules.max_year).ok_or_else(|| {
        (
            Reason::YearOutOfRange,
            Some(format!("year must be {MIN_YEAR}..={}", rules.max_year)),
        )
    })
}

/// Rating stage: a number (or numeric text) in 0–10.
pub fn parse_rating(raw: &RawValue) -> Stage<Rating> {
    let value = number(raw)?.ok_or((Reason::Missing, None))?;
    Rating::new(value).ok_or((Reason::OutOfRange, Some("rating must be 0..=10".into())))
}

/// Votes stage: optional, but when present a whole number ≥ 0.
pub fn parse_votes(raw: &RawValue) -> Stage<Option<u64>> {
    match number(raw)? {
        None => Ok(None),
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64 => Ok(Some(v as u64)),
        Some(_) => Err((
            Reason::OutOfRange,
            Some("votes must be a whole number >= 0".into()),
        )),
    }
}

/// A finite number from a JSON number or numeric text; `None` when blank.
fn number(raw: &RawValue) -> Stage<Option<f64>> {
    let value = match raw {
        _ if raw.is_blank() => return Ok(None),
        RawValue::Number(n) => *n,
        RawValue::Text(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| (Reason::NotANumber, None))?,
        _ => return Err((Reason::WrongType, None)),
    };
    if value.is_finite() {
        Ok(Some(value))
    } else {
        Err((Reason::NotANumber, None))
    }
}

/// Optional free text: trimmed and NFC-normalised, blank becomes `None`.
fn optional_text(raw: &RawValue) -> Option<String> {
    match raw {
        RawValue::Text(s) | RawValue::Nested(s) => Title::parse(s).map(|t| t.as_str().to_owned()),
        RawValue::List(items) => Title::parse(&items.join("|")).map(|t| t.as_str().to_owned()),
        RawValue::Number(n) => Some(format_number(*n)),
        _ => None,
    }
}

/// TMDB exports hold genres as a JSON array of `{"id", "name"}`; keep the names, `|`-separated.
fn genre_names(text: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    match serde_json::from_str::<Vec<Named>>(text) {
        Ok(list) => list
            .into_iter()
            .map(|g| g.name)
            .collect::<Vec<_>>()
            .join("|"),
        Err(_) => text.to_owned(),
    }
}

/// `300.0` → `"300"`, `1.5` → `"1.5"`.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules { max_year: 2027 };

    fn text(s: &str) -> RawValue {
        RawValue::Text(s.into())
    }

    fn record(title: RawValue, date: RawValue, rating: RawValue) -> RawRecord {
        RawRecord::new(7)
            .with(Field::Title, title)
            .with(Field::ReleaseDate, date)
            .with(Field::Rating, rating)
    }

    #[test]
    fn parses_vega_and_iso_dates() {
        let vega = parse_release_date(&text("Jun 12 1998"), RULES).expect("vega date");
        let iso = parse_release_date(&text("1998-06-12"), RULES).expect("iso date");
        assert_eq!(vega, iso);
        assert_eq!(vega.year(), 1998);
    }

    #[test]
    fn rejects_impossible_future_year() {
        let err = parse_release_date(&text("Dec 31 2046"), RULES).unwrap_err();
        assert_eq!(err.0, Reason::YearOutOfRange);
    }

    #[test]
    fn rejects_unparseable_date() {
        assert_eq!(
            parse_release_date(&text("31/12/1999"), RULES)
                .unwrap_err()
                .0,
            Reason::InvalidDate
        );
        assert_eq!(
            parse_release_date(&text("Feb 30 1999"), RULES)
                .unwrap_err()
                .0,
            Reason::InvalidDate
        );
        assert_eq!(
            parse_release_date(&RawValue::Null, RULES).unwrap_err().0,
            Reason::Missing
        );
    }

    #[test]
    fn rejects_rating_above_ten() {
        assert_eq!(
            parse_rating(&RawValue::Number(10.5)).unwrap_err().0,
            Reason::OutOfRange
        );
        assert_eq!(
            parse_rating(&text("abc")).unwrap_err().0,
            Reason::NotANumber
        );
        assert_eq!(
            parse_rating(&text("NaN")).unwrap_err().0,
            Reason::NotANumber
        );
        assert_eq!(
            parse_rating(&RawValue::Null).unwrap_err().0,
            Reason::Missing
        );
        assert_eq!(
            parse_rating(&text(" 7.5 ")).expect("numeric text").value(),
            7.5
        );
    }

    #[test]
    fn numeric_title_becomes_text_and_boolean_title_is_wrong_type() {
        assert_eq!(
            parse_title(&RawValue::Number(300.0))
                .expect("title")
                .as_str(),
            "300"
        );
        assert_eq!(
            parse_title(&RawValue::Bool(true)).unwrap_err().0,
            Reason::WrongType
        );
        assert_eq!(parse_title(&text("   ")).unwrap_err().0, Reason::Missing);
    }

    #[test]
    fn votes_are_optional_but_must_be_whole() {
        assert_eq!(parse_votes(&RawValue::Null), Ok(None));
        assert_eq!(parse_votes(&RawValue::Number(1071.0)), Ok(Some(1071)));
        assert_eq!(
            parse_votes(&RawValue::Number(-3.0)).unwrap_err().0,
            Reason::OutOfRange
        );
        assert_eq!(
            parse_votes(&RawValue::Number(2.5)).unwrap_err().0,
            Reason::OutOfRange
        );
    }

    #[test]
    fn a_row_reports_every_problem_it_has() {
        let rec = record(RawValue::Null, text("Dec 31 2046"), RawValue::Number(11.0));
        let rejects = transform(&rec, RULES).unwrap_err();
        let got: Vec<_> = rejects
            .iter()
            .map(|r| (r.field, r.reason, r.source_row))
            .collect();
        assert_eq!(
            got,
            vec![
                (Field::Title, Reason::Missing, 7),
                (Field::ReleaseDate, Reason::YearOutOfRange, 7),
                (Field::Rating, Reason::OutOfRange, 7),
            ]
        );
        assert_eq!(rejects[1].raw_value.as_deref(), Some("Dec 31 2046"));
    }

    #[test]
    fn clean_row_becomes_movie() {
        let rec = record(
            text(" The  Land Girls "),
            text("Jun 12 1998"),
            RawValue::Number(6.1),
        )
        .with(Field::Votes, RawValue::Number(1071.0))
        .with(
            Field::Genre,
            text(r#"[{"id": 18, "name": "Drama"}, {"id": 10749, "name": "Romance"}]"#),
        );
        let movie = transform(&rec, RULES).expect("valid row");
        assert_eq!(movie.title.as_str(), "The Land Girls");
        assert_eq!(movie.release_date.year(), 1998);
        assert_eq!(movie.rating.value(), 6.1);
        assert_eq!(movie.votes, Some(1071));
        assert_eq!(movie.genre.as_deref(), Some("Drama|Romance"));
        assert_eq!(movie.source_row, 7);
    }

    #[test]
    fn non_object_record_is_rejected_whole() {
        let mut rec = RawRecord::new(3);
        rec.malformed = Some("42".into());
        let rejects = transform(&rec, RULES).unwrap_err();
        assert_eq!(rejects.len(), 1);
        assert_eq!(
            (rejects[0].field, rejects[0].reason),
            (Field::Record, Reason::NotAnObject)
        );
    }
}
