//! Transform: typed, pure stages from a [`RawRecord`] to a valid [`Movie`] or the list of reasons
//! it was rejected. No I/O here; every stage is unit-tested on its own.

use crate::domain::etl::{Reason, Reject};
use crate::domain::genre::{Genre, Mapped};
use crate::domain::movie::{Movie, Rating, ReleaseDate, Title, MIN_YEAR};
use crate::domain::record::{Field, RawRecord, RawValue, MAX_NAME_BYTES};
use crate::domain::source::{ExternalId, Namespace};
use crate::domain::text::{self, Repair};
use chrono::NaiveDate;

/// Settings of the transform that depend on the world, passed in so the stages stay pure.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Latest release year accepted: next year, relative to the day of the run.
    pub max_year: i32,
}

type Stage<T> = Result<T, (Reason, Option<String>)>;

/// A clean record and the text repairs that made it so.
#[derive(Debug, Clone, PartialEq)]
pub struct Transformed {
    pub movie: Movie,
    pub repairs: Vec<Repair>,
}

/// Runs every stage on one record; a row with any problem yields all of its problems.
pub fn transform(record: &RawRecord, rules: Rules) -> Result<Transformed, Vec<Reject>> {
    if let Some(what) = &record.malformed {
        return Err(vec![Reject::new(
            record.row,
            Field::Record,
            Reason::NotAnObject,
            Some(what),
            None,
        )]);
    }
    let too_long = too_long(record);
    if !too_long.is_empty() {
        return Err(too_long);
    }
    let mut stage = Stages {
        record,
        rejects: Vec::new(),
    };
    let title = stage.run(Field::Title, parse_title);
    let release = parse_release(record, rules)
        .map_err(|problem| stage.rejects.push(problem))
        .ok();
    let rating = stage.run(Field::Rating, parse_rating);
    let votes = stage.run(Field::Votes, parse_votes);
    let runtime = stage.run(Field::Runtime, parse_runtime);
    let popularity = stage.run(Field::Popularity, parse_popularity);
    let tmdb_id = stage.run(Field::TmdbId, parse_tmdb_id);
    let [genre_labels, keywords, cast, directors, writers] = [
        Field::Genre,
        Field::Keywords,
        Field::Cast,
        Field::Director,
        Field::Writer,
    ]
    .map(|field| stage.run(field, list));
    let (
        Some(title),
        Some((year, release_date)),
        Some(rating),
        Some(votes),
        Some(runtime),
        Some(popularity),
        Some(tmdb_id),
        Some(genre_labels),
        Some(keywords),
        Some(cast),
        Some(directors),
        Some(writers),
    ) = (
        title,
        release,
        rating,
        votes,
        runtime,
        popularity,
        tmdb_id,
        genre_labels,
        keywords,
        cast,
        directors,
        writers,
    )
    else {
        return Err(stage.rejects);
    };
    let mut repairs = Vec::new();
    let mut fix = |field: Field, text: String| -> String {
        match text::repair(&text) {
            Some(r) => {
                repairs.push(Repair {
                    field,
                    row: record.row,
                    before: text,
                    after: r.text.clone(),
                    via: r.via.to_owned(),
                });
                r.text
            }
            None => text,
        }
    };
    let (title, unrepaired_title) =
        match Title::parse(&fix(Field::Title, title.as_str().to_owned())) {
            Some(t) if t != title => (t, Some(title)),
            _ => (title, None),
        };
    let mut movie = Movie::new(record.provider, title, year, record.row);
    movie.unrepaired_title = unrepaired_title;
    movie.original_title = optional_text(record.get(Field::OriginalTitle))
        .and_then(|t| Title::parse(&fix(Field::OriginalTitle, t)));
    movie.ids = record.ids.clone();
    movie.ids.extend(
        tmdb_id
            .map(|id| ExternalId::new(Namespace::Tmdb, id.to_string()))
            .into_iter()
            .chain(optional_text(record.get(Field::ImdbId)).and_then(|i| ExternalId::imdb(&i))),
    );
    movie.release_date = release_date;
    // A rating backed by zero votes is no rating (TMDB sends 0 with 0 votes for unrated films).
    movie.rating = rating.filter(|_| votes != Some(0));
    movie.votes = votes;
    movie.genres = genres(&genre_labels);
    let mut fixed_names = |field: Field, names: Vec<String>| -> Vec<String> {
        names.into_iter().map(|n| fix(field, n)).collect()
    };
    movie.keywords = fixed_names(Field::Keywords, keywords);
    movie.cast = fixed_names(Field::Cast, cast);
    movie.directors = fixed_names(Field::Director, directors);
    movie.writers = fixed_names(Field::Writer, writers);
    movie.overview = optional_text(record.get(Field::Overview)).map(|o| fix(Field::Overview, o));
    movie.runtime = runtime;
    movie.language = optional_text(record.get(Field::Language));
    movie.popularity = popularity;
    movie.certification = optional_text(record.get(Field::Certification));
    movie.creative_type = optional_text(record.get(Field::CreativeType));
    Ok(Transformed { movie, repairs })
}

/// A release year, with the date when the source has one.
type Release = (i32, Option<NaiveDate>);

/// The release year, and the date when the source has one: from the release date, or else
/// from a bare year (MovieLens titles). The problem names the field to blame.
fn parse_release(record: &RawRecord, rules: Rules) -> Result<Release, Reject> {
    let date = record.get(Field::ReleaseDate);
    let year = record.get(Field::Year);
    let (field, outcome) = if date.is_blank() && !year.is_blank() {
        (Field::Year, parse_year(year, rules).map(|y| (y, None)))
    } else {
        (
            Field::ReleaseDate,
            parse_release_date(date, rules).map(|d| (d.year(), Some(d.date()))),
        )
    };
    outcome.map_err(|(reason, detail)| {
        Reject::new(
            record.row,
            field,
            reason,
            record.get(field).display().as_deref(),
            detail,
        )
    })
}

/// Every field longer than its maximum ([`Field::max_bytes`]). Checked before any other stage,
/// so no stage works on a huge value.
fn too_long(record: &RawRecord) -> Vec<Reject> {
    let mut out = Vec::new();
    for field in Field::COLUMNS {
        let raw = record.get(field);
        let (bytes, max) = (raw.len_bytes(), field.max_bytes());
        if bytes > max {
            out.push(Reject::new(
                record.row,
                field,
                Reason::TooLong,
                raw.display().as_deref(),
                Some(format!("{bytes} bytes; a {field} may have {max}")),
            ));
        }
    }
    out
}

/// Runs a record's field stages, keeping every problem against its field.
struct Stages<'r> {
    record: &'r RawRecord,
    rejects: Vec<Reject>,
}

impl Stages<'_> {
    /// The stage's value for `field`, or `None` with its problem recorded.
    fn run<T>(&mut self, field: Field, parse: impl FnOnce(&RawValue) -> Stage<T>) -> Option<T> {
        parse(self.record.get(field))
            .map_err(|(reason, detail)| {
                self.rejects.push(Reject::new(
                    self.record.row,
                    field,
                    reason,
                    self.record.get(field).display().as_deref(),
                    detail,
                ))
            })
            .ok()
    }
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
        .or_else(|_| NaiveDate::parse_from_str(text, "%d-%b-%Y"))
        .map_err(|_| {
            (
                Reason::InvalidDate,
                Some("expected `Jun 12 1998`, `1998-06-12` or `12-Jun-1998`".into()),
            )
        })?;
    ReleaseDate::new(date, rules.max_year).ok_or_else(|| {
        (
            Reason::YearOutOfRange,
            Some(format!("year must be {MIN_YEAR}..={}", rules.max_year)),
        )
    })
}

/// A bare release year in range.
fn parse_year(raw: &RawValue, rules: Rules) -> Stage<i32> {
    let value = number(raw)?.ok_or((Reason::Missing, None))?;
    let range = MIN_YEAR..=rules.max_year;
    if value.fract() != 0.0 || !range.contains(&(value as i32)) {
        return Err((
            Reason::YearOutOfRange,
            Some(format!("year must be {MIN_YEAR}..={}", rules.max_year)),
        ));
    }
    Ok(value as i32)
}

/// Rating stage: optional, but when present a number (or numeric text) in 0–10.
pub fn parse_rating(raw: &RawValue) -> Stage<Option<Rating>> {
    number(raw)?
        .map(|value| {
            Rating::new(value).ok_or((Reason::OutOfRange, Some("rating must be 0..=10".into())))
        })
        .transpose()
}

/// Runtime stage: optional minutes; 0 means unknown (TMDB's way of saying so).
fn parse_runtime(raw: &RawValue) -> Stage<Option<u32>> {
    match number(raw)? {
        None => Ok(None),
        Some(0.0) => Ok(None),
        Some(v) if v > 0.0 && v.fract() == 0.0 && v <= 10_000.0 => Ok(Some(v as u32)),
        Some(_) => Err((
            Reason::OutOfRange,
            Some("runtime must be whole minutes, 1..=10000".into()),
        )),
    }
}

/// Popularity stage: optional, a number ≥ 0.
fn parse_popularity(raw: &RawValue) -> Stage<Option<f64>> {
    match number(raw)? {
        Some(v) if v < 0.0 => Err((Reason::OutOfRange, Some("popularity must be >= 0".into()))),
        other => Ok(other),
    }
}

/// TMDB id stage: optional, a whole number > 0.
fn parse_tmdb_id(raw: &RawValue) -> Stage<Option<u64>> {
    match number(raw)? {
        None => Ok(None),
        Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= u32::MAX as f64 => Ok(Some(v as u64)),
        Some(_) => Err((
            Reason::OutOfRange,
            Some("a TMDB id is a whole number >= 1".into()),
        )),
    }
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

/// List stage: the [`names`] of a field, none longer than [`MAX_NAME_BYTES`].
fn list(raw: &RawValue) -> Stage<Vec<String>> {
    let names = names(raw);
    match names.iter().find(|n| n.len() > MAX_NAME_BYTES) {
        Some(long) => Err((
            Reason::TooLong,
            Some(format!(
                "an item of {} bytes; a name may have {MAX_NAME_BYTES}",
                long.len()
            )),
        )),
        None => Ok(names),
    }
}

/// A list of names from a typed list, a JSON array of `{"name"}` objects (TMDB exports) or of
/// strings, or `|`-separated text. Trimmed, blanks and repeats dropped, order kept.
pub fn names(raw: &RawValue) -> Vec<String> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Named {
        Object { name: String },
        Text(String),
    }
    let items: Vec<String> = match raw {
        RawValue::List(items) => items.clone(),
        RawValue::Text(s) | RawValue::Nested(s) if s.trim_start().starts_with('[') => {
            match serde_json::from_str::<Vec<Named>>(s) {
                Ok(list) => list
                    .into_iter()
                    .map(|n| match n {
                        Named::Object { name } | Named::Text(name) => name,
                    })
                    .collect(),
                Err(_) => vec![s.clone()],
            }
        }
        RawValue::Text(s) => s.split('|').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|item| Title::parse(item))
        .map(|t| t.as_str().to_owned())
        .collect();
    if out.len() <= 32 {
        // The usual few names: a scan, no set to allocate.
        let mut kept = 0;
        for i in 0..out.len() {
            if !out[..kept].contains(&out[i]) {
                out.swap(kept, i);
                kept += 1;
            }
        }
        out.truncate(kept);
    } else {
        // A set, not a scan: a hostile list of 30,000 names must not cost 30,000².
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        out.retain(|t| seen.insert(t.clone()));
    }
    out
}

/// The record's genres in the vocabulary, from its genre labels only: vega's Creative Type
/// ("Historical Fiction", "Contemporary Fiction") says how a story is told, not what kind of film
/// it is — it made Titanic and The Godfather "History" — so it is kept as a fact, not a genre.
pub fn genres(labels: &[String]) -> Vec<Genre> {
    let mut out: Vec<Genre> = labels
        .iter()
        .filter_map(|label| match Genre::map_label(label) {
            Mapped::Genres(g) => Some(g),
            Mapped::NotAGenre | Mapped::Unknown => None,
        })
        .flatten()
        .copied()
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Genre labels of the record that the vocabulary does not know, for the audit.
pub fn unknown_genre_labels(record: &RawRecord) -> Vec<String> {
    names(record.get(Field::Genre))
        .into_iter()
        .filter(|label| Genre::map_label(label) == Mapped::Unknown)
        .collect()
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
    use crate::domain::source::Provider;

    const RULES: Rules = Rules { max_year: 2027 };

    fn text(s: &str) -> RawValue {
        RawValue::Text(s.into())
    }

    fn record(title: RawValue, date: RawValue, rating: RawValue) -> RawRecord {
        RawRecord::new(7, Provider::File)
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
        assert_eq!(parse_rating(&RawValue::Null), Ok(None));
        assert_eq!(
            parse_rating(&text(" 7.5 "))
                .expect("numeric text")
                .map(Rating::value),
            Some(7.5)
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
    fn a_value_over_its_fields_maximum_is_too_long_and_kept_only_as_a_prefix() {
        let title = "é".repeat(100_000);
        let rec = record(text(&title), text("1999-01-01"), RawValue::Number(7.0));
        let rejects = transform(&rec, RULES).unwrap_err();
        assert_eq!(rejects.len(), 1);
        let r = &rejects[0];
        assert_eq!((r.field, r.reason), (Field::Title, Reason::TooLong));
        let kept = r.raw_value.as_deref().expect("a prefix");
        assert!(kept.len() <= crate::domain::etl::RAW_PREFIX_BYTES);
        assert!(title.starts_with(kept) && kept.chars().all(|c| c == 'é'));
        assert_eq!(r.raw_bytes, Some(200_000));
        let sha = <sha2::Sha256 as sha2::Digest>::digest(title.as_bytes());
        assert_eq!(r.raw_sha256, Some(format!("{sha:x}")));
        // At the maximum it is a title.
        let longest = "x".repeat(Field::Title.max_bytes());
        let rec = record(text(&longest), text("1999-01-01"), RawValue::Number(7.0));
        assert_eq!(
            transform(&rec, RULES).expect("ok").movie.title.as_str(),
            longest
        );
    }

    #[test]
    fn a_list_item_over_the_name_maximum_is_too_long() {
        let long = "k".repeat(MAX_NAME_BYTES + 1);
        let rec = record(text("Heat"), text("1995-12-15"), RawValue::Number(8.2)).with(
            Field::Keywords,
            RawValue::Nested(format!(r#"[{{"name":"heist"}},{{"name":"{long}"}}]"#)),
        );
        let rejects = transform(&rec, RULES).unwrap_err();
        let got: Vec<_> = rejects.iter().map(|r| (r.field, r.reason)).collect();
        assert_eq!(got, [(Field::Keywords, Reason::TooLong)]);
        let fine = record(text("Heat"), text("1995-12-15"), RawValue::Number(8.2)).with(
            Field::Keywords,
            RawValue::Text(format!("heist|{}", &long[1..])),
        );
        assert_eq!(transform(&fine, RULES).expect("ok").movie.keywords.len(), 2);
    }

    #[test]
    fn a_long_list_of_names_keeps_the_first_of_each_in_order() {
        let many: Vec<String> = (0..30_000).map(|i| format!("n{}", i % 20_000)).collect();
        let got = names(&RawValue::List(many));
        assert_eq!(got.len(), 20_000);
        assert_eq!((got[0].as_str(), got[19_999].as_str()), ("n0", "n19999"));
        let few = names(&RawValue::Text("b| a |b|c||a".into()));
        assert_eq!(few, ["b", "a", "c"]);
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
        let movie = transform(&rec, RULES).expect("valid row").movie;
        assert_eq!(movie.title.as_str(), "The Land Girls");
        assert_eq!(movie.year, 1998);
        assert_eq!(movie.release_date, NaiveDate::from_ymd_opt(1998, 6, 12));
        assert_eq!(movie.rating.map(Rating::value), Some(6.1));
        assert_eq!(movie.votes, Some(1071));
        assert_eq!(movie.genres, [Genre::Drama, Genre::Romance]);
        assert_eq!(movie.source_row, 7);
        assert_eq!(
            movie.own_id(),
            ExternalId::new(Namespace::File, "the land girls (1998)")
        );
    }

    #[test]
    fn a_rating_backed_by_zero_votes_is_no_rating() {
        let rec = record(text("Unseen"), text("2020-01-01"), RawValue::Number(0.0))
            .with(Field::Votes, RawValue::Number(0.0));
        let movie = transform(&rec, RULES).expect("valid row").movie;
        assert_eq!(movie.rating, None);
        assert_eq!(movie.votes, Some(0));
        let rated = record(text("Seen"), text("2020-01-01"), RawValue::Number(0.0))
            .with(Field::Votes, RawValue::Number(3.0));
        assert_eq!(
            transform(&rated, RULES)
                .expect("valid")
                .movie
                .rating
                .map(Rating::value),
            Some(0.0)
        );
    }

    #[test]
    fn a_bare_year_stands_in_for_the_date_and_is_checked_like_one() {
        let rec = RawRecord::new(1, Provider::Movielens)
            .with(Field::Title, text("The Matrix"))
            .with(Field::Year, RawValue::Number(1999.0));
        let movie = transform(&rec, RULES).expect("valid").movie;
        assert_eq!((movie.year, movie.release_date), (1999, None));
        let bad = RawRecord::new(2, Provider::Movielens)
            .with(Field::Title, text("Future"))
            .with(Field::Year, RawValue::Number(2999.0));
        let rejects = transform(&bad, RULES).unwrap_err();
        assert_eq!(
            (rejects[0].field, rejects[0].reason),
            (Field::Year, Reason::YearOutOfRange)
        );
        assert_eq!(
            parse_release_date(&text("01-Jan-1995"), RULES)
                .expect("ml-100k date")
                .year(),
            1995
        );
    }

    #[test]
    fn tmdb_records_carry_their_ids_and_attributes() {
        let rec = RawRecord::new(1, Provider::Tmdb)
            .with(Field::Title, text("Titanic"))
            .with(Field::ReleaseDate, text("1997-11-18"))
            .with(Field::TmdbId, text("597"))
            .with(Field::ImdbId, text("tt0120338"))
            .with(
                Field::Genre,
                RawValue::List(vec![
                    "Drama".into(),
                    "Science Fiction".into(),
                    "Foreign".into(),
                ]),
            )
            .with(
                Field::Cast,
                RawValue::List(vec!["Kate".into(), "Leo".into(), "Kate".into()]),
            )
            .with(Field::Runtime, RawValue::Number(0.0));
        let movie = transform(&rec, RULES).expect("valid").movie;
        assert_eq!(
            movie.ids,
            [
                ExternalId::new(Namespace::Tmdb, "597"),
                ExternalId::new(Namespace::Imdb, "tt0120338")
            ]
        );
        assert_eq!(movie.own_id(), ExternalId::new(Namespace::Tmdb, "597"));
        assert_eq!(movie.genres, [Genre::Drama, Genre::ScienceFiction]);
        assert_eq!(
            movie.cast,
            ["Kate", "Leo"],
            "repeats dropped, billing order kept"
        );
        assert_eq!(movie.runtime, None, "TMDB's runtime 0 means unknown");
        let bad_id = rec.clone().with(Field::TmdbId, RawValue::Number(-4.0));
        assert_eq!(
            transform(&bad_id, RULES).unwrap_err()[0].field,
            Field::TmdbId
        );
    }

    #[test]
    fn vega_genres_map_onto_the_vocabulary_and_creative_types_are_not_genres() {
        let rec = RawRecord::new(1, Provider::Vega)
            .with(Field::Genre, text("Thriller/Suspense"))
            .with(Field::CreativeType, text("Historical Fiction"));
        assert_eq!(genres(&names(rec.get(Field::Genre))), [Genre::Thriller]);
        let movie = transform(
            &rec.with(Field::Title, text("Titanic"))
                .with(Field::Year, RawValue::Number(1997.0)),
            RULES,
        )
        .expect("valid")
        .movie;
        assert_eq!(movie.creative_type.as_deref(), Some("Historical Fiction"));
        let odd = RawRecord::new(1, Provider::Vega).with(Field::Genre, text("Space Opera"));
        assert_eq!(genres(&names(odd.get(Field::Genre))), []);
        assert_eq!(unknown_genre_labels(&odd), ["Space Opera"]);
    }

    #[test]
    fn non_object_record_is_rejected_whole() {
        let mut rec = RawRecord::new(3, Provider::File);
        rec.malformed = Some("42".into());
        let rejects = transform(&rec, RULES).unwrap_err();
        assert_eq!(rejects.len(), 1);
        assert_eq!(
            (rejects[0].field, rejects[0].reason),
            (Field::Record, Reason::NotAnObject)
        );
    }
}
