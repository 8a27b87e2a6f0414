//! `movierec eval`: offline evaluation of the recommendation models on MovieLens files — the
//! rating protocol (ml-100k folds u1–u5: RMSE, MAE) or the top-N protocol (a seeded per-user
//! holdout: precision, recall, NDCG, MAP, coverage) — as a table or `--json`.

use crate::eval::identity::{IdentityInput, IdentityReport};
use crate::eval::seeds::SeedsReport;
use crate::eval::topn::{Holdout, TopNReport};
use crate::eval::{self, Input, RatingAlgorithm, RatingReport, TopNAlgorithm};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// Rating prediction on fixed folds (ml-100k u1–u5): RMSE and MAE.
    Rating,
    /// Top-N ranking on a per-user holdout of liked movies (ml-latest-small).
    Topn,
    /// Entity resolution: MovieLens resolved against a TMDB export by content alone, scored
    /// against `links.csv` (needs --tmdb).
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HoldoutArg {
    Ratings,
    Users,
}

impl From<HoldoutArg> for Holdout {
    fn from(h: HoldoutArg) -> Self {
        match h {
            HoldoutArg::Ratings => Holdout::Ratings,
            HoldoutArg::Users => Holdout::Users,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(long, value_enum)]
    protocol: Protocol,

    /// The MovieLens directory (`../shared/data/ml-100k`, `ml-latest-small`): its movies, and its
    /// ratings unless --train/--test are given.
    #[arg(long)]
    dataset: PathBuf,

    /// Training ratings (`userId,movieId,rating,timestamp` with a header), replacing the
    /// protocol's own split; needs --test.
    #[arg(long, requires = "test")]
    train: Option<PathBuf>,

    /// Test ratings, same layout; needs --train.
    #[arg(long, requires = "train")]
    test: Option<PathBuf>,

    /// Comma-separated models [default: all of the protocol's].
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,

    /// Seed of every random choice (splits, initial factors).
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Top-N: run the protocol on this many seeds (--seed, --seed + 1, …), each its own split,
    /// validation and fits, and report each metric's mean ± standard error.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    seeds: u64,

    /// Top-N: what is held out — `ratings`, a fifth of each user's liked movies (weak
    /// generalisation), or `users`, a fifth of the users whole, never fitted on and scored
    /// from the rest of their ratings (strong generalisation).
    #[arg(long, value_enum, default_value_t = HoldoutArg::Ratings)]
    holdout: HoldoutArg,

    /// Top-N with --seeds: the two models to compare, paired seed by seed (`A,B`)
    /// [default: the best two by mean NDCG@10].
    #[arg(long, value_delimiter = ',', num_args = 1)]
    compare: Vec<String>,

    /// The TMDB export the identity protocol resolves MovieLens against
    /// (`../shared/data/tmdb-5000/tmdb_5000_movies.csv`).
    #[arg(long, required_if_eq("protocol", "identity"))]
    tmdb: Option<PathBuf>,

    /// How many seeded train/test halves the identity protocol averages over.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    halves: u64,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let input = Input {
        dataset: args.dataset.clone(),
        files: args.train.clone().zip(args.test.clone()),
        seed: args.seed,
    };
    match args.protocol {
        Protocol::Rating => {
            let algorithms = chosen(&args.models, RatingAlgorithm::ALL, RatingAlgorithm::parse)?;
            let report = eval::rating(&input, &algorithms)?;
            if args.json {
                super::print_json(&report)?;
            } else {
                print_rating(&report);
            }
        }
        Protocol::Topn => {
            let algorithms = chosen(&args.models, TopNAlgorithm::ALL, TopNAlgorithm::parse)?;
            let compare = match args.compare.as_slice() {
                [] => None,
                [a, b] => Some((
                    TopNAlgorithm::parse(a.trim())?,
                    TopNAlgorithm::parse(b.trim())?,
                )),
                _ => anyhow::bail!("--compare takes two models, `A,B`"),
            };
            let holdout = args.holdout.into();
            if args.seeds == 1 && compare.is_none() {
                let report = eval::topn::run(&input, &algorithms, holdout)?;
                if args.json {
                    super::print_json(&report)?;
                } else {
                    print_topn(&report);
                }
            } else {
                let report = eval::seeds::run(&input, &algorithms, holdout, args.seeds, compare)?;
                if args.json {
                    super::print_json(&report)?;
                } else {
                    print_seeds(&report);
                }
            }
        }
        Protocol::Identity => {
            let input = IdentityInput {
                dataset: args.dataset.clone(),
                tmdb: args.tmdb.clone().unwrap_or_default(),
                seeds: (args.seed..args.seed + args.halves).collect(),
            };
            let report = eval::identity::run(&input)?;
            if args.json {
                super::print_json(&report)?;
            } else {
                print_identity(&report);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn chosen<A: Copy>(
    names: &[String],
    all: &[A],
    parse: fn(&str) -> Result<A, eval::EvalError>,
) -> Result<Vec<A>, eval::EvalError> {
    if names.is_empty() {
        return Ok(all.to_vec());
    }
    let models: Vec<A> = names
        .iter()
        .map(|n| parse(n.trim()))
        .collect::<Result<_, _>>()?;
    for (k, name) in names.iter().enumerate() {
        if names[..k]
            .iter()
            .any(|earlier| earlier.trim() == name.trim())
        {
            return Err(eval::EvalError::Usage(format!(
                "model `{}` is named twice in --models",
                name.trim()
            )));
        }
    }
    Ok(models)
}

fn print_rating(report: &RatingReport) {
    let mut t = super::output::table(&[
        "model",
        "RMSE",
        "MAE",
        "fit s",
        "predict s",
        "tune s",
        "params (fold 1)",
    ]);
    for r in &report.rows {
        t.add_row(vec![
            r.algorithm.name().to_owned(),
            format!("{:.4}", r.rmse),
            format!("{:.4}", r.mae),
            format!("{:.2}", r.fit_seconds),
            format!("{:.2}", r.predict_seconds),
            format!("{:.2}", r.tune_seconds),
            r.folds
                .first()
                .map(|f| f.params.clone())
                .unwrap_or_default(),
        ]);
    }
    println!(
        "rating protocol on {} — {} fold(s), mean over folds; seconds summed over folds",
        report.dataset.display(),
        report.folds
    );
    println!("{t}");
    let unknown: usize = report
        .splits
        .iter()
        .map(|s| s.unknown_users + s.unknown_movies)
        .sum();
    if unknown > 0 || report.rejected_rows > 0 {
        println!(
            "test rows with a user or movie absent from training: {unknown}; unreadable rows skipped: {}",
            report.rejected_rows
        );
    }
    for e in &report.rejected_examples {
        println!("  {e}");
    }
    println!("total {:.1} s", report.seconds);
}

fn print_topn(report: &TopNReport) {
    let mut t = super::output::table(&[
        "model", "P@10", "R@20", "NDCG@10", "MAP@10", "cov@10", "fit s", "rank s", "tune s",
        "params",
    ]);
    for r in &report.rows {
        t.add_row(vec![
            r.algorithm.name().to_owned(),
            format!("{:.4}", r.scores.precision_at_10),
            format!("{:.4}", r.scores.recall_at_20),
            format!("{:.4}", r.scores.ndcg_at_10),
            format!("{:.4}", r.scores.map_at_10),
            format!("{:.4}", r.scores.coverage_at_10),
            format!("{:.2}", r.fit_seconds),
            format!("{:.2}", r.rank_seconds),
            format!("{:.2}", r.tune_seconds),
            r.params.clone(),
        ]);
    }
    println!(
        "top-N protocol on {} holding out {} — {} test users, {} held-out positives ({} of movies absent from training), catalog {} movies, seed {}",
        report.dataset.display(),
        match report.holdout {
            Holdout::Ratings => "ratings",
            Holdout::Users => "users",
        },
        report.test_users,
        report.test_items,
        report.test_items_unseen_in_training,
        report.catalog,
        report.seed
    );
    println!("{t}");
    if report.test_users_unknown > 0 || report.rejected_rows > 0 {
        println!(
            "test users absent from training (not evaluated): {}; unreadable rows skipped: {}",
            report.test_users_unknown, report.rejected_rows
        );
    }
    println!("total {:.1} s", report.seconds);
}

fn print_seeds(report: &SeedsReport) {
    let mut t = super::output::table(&[
        "model", "P@10", "R@20", "NDCG@10", "MAP@10", "cov@10", "fit s",
    ]);
    for r in &report.rows {
        t.add_row(vec![
            r.algorithm.name().to_owned(),
            r.precision_at_10.to_string(),
            r.recall_at_20.to_string(),
            r.ndcg_at_10.to_string(),
            r.map_at_10.to_string(),
            r.coverage_at_10.to_string(),
            format!("{:.2}", r.fit_seconds.mean),
        ]);
    }
    let first = report.runs.first();
    println!(
        "top-N protocol, holding out {} — {} seed(s) {:?}; mean ± standard error over seeds; test users per seed {}",
        match report.holdout {
            Holdout::Ratings => "a fifth of each user's liked movies",
            Holdout::Users => "a fifth of the users whole",
        },
        report.seeds.len(),
        report.seeds,
        first.map_or(0, |r| r.test_users)
    );
    println!("{t}");
    if let Some(c) = &report.comparison {
        println!(
            "paired, seed by seed: NDCG@10 of {} − {} = {} ({} wins {} of {}): {}",
            c.a.name(),
            c.b.name(),
            c.ndcg_at_10_difference,
            c.a.name(),
            c.a_wins,
            report.seeds.len(),
            match c.verdict {
                crate::eval::seeds::Verdict::ABeatsB =>
                    format!("{} beats {}", c.a.name(), c.b.name()),
                crate::eval::seeds::Verdict::BBeatsA =>
                    format!("{} beats {}", c.b.name(), c.a.name()),
                crate::eval::seeds::Verdict::WithinError =>
                    "within twice the standard error".to_owned(),
            }
        );
    }
}

fn print_identity(report: &IdentityReport) {
    let mut t = super::output::table(&[
        "resolver",
        "P (all)",
        "R (all)",
        "F1 (all)",
        "P test ± se",
        "R test ± se",
        "F1 test ± se",
        "threshold per half",
    ]);
    for r in &report.rows {
        let est = |e: &crate::eval::identity::Estimate| format!("{:.4} ± {:.4}", e.mean, e.se);
        t.add_row(vec![
            r.resolver.clone(),
            format!("{:.4}", r.all.precision),
            format!("{:.4}", r.all.recall),
            format!("{:.4}", r.all.f1),
            est(&r.test_precision),
            est(&r.test_recall),
            est(&r.test_f1),
            r.chosen
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    println!(
        "identity protocol — {} MovieLens movies resolved against {} TMDB films, {} gold pairs (links.csv withheld), {} halves",
        report.movielens_movies,
        report.tmdb_movies,
        report.gold_pairs,
        report.seeds.len()
    );
    println!("{t}");
    println!(
        "listed for review instead of decided: {}; false matches: {}; gold pairs missed: {}",
        report.review,
        report.false_matches.len(),
        report.missed.len()
    );
    for (what, list) in [
        ("false match", &report.false_matches),
        ("missed", &report.missed),
    ] {
        for m in list.iter().take(40) {
            println!(
                "  {what}: {} → {} (gold: {})",
                m.movielens,
                m.predicted.as_deref().unwrap_or("-"),
                m.gold.as_deref().unwrap_or("-")
            );
        }
    }
    let mut w = super::output::table(&["comparison", "level", "m", "u", "log2(m/u)"]);
    for l in &report.weights {
        w.add_row(vec![
            l.comparison.clone(),
            l.level.clone(),
            format!("{:.4}", l.m),
            format!("{:.4}", l.u),
            format!("{:.1}", l.log2_m_over_u),
        ]);
    }
    println!("comparison levels on blocked pairs of the gold's MovieLens movies:\n{w}");
}
