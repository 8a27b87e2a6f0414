//! Dedupe stage: rows sharing a natural key (normalised title + release year) merge into one.

use super::record::Field;
use super::transform::{Reason, Reject};
use crate::movie::Movie;
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

/// Keeps one movie per natural key and turns every other row into a `duplicate` reject.
///
/// The survivor is chosen deterministically, whatever the input order: most votes (none counts as
/// zero), then highest rating, then the earliest source row. Survivors keep their source order.
pub fn dedupe(movies: Vec<Movie>) -> (Vec<Movie>, Vec<Reject>) {
    let mut best: HashMap<(String, i32), usize> = HashMap::with_capacity(movies.len());
    let rank = |m: &Movie| (m.votes.unwrap_or(0), m.rating, Reverse(m.source_row));
    for (i, movie) in movies.iter().enumerate() {
        best.entry(movie.natural_key())
            .and_modify(|kept| {
                if rank(movie) > rank(&movies[*kept]) {
                    *kept = i;
                }
            })
            .or_insert(i);
    }
    let mut rejects = Vec::new();
    for movie in &movies {
        let winner = &movies[best[&movie.natural_key()]];
        if winner.source_row != movie.source_row {
            rejects.push(Reject {
                row: movie.source_row,
                field: Field::Title,
                reason: Reason::Duplicate,
                raw_value: Some(movie.title.as_str().to_owned()),
                detail: Some(format!(
                    "same title and year as row {} (kept: {} votes, rating {})",
                    winner.source_row,
                    winner.votes.unwrap_or(0),
                    winner.rating.value()
                )),
            });
        }
    }
    let winners: HashSet<u64> = best.values().map(|&i| movies[i].source_row).collect();
    let kept = movies
        .into_iter()
        .filter(|m| winners.contains(&m.source_row))
        .collect();
    (kept, rejects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::movie::{Rating, ReleaseDate, Title};
    use chrono::NaiveDate;

    fn movie(row: u64, title: &str, year: i32, rating: f64, votes: Option<u64>) -> Movie {
        Movie {
            title: Title::parse(title).expect("title"),
            release_date: ReleaseDate::new(
                NaiveDate::from_ymd_opt(year, 1, 1).expect("date"),
                2030,
            )
            .expect("year"),
            rating: Rating::new(rating).expect("rating"),
            votes,
            genre: None,
            director: None,
            source_row: row,
        }
    }

    #[test]
    fn keeps_the_row_with_most_votes() {
        let (kept, rejects) = dedupe(vec![
            movie(1, "Heat", 1995, 8.2, Some(10)),
            movie(2, "HEAT ", 1995, 8.0, Some(500)),
            movie(3, "Heat", 1986, 5.0, Some(1)),
        ]);
        let rows: Vec<_> = kept.iter().map(|m| m.source_row).collect();
        assert_eq!(rows, vec![2, 3]);
        assert_eq!(rejects.len(), 1);
        assert_eq!((rejects[0].row, rejects[0].reason), (1, Reason::Duplicate));
        assert!(rejects[0]
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("row 2"));
    }

    #[test]
    fn survivor_does_not_depend_on_input_order() {
        let a = movie(1, "Crash", 2004, 7.0, None);
        let b = movie(2, "crash", 2004, 7.0, None);
        let (kept_ab, _) = dedupe(vec![a.clone(), b.clone()]);
        let (kept_ba, _) = dedupe(vec![b, a]);
        assert_eq!(kept_ab[0].source_row, 1);
        assert_eq!(kept_ba[0].source_row, 1);
    }
}
