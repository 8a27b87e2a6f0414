#![allow(dead_code)] // Shared by several test crates; each uses a part.
//! A small MovieLens dataset (latest layout) with two kinds of users, comedy fans and drama
//! fans: what the model tests train and evaluate on.

use std::fmt::Write as _;
use std::path::Path;

/// 40 movies (even ids comedies, odd dramas), 80 users who rate most movies: fans of a genre
/// give it 4–5 and the other 1–2.
pub fn dataset(dir: &Path) {
    write(dir, |u, m| (u * 7 + m * 3) % 10 >= 3);
}

/// The same movies and users, but a fan rates 70% of their genre and 25% of the other, picked
/// by a hash (no pattern a model could learn instead of taste): taste shows in who rated what
/// too, so the implicit models (item-kNN, ALS, EASE^R) learn it.
pub fn implicit_dataset(dir: &Path) {
    write(dir, |u, m| {
        let h = ((u64::from(u) * 2_654_435_761) ^ (u64::from(m) * 40_503 * 97)) % 1000;
        if (u % 2 == 0) == (m % 2 == 0) {
            h >= 300
        } else {
            h < 250
        }
    });
}

/// Writes movies.csv and ratings.csv, keeping the (user, movie) ratings `rates` admits.
fn write(dir: &Path, rates: impl Fn(u32, u32) -> bool) {
    let mut movies = String::from("movieId,title,genres\n");
    for m in 1..=40 {
        let genre = if m % 2 == 0 { "Comedy" } else { "Drama" };
        writeln!(movies, "{m},Movie {m} ({}),{genre}", 1980 + m).expect("write");
    }
    let mut ratings = String::from("userId,movieId,rating,timestamp\n");
    for u in 1..=80 {
        for m in 1..=40 {
            if !rates(u, m) {
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
