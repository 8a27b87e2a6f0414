//! Scored comparisons, Fellegi–Sunter style: each comparison of a record with a candidate movie
//! lands on a level, each level carries a weight — log2(m/u), how much likelier the level is
//! between two records of one film (m) than between two different films that share a blocking
//! key (u) — and the score is their sum. A comparison one side cannot make (no director, no
//! runtime) weighs nothing.
//!
//! The weights were set from the m and u rates measured on the training half of the gold pairs
//! (ml-latest-small's `links.csv` against the TMDB 5000 export; `movierec eval --protocol
//! identity` prints them), rounded, and sanity-checked by hand: an exact title and year, or an
//! exact title one year off, is a match on its own; a near title needs the year; a title that
//! is only part of the other needs the year and one more agreeing fact.

use super::normalize::TitleForm;
use super::Profile;
use serde::Serialize;

/// How two titles compare, best level first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleLevel {
    /// The same normal form, or the same words in another order.
    Exact,
    /// Jaro–Winkler ≥ 0.95 over the normal forms (a typo, a letter more).
    Close,
    /// One title's words are all in the other's (a part of a longer title, a dropped subtitle).
    Contained,
    /// Jaro–Winkler ≥ 0.88.
    Similar,
    Different,
}

/// How two release years compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum YearLevel {
    Same,
    /// One year apart: release dates differ between countries and sources.
    Adjacent,
    /// Exactly 100 apart: vega's two-digit-year slip (Wings 2027 for 1927).
    Century,
    /// Two or three years apart.
    Near,
    Far,
}

/// Agreement of a fact both sides may have (director, runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    Agree,
    Disagree,
    /// One side has no value.
    Unknown,
}

/// The levels of one comparison and its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub title: TitleLevel,
    pub year: YearLevel,
    pub director: Agreement,
    pub runtime: Agreement,
    pub score: f64,
}

impl TitleLevel {
    fn weight(self) -> f64 {
        match self {
            TitleLevel::Exact => 9.0,
            TitleLevel::Close => 7.0,
            TitleLevel::Contained => 6.0,
            TitleLevel::Similar => 1.0,
            TitleLevel::Different => -10.0,
        }
    }
}

impl YearLevel {
    fn weight(self) -> f64 {
        match self {
            YearLevel::Same => 4.0,
            YearLevel::Adjacent => 2.0,
            YearLevel::Century => 0.0,
            YearLevel::Near => -4.0,
            YearLevel::Far => -10.0,
        }
    }
}

fn director_weight(a: Agreement) -> f64 {
    match a {
        Agreement::Agree => 5.0,
        Agreement::Disagree => -6.0,
        Agreement::Unknown => 0.0,
    }
}

fn runtime_weight(a: Agreement) -> f64 {
    match a {
        Agreement::Agree => 2.0,
        Agreement::Disagree => -3.0,
        Agreement::Unknown => 0.0,
    }
}

/// Compares a record with a candidate movie.
pub fn compare(record: &Profile, movie: &Profile) -> Comparison {
    let title = record
        .titles
        .iter()
        .flat_map(|a| movie.titles.iter().map(move |b| title_level(a, b)))
        .min()
        .unwrap_or(TitleLevel::Different);
    let gap = record
        .years
        .iter()
        .flat_map(|a| movie.years.iter().map(move |b| (a - b).abs()))
        .min_by_key(|d| if *d == 100 { 4 } else { *d });
    let year = match gap {
        Some(0) => YearLevel::Same,
        Some(1) => YearLevel::Adjacent,
        Some(100) => YearLevel::Century,
        Some(2 | 3) => YearLevel::Near,
        _ => YearLevel::Far,
    };
    let director = if record.directors.is_empty() || movie.directors.is_empty() {
        Agreement::Unknown
    } else if record.directors.iter().any(|d| movie.directors.contains(d)) {
        Agreement::Agree
    } else {
        Agreement::Disagree
    };
    let runtime = match record
        .runtimes
        .iter()
        .flat_map(|a| movie.runtimes.iter().map(move |b| a.abs_diff(*b)))
        .min()
    {
        None => Agreement::Unknown,
        Some(d) if d <= 3 => Agreement::Agree,
        Some(d) if d <= 10 => Agreement::Unknown,
        Some(_) => Agreement::Disagree,
    };
    Comparison {
        title,
        year,
        director,
        runtime,
        score: title.weight() + year.weight() + director_weight(director) + runtime_weight(runtime),
    }
}

/// How two title forms compare. A partial form (a fragment of a longer title) counts only when
/// it is the other's whole title, and then as `Contained`; two fragments prove nothing. Two
/// whole titles with different numbers are different films (Part 1 and Part 2).
fn title_level(a: &TitleForm, b: &TitleForm) -> TitleLevel {
    if a.partial && b.partial {
        return TitleLevel::Different;
    }
    if a.compact == b.compact {
        return if a.partial || b.partial {
            TitleLevel::Contained
        } else {
            TitleLevel::Exact
        };
    }
    if a.partial || b.partial {
        return TitleLevel::Different;
    }
    if same_words(a, b) {
        return TitleLevel::Exact;
    }
    let (na, nb) = (numbers(a), numbers(b));
    if !na.is_empty() && !nb.is_empty() && na != nb {
        return TitleLevel::Different;
    }
    let jw = strsim::jaro_winkler(&a.spaced(), &b.spaced());
    if jw >= 0.95 && na == nb {
        TitleLevel::Close
    } else if contained(a, b) || contained(b, a) {
        TitleLevel::Contained
    } else if jw >= 0.88 && na == nb {
        TitleLevel::Similar
    } else {
        TitleLevel::Different
    }
}

/// The numbers among a title's words, sorted.
fn numbers(t: &TitleForm) -> Vec<&str> {
    let mut n: Vec<&str> = t
        .words
        .iter()
        .map(String::as_str)
        .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    n.sort_unstable();
    n
}

fn same_words(a: &TitleForm, b: &TitleForm) -> bool {
    if a.words.len() != b.words.len() || a.words.len() < 2 {
        return false;
    }
    let mut x = a.words.clone();
    let mut y = b.words.clone();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// Whether `small` is the start of `big` (a dropped subtitle: "Funny Games" of "Funny Games
/// U.S."), or, two words or more, runs through `big` in order ("Madea Goes to Jail" in "Tyler
/// Perry's Madea Goes to Jail").
fn contained(small: &TitleForm, big: &TitleForm) -> bool {
    let (s, b) = (&small.words, &big.words);
    if s.len() >= b.len() {
        return false;
    }
    let prefix = b.starts_with(s) && (s.len() >= 2 || small.compact.len() >= 4);
    let mut rest = b.iter();
    let in_order = s.len() >= 2 && s.iter().all(|w| rest.any(|x| x == w));
    prefix || in_order
}
