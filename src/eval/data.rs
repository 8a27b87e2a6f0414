//! What an evaluation reads: MovieLens rating files (any layout the loader knows, plus the fold
//! files of ml-100k) and the dataset's movies with their genres, years and tags. Bad rows are
//! counted and the first few described, never fatal; a missing file is.

use super::EvalError;
use crate::domain::genre::{Genre, Mapped};
use crate::domain::record::{Field, RawValue};
use crate::etl::movielens::{self, Layout};
use crate::etl::EtlError;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub use crate::model::split::Row;

/// A rating file's good rows and what was wrong with the others.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub rows: Vec<Row>,
    pub rejected: u64,
    /// The first rejected rows, described (file, row, field, reason).
    pub examples: Vec<String>,
}

/// A movie of the dataset, with what the content models use.
#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    pub id: i64,
    pub title: String,
    pub year: Option<i32>,
    pub genres: Vec<Genre>,
    /// MovieLens users' tags (latest layouts), lower-cased, with the user who wrote each: a
    /// protocol keeps only those whose (user, movie) pair it does not hold out.
    pub tags: Vec<(i64, String)>,
}

/// Opens a dataset file; a missing one is `EvalError::Missing`.
pub(super) fn open(path: &Path) -> Result<BufReader<File>, EvalError> {
    if !path.is_file() {
        return Err(EvalError::Missing(path.to_owned()));
    }
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| EvalError::Read(path.to_owned(), e.to_string()))
}

/// An ETL reader's error as an evaluation error naming the file.
pub(super) fn etl(path: &Path) -> impl Fn(EtlError) -> EvalError + '_ {
    move |e| EvalError::Read(path.to_owned(), e.to_string())
}

/// How many rejected rows a report describes.
pub const EXAMPLES: usize = 5;

/// Reads a ratings file in `layout`'s format (ml-100k: tab-separated, no header; latest:
/// `userId,movieId,rating,timestamp` with a header).
pub fn read_ratings(path: &Path, layout: Layout) -> Result<Rows, EvalError> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let reader = open(path)?;
    let mut out = Rows::default();
    let cell = std::cell::RefCell::new(&mut out);
    movielens::read_ratings(
        layout,
        &name,
        reader,
        |_, (user, movie, rating, _)| {
            cell.borrow_mut().rows.push((user, movie, rating as f32));
            Ok(())
        },
        |reject| {
            let mut out = cell.borrow_mut();
            out.rejected += 1;
            if out.examples.len() < EXAMPLES {
                out.examples.push(format!(
                    "{name} row {}: {} {:?}",
                    reject.source_row,
                    reject.field.as_str(),
                    reject.reason
                ));
            }
            Ok(())
        },
    )
    .map_err(etl(path))?;
    Ok(out)
}

/// The dataset's layout, naming a missing directory or file.
pub fn layout(dir: &Path) -> Result<Layout, EvalError> {
    movielens::detect(dir).map_err(|e| match e {
        EtlError::NotFound { path } => EvalError::Missing(path),
        EtlError::MissingFile { dir, file } => EvalError::Missing(dir.join(file)),
        EtlError::NotMovielens { dir } => EvalError::NotMovielens(dir),
        e => EvalError::Read(dir.to_owned(), e.to_string()),
    })
}

/// The fold files of ml-100k: `u1.base`/`u1.test` … `u5.base`/`u5.test`.
pub fn folds(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>, EvalError> {
    (1..=5)
        .map(|k| {
            let pair = (
                dir.join(format!("u{k}.base")),
                dir.join(format!("u{k}.test")),
            );
            for p in [&pair.0, &pair.1] {
                if !p.is_file() {
                    return Err(EvalError::Missing(p.clone()));
                }
            }
            Ok(pair)
        })
        .collect()
}

/// The dataset's movies with genres (mapped to the project's vocabulary), years and tags.
pub fn read_movies(dir: &Path, layout: Layout) -> Result<Vec<Movie>, EvalError> {
    let genre_names = if layout == Layout::Ml100k {
        let path = dir.join("u.genre");
        movielens::read_genre_names(open(&path)?).map_err(etl(&path))?
    } else {
        Vec::new()
    };
    let path = dir.join(layout.movies_file());
    let mut movies = Vec::new();
    movielens::read_movies(
        layout,
        open(&path)?,
        &genre_names,
        &HashMap::new(),
        |record| {
            let Some(id) = record
                .ids
                .first()
                .and_then(|id| id.value.parse::<i64>().ok())
            else {
                return Ok(());
            };
            let title = match record.get(Field::Title) {
                RawValue::Text(t) => t.clone(),
                _ => String::new(),
            };
            let year = match record.get(Field::Year) {
                RawValue::Number(y) => Some(*y as i32),
                _ => None,
            };
            let mut genres: Vec<Genre> = match record.get(Field::Genre) {
                RawValue::List(labels) => labels
                    .iter()
                    .flat_map(|l| match Genre::map_label(l) {
                        Mapped::Genres(g) => g.to_vec(),
                        _ => Vec::new(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            genres.sort_unstable();
            genres.dedup();
            movies.push(Movie {
                id,
                title,
                year,
                genres,
                tags: Vec::new(),
            });
            Ok(())
        },
        |_| Ok(()),
    )
    .map_err(etl(&path))?;
    let tags = dir.join("tags.csv");
    if layout == Layout::Latest && tags.is_file() {
        let mut by_movie: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        movielens::read_tags(
            open(&tags)?,
            |_, (user, movie, tag, _)| {
                by_movie
                    .entry(movie)
                    .or_default()
                    .push((user, tag.to_lowercase()));
                Ok(())
            },
            |_| Ok(()),
        )
        .map_err(etl(&tags))?;
        for m in &mut movies {
            if let Some(mut t) = by_movie.remove(&m.id) {
                t.sort_unstable();
                t.dedup();
                m.tags = t;
            }
        }
    }
    Ok(movies)
}
