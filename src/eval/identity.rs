//! The identity protocol: entity resolution measured against a gold standard. ml-latest-small's
//! `links.csv` ties MovieLens movies to TMDB ids; it is withheld, MovieLens is resolved against
//! the TMDB export by content alone (title, original title, year, director, runtime), and the
//! predicted pairs are scored against the links: precision, recall and F1.
//!
//! Beside movierec's resolver ([`crate::domain::identity`]) stands the obvious baseline: the same
//! normalised title (`match_key`) and a year at most one apart, when exactly one film fits.
//! Thresholds are chosen on a seeded half of the MovieLens movies and reported on the other
//! half, over several seeds (mean ± standard error).

use super::data::{etl, open};
use super::EvalError;
use crate::domain::identity::score::{self, Agreement, TitleLevel, YearLevel};
use crate::domain::identity::{Catalog, Decision, Profile, Resolved, Thresholds};
use crate::domain::movie::{match_key, Movie};
use crate::domain::record::RawRecord;
use crate::domain::source::Namespace;
use crate::domain::MovieId;
use crate::etl::extract::{self, Format};
use crate::etl::movielens::{self, Layout, Links};
use crate::etl::transform::{self, Rules};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What the protocol reads.
#[derive(Debug, Clone)]
pub struct IdentityInput {
    /// A MovieLens directory with `movies.csv` and `links.csv` (ml-latest-small).
    pub dataset: PathBuf,
    /// The TMDB export (`tmdb_5000_movies.csv`).
    pub tmdb: PathBuf,
    /// Seeds of the train/test halves.
    pub seeds: Vec<u64>,
}

/// Precision, recall and F1 of one resolver on one set of movies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub predicted: u64,
    pub correct: u64,
    pub gold: u64,
}

/// A mean and its standard error over seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
}

/// One resolver's row: on all gold pairs, and on the held-out halves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolverRow {
    pub resolver: String,
    /// On every gold pair, with the load's thresholds (the baseline has none).
    pub all: Scores,
    /// On the test halves, thresholds chosen on the training halves.
    pub test_precision: Estimate,
    pub test_recall: Estimate,
    pub test_f1: Estimate,
    /// The matching threshold chosen on each seed's training half.
    pub chosen: Vec<f64>,
}

/// A pair the resolver got wrong, for reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    pub movielens: String,
    pub predicted: Option<String>,
    pub gold: Option<String>,
}

/// log2(m/u) of one comparison level, measured on blocked candidate pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelWeight {
    pub comparison: String,
    pub level: String,
    pub m: f64,
    pub u: f64,
    pub log2_m_over_u: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityReport {
    pub movielens_movies: u64,
    pub tmdb_movies: u64,
    pub gold_pairs: u64,
    pub seeds: Vec<u64>,
    pub rows: Vec<ResolverRow>,
    /// Pairs movierec's resolver (load thresholds) reviews instead of deciding.
    pub review: u64,
    pub false_matches: Vec<Miss>,
    pub missed: Vec<Miss>,
    pub weights: Vec<LevelWeight>,
}

/// The candidate matching thresholds tried on the training halves.
const GRID: [f64; 11] = [6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0];

/// Runs the protocol.
pub fn run(input: &IdentityInput) -> Result<IdentityReport, EvalError> {
    let tmdb = read_tmdb(&input.tmdb)?;
    let movielens = read_movielens(&input.dataset)?;
    let links_path = input.dataset.join("links.csv");
    let links = movielens::read_links(open(&links_path)?, |_| Ok(())).map_err(etl(&links_path))?;
    let tmdb_ids: HashSet<i64> = tmdb.iter().filter_map(tmdb_id).collect();
    let gold: HashMap<i64, i64> = movielens
        .iter()
        .filter_map(|(id, _)| {
            let linked = links.get(id)?;
            let t = linked
                .iter()
                .find(|i| i.namespace == Namespace::Tmdb)
                .and_then(|i| i.value.parse::<i64>().ok())?;
            tmdb_ids.contains(&t).then_some((*id, t))
        })
        .collect();
    let title_of_tmdb: HashMap<i64, String> = tmdb
        .iter()
        .filter_map(|m| Some((tmdb_id(m)?, format!("{} ({})", m.title.as_str(), m.year))))
        .collect();
    let title_of_ml: HashMap<i64, String> = movielens
        .iter()
        .map(|(id, m)| (*id, format!("{} ({})", m.title.as_str(), m.year)))
        .collect();

    // Predictions of every resolver on every MovieLens movie.
    let baseline = exact_title_year(&tmdb, &movielens);
    let by_threshold: Vec<(f64, HashMap<i64, i64>)> = GRID
        .iter()
        .map(|&t| {
            let thresholds = Thresholds {
                matching: t,
                ..Thresholds::DEFAULT
            };
            (t, resolve(&tmdb, &movielens, thresholds).0)
        })
        .collect();
    let (default_pred, review) = resolve(&tmdb, &movielens, Thresholds::DEFAULT);
    let all_ml: Vec<i64> = movielens.iter().map(|(id, _)| *id).collect();

    let mut rows = Vec::new();
    // movierec: the threshold chosen on each training half.
    let mut tuned = Vec::new();
    let mut chosen = Vec::new();
    for &seed in &input.seeds {
        let (train, test) = halves(&all_ml, seed);
        let best = by_threshold
            .iter()
            .map(|(t, pred)| (*t, scores(pred, &gold, &train)))
            .max_by(|a, b| {
                // Ties go to the higher, more cautious threshold.
                a.1.f1.total_cmp(&b.1.f1).then(a.0.total_cmp(&b.0))
            })
            .map(|(t, _)| t)
            .unwrap_or(Thresholds::DEFAULT.matching);
        chosen.push(best);
        let pred = &by_threshold
            .iter()
            .find(|(t, _)| *t == best)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        tuned.push(scores(pred, &gold, &test));
    }
    rows.push(row(
        "movierec",
        scores(&default_pred, &gold, &all_ml),
        &tuned,
        chosen,
    ));
    let base_test: Vec<Scores> = input
        .seeds
        .iter()
        .map(|&seed| scores(&baseline, &gold, &halves(&all_ml, seed).1))
        .collect();
    rows.push(row(
        "exact title + year ±1",
        scores(&baseline, &gold, &all_ml),
        &base_test,
        Vec::new(),
    ));

    let describe = |ml: &i64, predicted: Option<&i64>, truth: Option<&i64>| Miss {
        movielens: title_of_ml.get(ml).cloned().unwrap_or_default(),
        predicted: predicted.and_then(|t| title_of_tmdb.get(t).cloned()),
        gold: truth.and_then(|t| title_of_tmdb.get(t).cloned()),
    };
    let mut false_matches = Vec::new();
    let mut missed = Vec::new();
    for ml in &all_ml {
        let (p, g) = (default_pred.get(ml), gold.get(ml));
        if p.is_some() && p != g {
            false_matches.push(describe(ml, p, g));
        }
        if g.is_some() && p != g {
            missed.push(describe(ml, p, g));
        }
    }
    Ok(IdentityReport {
        movielens_movies: movielens.len() as u64,
        tmdb_movies: tmdb.len() as u64,
        gold_pairs: gold.len() as u64,
        seeds: input.seeds.clone(),
        rows,
        review,
        false_matches,
        missed,
        weights: level_weights(&tmdb, &movielens, &gold),
    })
}

fn row(name: &str, all: Scores, test: &[Scores], chosen: Vec<f64>) -> ResolverRow {
    let est = |f: fn(&Scores) -> f64| estimate(&test.iter().map(f).collect::<Vec<_>>());
    ResolverRow {
        resolver: name.to_owned(),
        all,
        test_precision: est(|s| s.precision),
        test_recall: est(|s| s.recall),
        test_f1: est(|s| s.f1),
        chosen,
    }
}

fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return Estimate::default();
    }
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Estimate {
        mean,
        se: (var / n).sqrt(),
    }
}

/// The MovieLens ids of a seeded half (train) and the rest (test).
fn halves(ids: &[i64], seed: u64) -> (Vec<i64>, Vec<i64>) {
    ids.iter().partition(|id| {
        let mut x = (**id as u64) ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // splitmix64's finaliser: a well-mixed bit per id and seed.
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (x ^ (x >> 31)) & 1 == 0
    })
}

/// Scores predictions (MovieLens id → TMDB id) on the MovieLens movies `among`.
fn scores(pred: &HashMap<i64, i64>, gold: &HashMap<i64, i64>, among: &[i64]) -> Scores {
    let (mut predicted, mut correct, mut in_gold) = (0, 0, 0);
    for ml in among {
        let p = pred.get(ml);
        let g = gold.get(ml);
        predicted += u64::from(p.is_some());
        in_gold += u64::from(g.is_some());
        correct += u64::from(p.is_some() && p == g);
    }
    let precision = if predicted == 0 {
        1.0
    } else {
        correct as f64 / predicted as f64
    };
    let recall = if in_gold == 0 {
        1.0
    } else {
        correct as f64 / in_gold as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Scores {
        precision,
        recall,
        f1,
        predicted,
        correct,
        gold: in_gold,
    }
}

/// movierec's resolver: TMDB loaded first, then MovieLens record by record, as the load does.
/// Returns the matches to TMDB films and how many records were listed for review.
fn resolve(
    tmdb: &[Movie],
    movielens: &[(i64, Movie)],
    thresholds: Thresholds,
) -> (HashMap<i64, i64>, u64) {
    let mut catalog = Catalog::new(thresholds);
    let mut tmdb_of: HashMap<MovieId, i64> = HashMap::new();
    for m in tmdb {
        let (movie, _) = catalog.resolve(&Profile::of(m));
        if let Some(id) = tmdb_id(m) {
            tmdb_of.entry(movie).or_insert(id);
        }
    }
    let mut out = HashMap::new();
    let mut review = 0;
    for (id, m) in movielens {
        let (movie, how) = catalog.resolve(&Profile::of(m));
        match how {
            Resolved::Decided(Decision::Match { .. }) | Resolved::Id(_) => {
                if let Some(t) = tmdb_of.get(&movie) {
                    out.insert(*id, *t);
                }
            }
            Resolved::Decided(Decision::Review { .. }) => review += 1,
            Resolved::Decided(Decision::New) => {}
        }
    }
    (out, review)
}

/// The baseline: the same `match_key`, the same year when exactly one film has it, else a
/// year one apart when exactly one film has that.
fn exact_title_year(tmdb: &[Movie], movielens: &[(i64, Movie)]) -> HashMap<i64, i64> {
    let mut by_key: HashMap<String, Vec<(i32, i64)>> = HashMap::new();
    for m in tmdb {
        if let Some(id) = tmdb_id(m) {
            by_key
                .entry(match_key(m.title.as_str()))
                .or_default()
                .push((m.year, id));
        }
    }
    let mut out = HashMap::new();
    for (ml, m) in movielens {
        let Some(list) = by_key.get(&match_key(m.title.as_str())) else {
            continue;
        };
        let within = |d: i32| -> Vec<i64> {
            list.iter()
                .filter(|(y, _)| (y - m.year).abs() == d)
                .map(|(_, id)| *id)
                .collect()
        };
        let same = within(0);
        let pick = if same.is_empty() { within(1) } else { same };
        if let [one] = pick.as_slice() {
            out.insert(*ml, *one);
        }
    }
    out
}

/// log2(m/u) per comparison level over every blocked (MovieLens, TMDB) candidate pair of the
/// gold's MovieLens movies: m among the gold pairs, u among the others.
fn level_weights(
    tmdb: &[Movie],
    movielens: &[(i64, Movie)],
    gold: &HashMap<i64, i64>,
) -> Vec<LevelWeight> {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    let profiles: Vec<Profile> = tmdb.iter().map(Profile::of).collect();
    for (i, p) in profiles.iter().enumerate() {
        for k in p.block_keys() {
            index.entry(k).or_default().push(i);
        }
    }
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let (mut matches, mut others) = (0u64, 0u64);
    for (ml, m) in movielens {
        let Some(truth) = gold.get(ml) else { continue };
        let record = Profile::of(m);
        let mut seen = HashSet::new();
        for k in record.block_keys() {
            for &i in index.get(&k).into_iter().flatten() {
                if !seen.insert(i) {
                    continue;
                }
                let c = score::compare(&record, &profiles[i]);
                let is_match = tmdb_id(&tmdb[i]) == Some(*truth);
                if is_match {
                    matches += 1;
                } else {
                    others += 1;
                }
                for (comparison, level) in [
                    ("title", title_name(c.title)),
                    ("year", year_name(c.year)),
                    ("director", agreement_name(c.director)),
                    ("runtime", agreement_name(c.runtime)),
                ] {
                    let e = counts
                        .entry((comparison.to_owned(), level.to_owned()))
                        .or_default();
                    if is_match {
                        e.0 += 1;
                    } else {
                        e.1 += 1;
                    }
                }
            }
        }
    }
    counts
        .into_iter()
        .map(|((comparison, level), (m, u))| {
            // Add-one smoothing: a level never seen on one side still gets a finite weight.
            let m = (m as f64 + 1.0) / (matches as f64 + 2.0);
            let u = (u as f64 + 1.0) / (others as f64 + 2.0);
            LevelWeight {
                comparison,
                level,
                m,
                u,
                log2_m_over_u: (m / u).log2(),
            }
        })
        .collect()
}

fn title_name(l: TitleLevel) -> &'static str {
    match l {
        TitleLevel::Exact => "exact",
        TitleLevel::Close => "close",
        TitleLevel::Contained => "contained",
        TitleLevel::Similar => "similar",
        TitleLevel::Different => "different",
    }
}

fn year_name(l: YearLevel) -> &'static str {
    match l {
        YearLevel::Same => "same",
        YearLevel::Adjacent => "adjacent",
        YearLevel::Century => "century",
        YearLevel::Near => "near",
        YearLevel::Far => "far",
    }
}

fn agreement_name(a: Agreement) -> &'static str {
    match a {
        Agreement::Agree => "agree",
        Agreement::Disagree => "disagree",
        Agreement::Unknown => "unknown",
    }
}

fn tmdb_id(m: &Movie) -> Option<i64> {
    m.ids
        .iter()
        .find(|i| i.namespace == Namespace::Tmdb)
        .and_then(|i| i.value.parse().ok())
}

fn rules() -> Rules {
    Rules { max_year: 2100 }
}

/// The TMDB export's clean records (rejected rows are left out, as the load leaves them).
fn read_tmdb(path: &Path) -> Result<Vec<Movie>, EvalError> {
    let mut out = Vec::new();
    let name = path.display().to_string();
    extract::extract(&name, open(path)?, Format::Csv, |r: RawRecord| {
        if let Ok(t) = transform::transform(&r, rules()) {
            out.push(t.movie);
        }
        Ok(())
    })
    .map_err(etl(path))?;
    Ok(out)
}

/// ml-latest-small's clean movie records, without their links, with their MovieLens ids.
fn read_movielens(dir: &Path) -> Result<Vec<(i64, Movie)>, EvalError> {
    let path = dir.join("movies.csv");
    let mut out = Vec::new();
    movielens::read_movies(
        Layout::Latest,
        open(&path)?,
        &[],
        &Links::new(),
        |r| {
            let id = r.ids.first().and_then(|i| i.value.parse::<i64>().ok());
            if let (Some(id), Ok(t)) = (id, transform::transform(&r, rules())) {
                out.push((id, t.movie));
            }
            Ok(())
        },
        |_| Ok(()),
    )
    .map_err(etl(&path))?;
    Ok(out)
}
