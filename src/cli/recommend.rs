//! `movierec recommend`: movies similar to one movie, found by id or by title.

use crate::db::movies::{self, MovieRow};
use crate::model::ContentModel;
use crate::movie::title_key;
use anyhow::Context;
use rusqlite::Connection;
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

/// How many suggestions an unknown title gets.
const SUGGESTIONS: usize = 5;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("movie").required(true).args(["id", "title"])))]
pub struct Args {
    /// MovieID of the movie to start from.
    #[arg(long)]
    id: Option<i64>,

    /// Title of the movie to start from (case-insensitive, exact). An ambiguous title lists the
    /// candidates with their years and exits 2; pick one with --id.
    #[arg(long)]
    title: Option<String>,

    /// Number of recommendations, 1–100 (values outside are refused, not clamped).
    #[arg(short = 'n', value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    n: u16,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// A recommendation as printed with `--json`.
#[derive(Debug, Serialize)]
pub struct Recommendation {
    #[serde(flatten)]
    pub movie: MovieRow,
    pub score: f64,
}

#[derive(Debug, Serialize)]
struct Output {
    movie: MovieRow,
    recommendations: Vec<Recommendation>,
}

pub fn run(args: &Args, db: &Path) -> anyhow::Result<ExitCode> {
    let conn = super::open_ro(db)?;
    let movie = match (args.id, args.title.as_deref()) {
        (Some(id), _) => {
            movies::by_id(&conn, id)?.with_context(|| format!("no movie with id {id}"))?
        }
        (None, Some(title)) => match resolve_title(&conn, title)? {
            Resolved::One(movie) => movie,
            Resolved::Ambiguous(candidates) => {
                eprintln!(
                    "title {title:?} matches {} movies; pick one with --id:",
                    candidates.len()
                );
                eprintln!("{}", super::output::movies_table(&candidates, None));
                return Ok(ExitCode::from(2));
            }
        },
        (None, None) => anyhow::bail!("give --id or --title"),
    };
    let recommendations = similar(&conn, &movie, usize::from(args.n))?;
    if args.json {
        super::print_json(&Output {
            movie,
            recommendations,
        })?;
    } else {
        print_table(&movie, &recommendations);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the query movie and its recommendations as a table.
pub fn print_table(movie: &MovieRow, recommendations: &[Recommendation]) {
    println!(
        "Movies like {} ({}, rated {:.1}):",
        movie.title, movie.release_year, movie.rating
    );
    let rows: Vec<MovieRow> = recommendations.iter().map(|r| r.movie.clone()).collect();
    let scores: Vec<f64> = recommendations.iter().map(|r| r.score).collect();
    println!("{}", super::output::movies_table(&rows, Some(&scores)));
}

/// Fits the content model on the catalog and returns the `n` movies most like `movie`.
pub fn similar(
    conn: &Connection,
    movie: &MovieRow,
    n: usize,
) -> anyhow::Result<Vec<Recommendation>> {
    let model = ContentModel::fit(movies::features(conn)?)?;
    model
        .recommend(movie.id, n)?
        .into_iter()
        .map(|nb| {
            let row =
                movies::by_id(conn, nb.id)?.with_context(|| format!("movie {} vanished", nb.id))?;
            Ok(Recommendation {
                movie: row,
                score: nb.score,
            })
        })
        .collect()
}

enum Resolved {
    One(MovieRow),
    Ambiguous(Vec<MovieRow>),
}

fn resolve_title(conn: &Connection, title: &str) -> anyhow::Result<Resolved> {
    let key = title_key(title);
    let mut found = movies::by_title_key(conn, &key)?;
    match found.len() {
        1 => Ok(Resolved::One(found.remove(0))),
        0 => {
            let suggestions = closest_titles(conn, &key)?;
            if suggestions.is_empty() {
                anyhow::bail!("no movie titled {title:?}");
            }
            let list: Vec<String> = suggestions
                .iter()
                .map(|m| format!("  {} ({}) --id {}", m.title, m.release_year, m.id))
                .collect();
            anyhow::bail!(
                "no movie titled {title:?}; closest matches:\n{}",
                list.join("\n")
            )
        }
        _ => Ok(Resolved::Ambiguous(found)),
    }
}

/// Titles containing the query, else the most similar titles by Jaro–Winkler similarity.
fn closest_titles(conn: &Connection, key: &str) -> anyhow::Result<Vec<MovieRow>> {
    if key.is_empty() {
        return Ok(Vec::new());
    }
    let containing = movies::search(conn, key, SUGGESTIONS as u32)?;
    if !containing.is_empty() {
        return Ok(containing);
    }
    let mut scored: Vec<(f64, i64)> = movies::title_keys(conn)?
        .into_iter()
        .map(|(id, t)| (strsim::jaro_winkler(key, &t), id))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .filter_map(|(_, id)| movies::by_id(conn, id).transpose())
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}
