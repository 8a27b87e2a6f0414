//! Content model v2: a movie is a set of weighted feature *blocks* and two movies are as similar
//! as the weighted sum of their blocks' similarities:
//!
//! | block | features | similarity |
//! |---|---|---|
//! | genres | multi-hot genres | cosine of idf-weighted vectors |
//! | keywords | TMDB keywords and MovieLens tags | cosine of TF-IDF |
//! | people | directors (×2), top-billed cast (weight falls with billing), writers | cosine of TF-IDF |
//! | text | overview words: Unicode word segmentation, English stop words out, Snowball stems | cosine of TF-IDF (sublinear tf) |
//! | facts | creative type, certification (MPAA), language, running-time band | cosine of idf-weighted vectors |
//! | numbers | the seed's rating and release year, standardised | 1 / (1 + squared distance) |
//! | popularity | votes (or ratings) | ln(1 + votes) / ln(1 + most votes), a prior on the candidate |
//!
//! Sparse blocks are stored per movie and as an inverted index (feature → movies), so a query
//! touches only the movies sharing a feature with it plus one pass for the dense blocks: memory
//! and time grow linearly with the catalog, never N×N. A block a catalog lacks (vega has no
//! keywords) is simply empty. Every neighbour can be explained by the blocks that contributed
//! most ([`ContentBlocks::explain`]).

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use unicode_segmentation::UnicodeSegmentation;

/// What the model knows of one movie. Every field may be empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemAttributes {
    pub genres: Vec<String>,
    pub keywords: Vec<String>,
    pub directors: Vec<String>,
    /// In billing order.
    pub cast: Vec<String>,
    pub writers: Vec<String>,
    pub overview: String,
    /// Categorical facts as a reason says them after "both" ("rated PG-13", "in English").
    pub facts: Vec<String>,
    pub runtime: Option<f64>,
    /// On the catalog's 0–10 scale.
    pub rating: Option<f64>,
    pub year: Option<i32>,
    /// Votes, or the number of ratings.
    pub popularity: Option<f64>,
}

/// The blocks, in the order of [`BlockWeights`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    Genres,
    Keywords,
    People,
    Text,
    Facts,
}

const SPARSE: [Block; 5] = [
    Block::Genres,
    Block::Keywords,
    Block::People,
    Block::Text,
    Block::Facts,
];

/// How much each block counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockWeights {
    pub genres: f64,
    pub keywords: f64,
    pub people: f64,
    pub text: f64,
    pub facts: f64,
    pub numbers: f64,
    pub popularity: f64,
}

impl Default for BlockWeights {
    fn default() -> Self {
        Self {
            genres: 1.0,
            keywords: 1.0,
            people: 1.0,
            text: 0.5,
            facts: 0.5,
            numbers: 0.5,
            popularity: 0.5,
        }
    }
}

impl BlockWeights {
    fn of(&self, b: Block) -> f64 {
        match b {
            Block::Genres => self.genres,
            Block::Keywords => self.keywords,
            Block::People => self.people,
            Block::Text => self.text,
            Block::Facts => self.facts,
        }
    }
}

impl fmt::Display for BlockWeights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "genres={} keywords={} people={} text={} facts={} numbers={} popularity={}",
            self.genres,
            self.keywords,
            self.people,
            self.text,
            self.facts,
            self.numbers,
            self.popularity
        )
    }
}

/// One sparse block: each movie's L2-normalised vector, the inverted index, the vocabulary.
#[derive(Debug, Clone, Default)]
struct Sparse {
    ptr: Vec<usize>,
    terms: Vec<u32>,
    weights: Vec<f32>,
    post_ptr: Vec<usize>,
    post_items: Vec<u32>,
    post_weights: Vec<f32>,
    /// A readable form of each term.
    vocab: Vec<String>,
}

impl Sparse {
    /// From each movie's (term key, readable form, raw weight) features, produced one movie at
    /// a time (the catalog's features are never all in memory); weights become raw × idf with
    /// idf = ln((1 + N) / (1 + df)) + 1, then each vector is L2-normalised.
    fn build(
        features: impl ExactSizeIterator<Item = Vec<(String, String, f64)>>,
        sublinear: bool,
    ) -> Self {
        let n = features.len();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut vocab = Vec::new();
        let mut rows: Vec<Vec<(u32, f64)>> = Vec::with_capacity(n);
        let mut df: Vec<u32> = Vec::new();
        for item in features {
            let mut row: Vec<(u32, f64)> = Vec::with_capacity(item.len());
            for (key, shown, w) in item {
                let next = vocab.len() as u32;
                let t = *index.entry(key).or_insert_with(|| {
                    vocab.push(shown);
                    df.push(0);
                    next
                });
                row.push((t, w));
            }
            row.sort_unstable_by_key(|r| r.0);
            let mut merged: Vec<(u32, f64)> = Vec::with_capacity(row.len());
            for (t, w) in row {
                match merged.last_mut() {
                    Some(last) if last.0 == t => last.1 += w,
                    _ => merged.push((t, w)),
                }
            }
            for (t, _) in &merged {
                df[*t as usize] += 1;
            }
            rows.push(merged);
        }
        let idf: Vec<f64> = df
            .iter()
            .map(|&d| ((1.0 + n as f64) / (1.0 + f64::from(d))).ln() + 1.0)
            .collect();
        let mut s = Sparse {
            ptr: vec![0],
            vocab,
            ..Sparse::default()
        };
        let mut counts = vec![0usize; idf.len() + 1];
        for row in &mut rows {
            for (t, w) in row.iter_mut() {
                let tf = if sublinear { 1.0 + w.ln() } else { *w };
                *w = tf * idf[*t as usize];
            }
            let norm = row.iter().map(|r| r.1 * r.1).sum::<f64>().sqrt();
            for &(t, w) in row.iter() {
                if norm > 0.0 {
                    s.terms.push(t);
                    s.weights.push((w / norm) as f32);
                    counts[t as usize + 1] += 1;
                }
            }
            s.ptr.push(s.terms.len());
        }
        for t in 0..idf.len() {
            counts[t + 1] += counts[t];
        }
        s.post_ptr = counts.clone();
        s.post_items = vec![0; s.terms.len()];
        s.post_weights = vec![0.0; s.terms.len()];
        for item in 0..n {
            for k in s.ptr[item]..s.ptr[item + 1] {
                let at = &mut counts[s.terms[k] as usize];
                s.post_items[*at] = item as u32;
                s.post_weights[*at] = s.weights[k];
                *at += 1;
            }
        }
        s
    }

    fn vector(&self, item: usize) -> impl Iterator<Item = (u32, f32)> + '_ {
        let span = self.ptr[item]..self.ptr[item + 1];
        self.terms[span.clone()]
            .iter()
            .copied()
            .zip(self.weights[span].iter().copied())
    }

    /// out[j] += scale · Σ_t query_t · v_jt over the query's terms.
    fn accumulate(&self, query: impl Iterator<Item = (u32, f64)>, scale: f64, out: &mut [f64]) {
        self.for_postings(query, scale, |j, v| out[j] += v);
    }

    /// Calls `add(j, scale · query_t · v_jt)` for every posting of the query's terms.
    fn for_postings(
        &self,
        query: impl Iterator<Item = (u32, f64)>,
        scale: f64,
        mut add: impl FnMut(usize, f64),
    ) {
        for (t, qw) in query {
            let span = self.post_ptr[t as usize]..self.post_ptr[t as usize + 1];
            let w = scale * qw;
            for (&j, &pw) in self.post_items[span.clone()]
                .iter()
                .zip(&self.post_weights[span])
            {
                add(j as usize, w * f64::from(pw));
            }
        }
    }

    /// Cosine of two movies' vectors, and their shared terms with the product of weights.
    fn shared(&self, a: usize, b: usize) -> (f64, Vec<(u32, f64)>) {
        let bv: HashMap<u32, f32> = self.vector(b).collect();
        let mut shared: Vec<(u32, f64)> = self
            .vector(a)
            .filter_map(|(t, w)| bv.get(&t).map(|v| (t, f64::from(w) * f64::from(*v))))
            .collect();
        let cos = shared.iter().map(|s| s.1).sum();
        shared.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        (cos, shared)
    }
}

/// The fitted model over movies at positions `0..n`.
#[derive(Debug, Clone)]
pub struct ContentBlocks {
    weights: BlockWeights,
    sparse: Vec<Sparse>,
    /// Standardised (rating, year) per movie; NaN where unknown.
    numbers: Vec<[f32; 2]>,
    /// ln(1 + popularity) / ln(1 + max), 0 when unknown.
    popularity: Vec<f32>,
    years: Vec<Option<i32>>,
}

/// Words too common to say anything about a plot (English).
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "against",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "last",
    "made",
    "make",
    "makes",
    "many",
    "may",
    "me",
    "more",
    "most",
    "much",
    "must",
    "my",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "take",
    "takes",
    "than",
    "that",
    "the",
    "their",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "two",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "you",
    "your",
    "years",
    "year",
    "life",
    "film",
    "story",
    "find",
    "finds",
    "becomes",
    "must",
    "soon",
    "s",
];

/// Overview text → (stem, first surface form, count 1) per word, stop words out.
fn words(text: &str, stemmer: &Stemmer) -> Vec<(String, String, f64)> {
    text.unicode_words()
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 2 && !w.chars().all(char::is_numeric))
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| (stemmer.stem(&w).into_owned(), w, 1.0))
        .collect()
}

fn runtime_band(minutes: f64) -> Option<&'static str> {
    match minutes {
        m if m.is_nan() || m <= 0.0 => None,
        m if m < 60.0 => Some("under an hour long"),
        m if m < 90.0 => Some("60–90 minutes long"),
        m if m < 120.0 => Some("90–120 minutes long"),
        m if m < 150.0 => Some("120–150 minutes long"),
        _ => Some("over 150 minutes long"),
    }
}

/// (key, shown, weight) for names: the key lower-cased with a role prefix.
fn named(
    role: &str,
    names: &[String],
    weight: impl Fn(usize) -> f64,
) -> Vec<(String, String, f64)> {
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.trim().is_empty())
        .map(|(k, n)| {
            (
                format!("{role}:{}", n.trim().to_lowercase()),
                format!("{role}:{}", n.trim()),
                weight(k),
            )
        })
        .collect()
}

/// One movie's features in block `b`.
fn features(b: Block, a: &ItemAttributes, stemmer: &Stemmer) -> Vec<(String, String, f64)> {
    match b {
        Block::Genres => named("genre", &a.genres, |_| 1.0),
        Block::Keywords => named("keyword", &a.keywords, |_| 1.0),
        Block::People => {
            let mut v = named("director", &a.directors, |_| 2.0);
            v.extend(named("cast", &a.cast[..a.cast.len().min(10)], |k| {
                1.0 / (1.0 + 0.25 * k as f64)
            }));
            v.extend(named("writer", &a.writers, |_| 1.0));
            v
        }
        Block::Text => words(&a.overview, stemmer),
        Block::Facts => {
            let mut v = named("fact", &a.facts, |_| 1.0);
            if let Some(band) = a.runtime.and_then(runtime_band) {
                v.push((format!("runtime:{band}"), format!("runtime:{band}"), 1.0));
            }
            v
        }
    }
}

fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count().max(1) as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

impl ContentBlocks {
    pub fn fit(items: &[ItemAttributes], weights: BlockWeights) -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let sparse = SPARSE
            .iter()
            .map(|&b| {
                Sparse::build(
                    items.iter().map(|a| features(b, a, &stemmer)),
                    b == Block::Text,
                )
            })
            .collect();
        let (rm, rs) = mean_std(items.iter().filter_map(|a| a.rating));
        let (ym, ys) = mean_std(items.iter().filter_map(|a| a.year.map(f64::from)));
        let numbers = items
            .iter()
            .map(|a| {
                [
                    a.rating.map_or(f32::NAN, |r| ((r - rm) / rs) as f32),
                    a.year
                        .map_or(f32::NAN, |y| ((f64::from(y) - ym) / ys) as f32),
                ]
            })
            .collect();
        let most = items
            .iter()
            .filter_map(|a| a.popularity)
            .fold(0.0f64, f64::max);
        let popularity = items
            .iter()
            .map(|a| {
                a.popularity
                    .filter(|_| most > 0.0)
                    .map_or(0.0, |p| ((p.max(0.0)).ln_1p() / most.ln_1p()) as f32)
            })
            .collect();
        Self {
            weights,
            sparse,
            numbers,
            popularity,
            years: items.iter().map(|a| a.year).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    pub fn weights(&self) -> BlockWeights {
        self.weights
    }

    /// One movie's dense blocks against the (standardised) `numbers` point: branch-free, so the
    /// pass over the catalog runs in vector lanes.
    #[inline(always)]
    fn dense_one(&self, n: [f32; 2], popularity: f32, point: [f32; 2]) -> f32 {
        let (a, b) = (n[0] - point[0], n[1] - point[1]);
        let (fa, fb) = (a.is_finite(), b.is_finite());
        let d = if fa { a * a } else { 0.0 } + if fb { b * b } else { 0.0 };
        let near = if fa || fb { 1.0 / (1.0 + d) } else { 0.0 };
        self.weights.numbers as f32 * near + self.weights.popularity as f32 * popularity
    }

    /// Adds the dense blocks' scores against the (standardised) `numbers` point to `out`.
    fn dense(&self, point: [f32; 2], out: &mut [f64]) {
        for ((o, n), p) in out.iter_mut().zip(&self.numbers).zip(&self.popularity) {
            *o += f64::from(self.dense_one(*n, *p, point));
        }
    }

    /// The `n` movies most like `item` that `admit` lets through (never `item` itself), best
    /// first, ties by position — what [`Self::score_similar`] ranks, in f32 and in one pass: the
    /// sparse blocks go through the inverted index into `scratch`, and the dense blocks are added
    /// in the same pass that selects, so a query reads the catalog's arrays once.
    pub fn top_similar(
        &self,
        item: usize,
        n: usize,
        admit: impl Fn(usize) -> bool,
        scratch: &mut Vec<f32>,
    ) -> Vec<(usize, f64)> {
        scratch.clear();
        scratch.resize(self.len(), 0.0);
        for (b, s) in SPARSE.iter().zip(&self.sparse) {
            let w = self.weights.of(*b);
            if w != 0.0 {
                let query = s.vector(item).map(|(t, v)| (t, f64::from(v)));
                s.for_postings(query, w, |j, v| scratch[j] += v as f32);
            }
        }
        let point = self.numbers[item];
        for ((s, n), p) in scratch.iter_mut().zip(&self.numbers).zip(&self.popularity) {
            *s += self.dense_one(*n, *p, point);
        }
        let scored = scratch.iter().enumerate().map(|(j, s)| (j, f64::from(*s)));
        super::top_n(n, scored, |j| j != item && admit(j))
    }

    /// Every movie's similarity to movie `item` into `out` (including `item` itself).
    pub fn score_similar(&self, item: usize, out: &mut [f64]) {
        out.fill(0.0);
        for (b, s) in SPARSE.iter().zip(&self.sparse) {
            let w = self.weights.of(*b);
            if w != 0.0 {
                s.accumulate(s.vector(item).map(|(t, v)| (t, f64::from(v))), w, out);
            }
        }
        self.dense(self.numbers[item], out);
    }

    /// How similar movie `j` is to movie `i`: one entry of [`Self::score_similar`], without the
    /// pass over the catalog.
    pub fn similarity(&self, i: usize, j: usize) -> f64 {
        let sparse: f64 = SPARSE
            .iter()
            .zip(&self.sparse)
            .map(|(b, s)| self.weights.of(*b) * s.shared(i, j).0)
            .sum();
        sparse + f64::from(self.dense_one(self.numbers[j], self.popularity[j], self.numbers[i]))
    }

    /// Every movie's score for a profile of (movie, weight) pairs into `out`: per block the
    /// weighted sum of the movies' vectors, L2-normalised, against every movie; the numbers block
    /// against the positively weighted movies' mean.
    pub fn score_profile(&self, profile: &[(u32, f64)], out: &mut [f64]) {
        out.fill(0.0);
        for (b, s) in SPARSE.iter().zip(&self.sparse) {
            let w = self.weights.of(*b);
            if w == 0.0 {
                continue;
            }
            let mut sum: HashMap<u32, f64> = HashMap::new();
            for &(i, pw) in profile {
                for (t, v) in s.vector(i as usize) {
                    *sum.entry(t).or_default() += pw * f64::from(v);
                }
            }
            let norm = sum.values().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                let mut terms: Vec<(u32, f64)> =
                    sum.into_iter().map(|(t, v)| (t, v / norm)).collect();
                terms.sort_unstable_by_key(|t| t.0);
                s.accumulate(terms.into_iter(), w, out);
            }
        }
        let mut point = [0.0f32; 2];
        for (k, p) in point.iter_mut().enumerate() {
            let known: Vec<f32> = profile
                .iter()
                .filter(|(_, w)| *w > 0.0)
                .map(|(i, _)| self.numbers[*i as usize][k])
                .filter(|v| v.is_finite())
                .collect();
            *p = if known.is_empty() {
                f32::NAN
            } else {
                known.iter().sum::<f32>() / known.len() as f32
            };
        }
        self.dense(point, out);
    }

    /// Why `candidate` is like `query`: the blocks that contributed most, in words
    /// ("shared genres: Drama, Romance; same director: James Cameron; 2 years apart").
    pub fn explain(&self, query: usize, candidate: usize) -> String {
        let mut parts: Vec<(f64, String)> = Vec::new();
        for (b, s) in SPARSE.iter().zip(&self.sparse) {
            let (cos, shared) = s.shared(query, candidate);
            let contribution = self.weights.of(*b) * cos;
            if contribution <= 0.01 || shared.is_empty() {
                continue;
            }
            let names = |prefix: &str, limit: usize| -> Vec<String> {
                shared
                    .iter()
                    .map(|(t, _)| s.vocab[*t as usize].as_str())
                    .filter_map(|v| v.strip_prefix(prefix))
                    .take(limit)
                    .map(str::to_owned)
                    .collect()
            };
            let text = match b {
                Block::Genres => format!("shared genres: {}", names("genre:", 3).join(", ")),
                Block::Keywords => format!("shared keywords: {}", names("keyword:", 3).join(", ")),
                Block::People => {
                    let mut said = Vec::new();
                    let directors = names("director:", 2);
                    if !directors.is_empty() {
                        said.push(format!("same director: {}", directors.join(", ")));
                    }
                    let cast = names("cast:", 2);
                    if !cast.is_empty() {
                        said.push(format!("shared cast: {}", cast.join(", ")));
                    }
                    let writers = names("writer:", 1);
                    if !writers.is_empty() {
                        said.push(format!("same writer: {}", writers.join(", ")));
                    }
                    said.join("; ")
                }
                // The shared words are stems of common words ("whole, jack, set"): they
                // explain nothing to a reader, so the reason says only what they add up to.
                Block::Text => "similar plots".to_owned(),
                Block::Facts => {
                    let facts: Vec<String> = shared
                        .iter()
                        .take(3)
                        .map(|(t, _)| {
                            let v = &s.vocab[*t as usize];
                            v.split_once(':').map_or(v.clone(), |(_, x)| x.to_owned())
                        })
                        .collect();
                    format!("both {}", facts.join(", "))
                }
            };
            if !text.is_empty() {
                parts.push((contribution, text));
            }
        }
        parts.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut said: Vec<String> = parts.into_iter().take(3).map(|p| p.1).collect();
        if let (Some(a), Some(b)) = (self.years[query], self.years[candidate]) {
            said.push(match (a - b).abs() {
                0 => "same year".to_owned(),
                1 => "1 year apart".to_owned(),
                y => format!("{y} years apart"),
            });
        }
        said.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(
        genres: &[&str],
        keywords: &[&str],
        director: &str,
        year: i32,
        overview: &str,
    ) -> ItemAttributes {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect();
        ItemAttributes {
            genres: s(genres),
            keywords: s(keywords),
            directors: if director.is_empty() {
                Vec::new()
            } else {
                vec![director.to_owned()]
            },
            overview: overview.to_owned(),
            year: Some(year),
            rating: Some(7.0),
            popularity: Some(100.0),
            ..ItemAttributes::default()
        }
    }

    fn catalog() -> Vec<ItemAttributes> {
        vec![
            movie(
                &["Drama", "Romance"],
                &["ship", "iceberg"],
                "James Cameron",
                1997,
                "A young couple falls in love aboard a doomed ship.",
            ),
            movie(
                &["Drama", "Romance"],
                &["ship", "ocean"],
                "James Cameron",
                1999,
                "Lovers on a sinking ship in the ocean.",
            ),
            movie(
                &["Comedy"],
                &["school"],
                "John Hughes",
                1986,
                "A teenager skips school.",
            ),
            movie(&["Drama"], &[], "", 1997, "Lawyers argue a case."),
            movie(
                &["Action", "Science Fiction"],
                &["robot"],
                "James Cameron",
                1984,
                "A cyborg assassin is sent back in time.",
            ),
        ]
    }

    #[test]
    fn the_movie_sharing_most_blocks_ranks_first_with_its_reasons() {
        let model = ContentBlocks::fit(&catalog(), BlockWeights::default());
        let mut scores = vec![0.0; model.len()];
        model.score_similar(0, &mut scores);
        let mut order: Vec<usize> = (1..5).collect();
        order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
        assert_eq!(order[0], 1, "{scores:?}");
        assert!(
            scores[2] < scores[3],
            "a shared genre beats none: {scores:?}"
        );
        let reason = model.explain(0, 1);
        assert!(
            reason.contains("shared genres: Drama, Romance")
                || reason.contains("shared genres: Romance, Drama"),
            "{reason}"
        );
        assert!(reason.contains("same director: James Cameron"), "{reason}");
        assert!(reason.contains("ship"), "{reason}");
        assert!(reason.ends_with("2 years apart"), "{reason}");
        assert_eq!(model.explain(0, 2), "11 years apart");
    }

    #[test]
    fn the_one_pass_top_n_ranks_as_the_full_scores_do() {
        let model = ContentBlocks::fit(&catalog(), BlockWeights::default());
        for item in 0..model.len() {
            let mut full = vec![0.0; model.len()];
            model.score_similar(item, &mut full);
            let mut want: Vec<usize> = (0..model.len()).filter(|&j| j != item).collect();
            want.sort_by(|a, b| full[*b].total_cmp(&full[*a]).then(a.cmp(b)));
            let mut scratch = Vec::new();
            let got = model.top_similar(item, 3, |_| true, &mut scratch);
            assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), want[..3]);
            for (j, s) in got {
                assert!((s - full[j]).abs() < 1e-5, "{s} vs {}", full[j]);
            }
            for (j, f) in full.iter().enumerate() {
                assert!((model.similarity(item, j) - f).abs() < 1e-5, "{item} {j}");
            }
            let odd = model.top_similar(item, 3, |j| j % 2 == 1, &mut scratch);
            assert!(odd.iter().all(|g| g.0 % 2 == 1 && g.0 != item));
        }
    }

    #[test]
    fn words_are_stemmed_and_stop_words_dropped() {
        let stemmer = Stemmer::create(Algorithm::English);
        let w: Vec<String> = words("The lovers were sinking, and the ship sank!", &stemmer)
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(w, vec!["lover", "sink", "ship", "sank"]);
    }

    #[test]
    fn a_profile_of_one_movie_scores_like_its_similar_list_and_empty_blocks_are_harmless() {
        let items = catalog();
        let model = ContentBlocks::fit(&items, BlockWeights::default());
        let (mut a, mut b) = (vec![0.0; 5], vec![0.0; 5]);
        model.score_similar(4, &mut a);
        model.score_profile(&[(4, 1.0)], &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
        let bare = ContentBlocks::fit(
            &[ItemAttributes::default(), ItemAttributes::default()],
            BlockWeights::default(),
        );
        let mut s = vec![0.0; 2];
        bare.score_similar(0, &mut s);
        assert_eq!(s, vec![0.0, 0.0]);
        assert_eq!(bare.explain(0, 1), "");
    }
}
