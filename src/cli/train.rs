//! `movierec train` (fit a collaborative model on the database's ratings, measure it on a
//! holdout, store it, forget the oldest) and `movierec models` (list what was trained; `prune`).

use crate::domain::trained::{ModelKind, TrainedModel};
use crate::recommend::trained::{self, TrainParams};
use crate::store::Location;
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

fn parse_kind(name: &str) -> Result<ModelKind, String> {
    ModelKind::parse(name)
        .ok_or_else(|| format!("unknown model `{name}`; known: {}", ModelKind::known()))
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// item-knn, svd, svd++, als, ease or sparse-ease.
    #[arg(long, value_parser = parse_kind)]
    model: ModelKind,

    /// Latent factors (svd, svd++, als).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    factors: Option<u16>,

    /// SGD epochs (svd, svd++) or ALS iterations.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1000))]
    epochs: Option<u16>,

    /// Regularisation (svd, svd++, als).
    #[arg(long)]
    reg: Option<f64>,

    /// SGD learning rate (svd, svd++).
    #[arg(long)]
    learning_rate: Option<f64>,

    /// EASE^R's and sparse EASE^R's λ (> 0).
    #[arg(long)]
    lambda: Option<f64>,

    /// Neighbours: item-kNN's per score, sparse EASE^R's per movie (each movie's weights come
    /// from its k most co-occurring movies).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=2000))]
    k: Option<u16>,

    /// Seed of the holdout split and the initial factors.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Keep this many newest models of each kind; older ones and their artifacts are removed
    /// after the new one is recorded.
    #[arg(long, env = "MOVIEREC_MODELS_KEEP", default_value_t = 3,
          value_parser = clap::value_parser!(u16).range(1..))]
    keep: u16,

    /// The memory a fit may use, in bytes: a fit known to need more is refused before it
    /// starts [default: what the system reports available].
    #[arg(long, env = "MOVIEREC_MEMORY_LIMIT", value_parser = clap::value_parser!(u64).range(1..))]
    memory_limit: Option<u64>,

    /// Print the model's record as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(
    args: &Args,
    db: &Location,
    data_dir: &Path,
    lock_wait: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    for (name, value) in [
        ("--reg", args.reg),
        ("--learning-rate", args.learning_rate),
        ("--lambda", args.lambda),
    ] {
        if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            anyhow::bail!("{name} must be a positive number");
        }
    }
    let mut store = Store::connect(db)?;
    store.wait_for_writers(super::lock_wait(
        lock_wait,
        &format!("movierec train --model {}", args.model),
    ))?;
    let params = TrainParams {
        factors: args.factors.map(usize::from),
        epochs: args.epochs.map(usize::from),
        reg: args.reg,
        learning_rate: args.learning_rate,
        lambda: args.lambda,
        k: args.k.map(usize::from),
        seed: args.seed,
        memory_limit: args.memory_limit,
    };
    let model = trained::train(&mut store, data_dir, args.model, &params)?;
    prune(&mut store, data_dir, args.keep)?;
    if args.json {
        super::print_json(&model)?;
    } else {
        println!("{}", models_table(std::slice::from_ref(&model)));
        println!("artifact: {}", data_dir.join(&model.artifact).display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,

    #[command(subcommand)]
    command: Option<ModelsCommand>,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum ModelsCommand {
    /// Remove all but the newest models of each kind, records and artifacts.
    Prune {
        /// How many of each kind to keep (at least 1).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        keep: u16,
    },
}

/// Forgets all but the `keep` newest models of each kind, then removes their artifacts.
fn prune(store: &mut Store, data_dir: &Path, keep: u16) -> anyhow::Result<Vec<TrainedModel>> {
    let pruned = store.prune_models(usize::from(keep))?;
    for m in &pruned {
        let path = data_dir.join(&m.artifact);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("model {}: cannot remove {}: {e}", m.id, path.display()),
        }
    }
    Ok(pruned)
}

pub fn list(
    args: &ListArgs,
    db: &Location,
    data_dir: &Path,
    lock_wait: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    if let Some(ModelsCommand::Prune { keep }) = &args.command {
        let mut store = Store::connect(db)?;
        store.wait_for_writers(super::lock_wait(lock_wait, "movierec models prune"))?;
        let pruned = prune(&mut store, data_dir, *keep)?;
        if args.json {
            super::print_json(&pruned)?;
        } else {
            println!("{} model(s) removed", pruned.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let models = Store::connect_read_only(db)?.models()?;
    if args.json {
        super::print_json(&models)?;
    } else if models.is_empty() {
        println!("no trained models: run `movierec train --model NAME`");
    } else {
        println!("{}", models_table(&models));
    }
    Ok(ExitCode::SUCCESS)
}

fn models_table(models: &[TrainedModel]) -> comfy_table::Table {
    let mut t = super::output::table(&[
        "id",
        "model",
        "trained at",
        "ratings",
        "users",
        "movies",
        "fit s",
        "held-out metrics",
        "params",
    ]);
    for m in models {
        let metrics = m
            .metrics
            .iter()
            .map(|(k, v)| format!("{k}={v:.4}"))
            .collect::<Vec<_>>()
            .join(" ");
        t.add_row(vec![
            m.id.to_string(),
            m.kind.to_string(),
            m.trained_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            m.ratings.to_string(),
            m.users.to_string(),
            m.movies.to_string(),
            format!("{:.2}", m.fit_seconds),
            metrics,
            m.params.to_string(),
        ]);
    }
    t
}
