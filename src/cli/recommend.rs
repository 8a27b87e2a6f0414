//! `movierec recommend`: movies similar to one movie, found by id or by title. Answers through
//! the same engine as the API's `/api/movies/{id}/similar`.

use crate::domain::catalog::CatalogQuery;
use crate::domain::movie::{title_key, CatalogMovie};
use crate::domain::MovieId;
use crate::recommend::{Engine, Filters, SimilarModel};
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

/// How many suggestions an unknown title gets.
const SUGGESTIONS: usize = 5;

#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("movie").required(true).args(["id", "title"])))]
pub struct Args {
    /// MovieID of the movie to start from.
    #[arg(long)]
    id: Option<MovieId>,

    /// Title of the movie to start from (case-insensitive, exact). An ambiguous title lists the
    /// candidates with their years and exits 2; pick one with --id.
    #[arg(long)]
    title: Option<String>,

    /// Number of recommendations, 1–100 (values outside are refused, not clamped).
    #[arg(short = 'n', value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    n: u16,

    /// `content` (attributes in weighted blocks), `content-seed` (rating + release year), or a
    /// trained model: `item-knn`, `svd`, `svd++`, `als`, `ease`.
    #[arg(long, default_value = "content", value_parser = parse_model)]
    model: SimilarModel,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_model(name: &str) -> Result<SimilarModel, String> {
    SimilarModel::ALL
        .into_iter()
        .find(|m| m.name() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = SimilarModel::ALL.iter().map(|m| m.name()).collect();
            format!("unknown model `{name}`; known: {}", known.join(", "))
        })
}

pub fn run(args: &Args, db: &Path, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_read_only(db)?;
    let id = match (args.id, args.title.as_deref()) {
        (Some(id), _) => id,
        (None, Some(title)) => match resolve_title(&store, title)? {
            Resolved::One(movie) => movie.id,
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
    let engine = Engine::load(&store, data_dir)?;
    let similar = engine.similar(id, usize::from(args.n), &Filters::default(), args.model)?;
    if args.json {
        super::print_json(&similar)?;
    } else {
        let m = similar.movie;
        let rated = m
            .rating
            .map_or_else(|| "unrated".to_owned(), |r| format!("rated {r:.1}"));
        println!("Movies like {} ({}, {rated}):", m.title, m.release_year);
        let scores: Vec<f64> = similar.recommendations.iter().map(|r| r.score).collect();
        let rows = similar.recommendations.iter().map(|r| r.movie);
        println!("{}", super::output::movies_table(rows, Some(&scores)));
        for (i, r) in similar.recommendations.iter().enumerate() {
            if !r.reason.is_empty() {
                println!("{:>3}. {}: {}", i + 1, r.movie.title, r.reason);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

enum Resolved {
    One(CatalogMovie),
    Ambiguous(Vec<CatalogMovie>),
}

fn resolve_title(store: &Store, title: &str) -> anyhow::Result<Resolved> {
    let key = title_key(title);
    let mut found = store.movies_titled(&key)?;
    match found.len() {
        1 => Ok(Resolved::One(found.remove(0))),
        0 => {
            let suggestions = closest_titles(store, title)?;
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
fn closest_titles(store: &Store, title: &str) -> anyhow::Result<Vec<CatalogMovie>> {
    let key = title_key(title);
    if key.is_empty() {
        return Ok(Vec::new());
    }
    let (containing, _) = store.movies_page(&CatalogQuery::search(title, SUGGESTIONS as u32))?;
    if !containing.is_empty() {
        return Ok(containing);
    }
    let mut scored: Vec<(f64, MovieId)> = store
        .title_keys()?
        .into_iter()
        .map(|(id, t)| (strsim::jaro_winkler(&key, &t), id))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .filter_map(|(_, id)| store.movie(id).transpose())
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}
