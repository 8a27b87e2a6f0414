//! A small MovieLens dataset (latest layout) with two kinds of users, comedy fans and drama
//! fans: what the model tests train and evaluate on.

use std::fmt::Write as _;
use std::path::Path;

/// 40 movies (even ids comedies, odd dramas), 80 users who rate most movies: fans of a genre
/// give it 4–5 and the other 1–2.
pub fn dataset(dir: &Path) {
    let mut movies = String::from("movieId,title,genres\n");
    for m in 1..=40 {
        let genre = if m % 2 == 0 { "Comedy" } else { "Drama" };
        writeln!(movies, "{m},Movie {m} ({}),{genre}", 1980 + m).expect("write");
    }
    let mut ratings = String::from("userId,movieId,rating,timestamp\n");
    for u in 1..=80 {
        for m in 1..=40 {
            if (u * 7 + m * 3) % 10 < 3 {
                continue;
            }
            let fan = (u % 2 == 0) == (m % 2 == 0);
            let r = if fan {
                4.0 + f64::from((u + m) % 3) / 2.0
            } else {
                1.0 + f64::from((u + m) % 3) / 2.0
            };
            writeln!(ratings, "{u},{m},{r},{}", 1_000_000 + u * 100 + m).expect("write");
        }
    }
    std::fs::write(dir.join("movies.csv"), movies).expect("movies");
    std::fs::write(dir.join("ratings.csv"), ratings).expect("ratings");
}
