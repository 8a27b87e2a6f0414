//! `movierec review`: the identity decisions held for review (several close candidates, low
//! confidence, or a candidate already holding another id of the record's namespace), each with
//! both sides — the movie the record became and every candidate it could have been — so a person
//! can decide.

use crate::domain::audit::AmbiguousRecord;
use crate::domain::etl::EtlRunStatus;
use crate::domain::identity::ReviewReason;
use crate::domain::source::Provider;
use crate::domain::{EtlRunId, MovieId};
use crate::store::Location;
use crate::store::Store;
use anyhow::Context;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only this ETL run's decisions (default: every succeeded run's, newest first).
    #[arg(long)]
    run: Option<i64>,

    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// One held decision with both sides.
#[derive(Debug, Serialize)]
struct Case {
    run_id: EtlRunId,
    #[serde(flatten)]
    record: AmbiguousRecord,
    /// The movie the record was loaded as.
    loaded_as_movie: Option<Side>,
    /// The movies it could have been, best first.
    candidate_movies: Vec<Side>,
}

/// What the catalog holds of one side of a decision.
#[derive(Debug, Serialize)]
struct Side {
    id: MovieId,
    title: String,
    year: i32,
    directors: Vec<String>,
    runtime: Option<u32>,
    /// `namespace:id`, every provider's.
    ids: Vec<String>,
    /// The providers that describe it.
    providers: Vec<Provider>,
}

pub fn run(args: &Args, db: &Location) -> anyhow::Result<ExitCode> {
    let store = Store::connect_read_only(db)?;
    let runs: Vec<EtlRunId> = match args.run {
        Some(id) => {
            store
                .etl_run(EtlRunId(id))?
                .with_context(|| format!("--run {id}: no such ETL run"))?;
            vec![EtlRunId(id)]
        }
        None => store
            .etl_runs(1000, 0)?
            .into_iter()
            .filter(|r| r.status == EtlRunStatus::Succeeded)
            .map(|r| r.run_id)
            .collect(),
    };
    let mut cases = Vec::new();
    for run_id in runs {
        let Some((Some(report), _)) = store.etl_audit(run_id)? else {
            continue;
        };
        for record in report.identity.ambiguous {
            let side = |id: MovieId| -> anyhow::Result<Option<Side>> {
                // A movie merged since is the movie it was merged into.
                let id = store.redirect(id)?.unwrap_or(id);
                Ok(store.movie_detail(id)?.map(|d| Side {
                    id,
                    title: d.movie.title,
                    year: d.movie.release_year,
                    directors: d.directors,
                    runtime: d.runtime,
                    ids: d.ids,
                    providers: d.sources.iter().map(|s| s.provider).collect(),
                }))
            };
            let mut candidate_movies = Vec::new();
            for id in &record.candidates {
                candidate_movies.extend(side(*id)?);
            }
            cases.push(Case {
                run_id,
                loaded_as_movie: side(record.loaded_as)?,
                candidate_movies,
                record,
            });
        }
    }
    if args.json {
        super::print_json(&cases)?;
        return Ok(ExitCode::SUCCESS);
    }
    if cases.is_empty() {
        println!("No identity decision is held for review.");
        return Ok(ExitCode::SUCCESS);
    }
    for c in &cases {
        let r = &c.record;
        let score = r
            .score
            .map_or_else(String::new, |s| format!(", best score {s:.1}"));
        println!(
            "run {}, {} row {}: {} ({}) — {}{score}",
            c.run_id.0,
            r.provider.as_str(),
            r.source_row,
            r.title,
            r.year,
            ReviewReason::describe(&r.reason)
        );
        let mut t = super::output::table(&[
            "side",
            "movie",
            "title",
            "year",
            "director",
            "runtime",
            "providers",
            "ids",
        ]);
        let sides = c
            .loaded_as_movie
            .iter()
            .map(|s| ("loaded as", s))
            .chain(c.candidate_movies.iter().map(|s| ("candidate", s)));
        for (label, s) in sides {
            t.add_row([
                label.to_owned(),
                s.id.to_string(),
                super::output::cell(&s.title),
                s.year.to_string(),
                s.directors.join(", "),
                s.runtime.map_or_else(String::new, |m| format!("{m} min")),
                s.providers
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                s.ids.join(" "),
            ]);
        }
        println!("{t}\n");
    }
    println!(
        "{} decision(s) held for review; each record was kept as a movie of its own.",
        cases.len()
    );
    Ok(ExitCode::SUCCESS)
}
