//! `movierec recommend`: movies similar to one movie (found by id or by title), or a person's
//! recommendations (a user of the ratings table, or ratings given on the command line). Answers
//! through the same engine as the API's `/api/movies/{id}/similar`, `/api/users/{id}/
//! recommendations` and `POST /api/recommendations`.

use crate::domain::catalog::{check_search, CatalogQuery};
use crate::domain::movie::{title_key, CatalogMovie};
use crate::domain::MovieId;
use crate::domain::UserId;
use crate::recommend::{Engine, Filters, Personal, Rated, SimilarModel, Voice};
use crate::store::Location;
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

/// How many suggestions an unknown title gets.
const SUGGESTIONS: usize = 5;

#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("query").required(true).args(["id", "title", "user", "rated"])))]
pub struct Args {
    /// MovieID of the movie to start from.
    #[arg(long)]
    id: Option<MovieId>,

    /// Title of the movie to start from (case-insensitive, exact). An ambiguous title lists the
    /// candidates with their years and exits 2; pick one with --id.
    #[arg(long)]
    title: Option<String>,

    /// Recommendations for this user of the ratings table (`users.user_id`, as `/api/users`
    /// lists them), never a movie they rated.
    #[arg(long)]
    user: Option<UserId>,

    /// Recommendations for someone who rated these movies: `TITLE=STARS` pairs separated by
    /// commas, stars 0.5–5 in halves (`"Heat=5,The Insider=4.5"`); `id:MOVIEID=STARS` for a
    /// movie by id. Folded into the model, nothing stored.
    #[arg(long, value_name = "RATINGS")]
    rated: Option<String>,

    /// Number of recommendations, 1–100 (values outside are refused, not clamped).
    #[arg(short = 'n', value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    n: u16,

    /// `content` (attributes in weighted blocks), `content-seed` (rating + release year), or a
    /// trained model: `item-knn`, `svd`, `svd++`, `als`, `ease`. Default: `content` for similar
    /// movies; the best trained model (else `content`) for --user and --rated.
    #[arg(long, value_parser = parse_model)]
    model: Option<SimilarModel>,

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

pub fn run(args: &Args, db: &Location, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::connect_read_only(db)?;
    if args.user.is_some() || args.rated.is_some() {
        return personal(args, &store, data_dir);
    }
    let id = match (args.id, args.title.as_deref()) {
        (Some(id), _) => id,
        (None, Some(title)) => match resolve_title(&store, title, |m| format!("--id {}", m.id))? {
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
    let model = args.model.unwrap_or_default();
    let similar = engine.similar(id, usize::from(args.n), &Filters::default(), model)?;
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

/// `--user` or `--rated`.
fn personal(args: &Args, store: &Store, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let profile: Vec<Rated> = match (args.user, args.rated.as_deref()) {
        (Some(user), _) => store
            .user_profile(user)?
            .ok_or_else(|| anyhow::anyhow!("no user with id {user} in the ratings table (ratings load with `movierec etl --source movielens:DIR`)"))?
            .into_iter()
            .map(|(movie, rating)| Rated { movie, rating })
            .collect(),
        (None, Some(text)) => {
            let mut profile = Vec::new();
            for (title, stars) in parse_rated(text)? {
                let movie = match title.strip_prefix("id:") {
                    Some(id) => {
                        let id: MovieId = id
                            .parse()
                            .map_err(|_| anyhow::anyhow!("--rated: `id:{id}` is not a movie id"))?;
                        store
                            .movie(id)?
                            .ok_or_else(|| anyhow::anyhow!("--rated: no movie with id {id}"))?
                            .id
                    }
                    None => match resolve_title(store, &title, |m| format!("id:{}={stars}", m.id))? {
                        Resolved::One(m) => m.id,
                        Resolved::Ambiguous(candidates) => {
                            let list: Vec<String> = candidates
                                .iter()
                                .map(|m| format!("  {} ({}): id:{}={stars}", m.title, m.release_year, m.id))
                                .collect();
                            anyhow::bail!(
                                "--rated: title {title:?} matches {} movies; rate one by id:\n{}",
                                candidates.len(),
                                list.join("\n")
                            )
                        }
                    },
                };
                if profile.iter().any(|r: &Rated| r.movie == movie) {
                    anyhow::bail!("--rated: {title:?} is rated twice");
                }
                profile.push(Rated {
                    movie,
                    rating: stars,
                });
            }
            profile
        }
        (None, None) => anyhow::bail!("give --user or --rated"),
    };
    let engine = Engine::load(store, data_dir)?;
    let profile: Vec<Rated> = profile
        .into_iter()
        .filter(|r| engine.movie(r.movie).is_some())
        .collect();
    let personal = engine.recommend(
        &profile,
        usize::from(args.n),
        &Filters::default(),
        args.model,
        // A user of the ratings table is someone else; `--rated` are the caller's own ratings.
        if args.user.is_some() {
            Voice::They
        } else {
            Voice::You
        },
        &[],
    )?;
    if args.json {
        super::print_json(&personal)?;
    } else {
        print_personal(&personal);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_personal(personal: &Personal<'_>) {
    if let Some(notice) = &personal.notice {
        println!("{notice}");
    }
    match personal.model {
        Some(model) => println!(
            "Recommended by {} from {} ratings:",
            model.name(),
            personal.rated
        ),
        None => println!("Popular movies:"),
    }
    let scores: Vec<f64> = personal.recommendations.iter().map(|r| r.score).collect();
    let rows = personal.recommendations.iter().map(|r| r.movie);
    println!("{}", super::output::movies_table(rows, Some(&scores)));
    for (i, r) in personal.recommendations.iter().enumerate() {
        println!("{:>3}. {}: {}", i + 1, r.movie.title, r.reason);
    }
}

/// `TITLE=STARS` pairs separated by commas; a title may itself hold commas (a piece without
/// `=` belongs to the next pair's title). Public for the fuzz target.
pub fn parse_rated(text: &str) -> anyhow::Result<Vec<(String, f64)>> {
    let mut pairs = Vec::new();
    let mut pending = String::new();
    for piece in text.split(',') {
        if !pending.is_empty() {
            pending.push(',');
        }
        pending.push_str(piece);
        // Only a piece with `=` can end a pair: no rescan of a long pending title per comma.
        if !piece.contains('=') {
            continue;
        }
        let Some((title, stars)) = pending.rsplit_once('=') else {
            continue;
        };
        let title = title.trim();
        let stars: f64 = stars.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "--rated: {:?} for {title:?} is not a number of stars",
                stars.trim()
            )
        })?;
        if !(0.5..=5.0).contains(&stars) || (stars * 2.0).fract() != 0.0 {
            anyhow::bail!("--rated: {title:?} is rated {stars}; stars are 0.5–5 in halves");
        }
        if title.is_empty() {
            anyhow::bail!("--rated: a rating of {stars} has no title before its `=`");
        }
        pairs.push((title.to_owned(), stars));
        pending.clear();
    }
    if !pending.trim().is_empty() {
        anyhow::bail!("--rated: {:?} has no `=STARS`", pending.trim());
    }
    if pairs.is_empty() {
        anyhow::bail!("--rated: give TITLE=STARS pairs, e.g. \"Heat=5,The Insider=4.5\"");
    }
    Ok(pairs)
}

enum Resolved {
    One(CatalogMovie),
    Ambiguous(Vec<CatalogMovie>),
}

/// The movie titled `title`; an unknown title fails listing the closest titles, each with
/// `pick(movie)`: how to name it by id instead (`--id 12`, `id:12=5`).
fn resolve_title(
    store: &Store,
    title: &str,
    pick: impl Fn(&CatalogMovie) -> String,
) -> anyhow::Result<Resolved> {
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
                .map(|m| format!("  {} ({}) {}", m.title, m.release_year, pick(m)))
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
    check_search(title).map_err(|e| anyhow::anyhow!("--title: {e}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rated_pairs_keep_commas_in_titles_and_refuse_bad_stars() {
        let pairs =
            parse_rated("The Good, the Bad and the Ugly=5, Heat = 4.5,id:12=1").expect("parse");
        assert_eq!(
            pairs,
            vec![
                ("The Good, the Bad and the Ugly".to_owned(), 5.0),
                ("Heat".to_owned(), 4.5),
                ("id:12".to_owned(), 1.0)
            ]
        );
        for bad in [
            "Heat=6",
            "Heat=4.3",
            "Heat=five",
            "Heat",
            "=4",
            "",
            "Heat=5,Alien",
        ] {
            assert!(parse_rated(bad).is_err(), "{bad}");
        }
    }
}
