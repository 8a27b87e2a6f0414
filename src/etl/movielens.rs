//! MovieLens datasets: layout detection, and the readers of each layout's files, turned into the
//! pipeline's records (movies) and the store's rows (ratings, tags). I/O is streamed: no file is
//! held in memory, whatever its size.
//!
//! | layout       | movies                      | ratings                   | also                 |
//! |--------------|-----------------------------|---------------------------|----------------------|
//! | ml-100k      | `u.item` (Latin-1, `\|`)    | `u.data` (tab)            | `u.genre`            |
//! | ml-1m        | `movies.dat` (Latin-1, `::`)| `ratings.dat` (`::`)      |                      |
//! | ml-latest, ml-latest-small, ml-25m, ml-32m | `movies.csv` | `ratings.csv` | `links.csv`, `tags.csv` |
//!
//! Titles carry the year, and articles moved to the end: `Matrix, The (1999)` is "The Matrix",
//! 1999; an alternative title in parentheses is dropped (`City of Lost Children, The (Cité des
//! enfants perdus, La) (1995)` is "The City of Lost Children").

use super::bounded::Budget;
use super::{EtlError, EtlOutcome, Pipeline};
use crate::domain::audit::RatingsCounts;
use crate::domain::etl::{Reason, Reject, RunStart};
use crate::domain::record::{Field, RawRecord, RawValue};
use crate::domain::source::RatingPolicy;
use crate::domain::source::{ExternalId, Namespace, Provider};
use crate::domain::MovieId;
use crate::store::{NewRating, Store, StoredRating, UserKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A MovieLens file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Ml100k,
    Ml1m,
    /// ml-latest, ml-latest-small, ml-25m, ml-32m (and ml-20m).
    Latest,
}

impl Layout {
    /// The namespace of the layout's movie ids: ml-100k numbers its movies on its own.
    pub fn namespace(self) -> Namespace {
        match self {
            Layout::Ml100k => Namespace::Ml100k,
            Layout::Ml1m | Layout::Latest => Namespace::Movielens,
        }
    }

    pub fn movies_file(self) -> &'static str {
        match self {
            Layout::Ml100k => "u.item",
            Layout::Ml1m => "movies.dat",
            Layout::Latest => "movies.csv",
        }
    }

    pub fn ratings_file(self) -> &'static str {
        match self {
            Layout::Ml100k => "u.data",
            Layout::Ml1m => "ratings.dat",
            Layout::Latest => "ratings.csv",
        }
    }

    /// Field separator of the ratings file (and of `.dat` movies).
    fn separator(self) -> &'static [u8] {
        match self {
            Layout::Ml100k => b"\t",
            Layout::Ml1m => b"::",
            Layout::Latest => b",",
        }
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            Layout::Ml100k => &["u.item", "u.data", "u.genre"],
            Layout::Ml1m => &["movies.dat", "ratings.dat"],
            Layout::Latest => &["movies.csv", "ratings.csv"],
        }
    }
}

/// Which layout `dir` holds, by its movie file; a missing companion file is named.
pub fn detect(dir: &Path) -> Result<Layout, EtlError> {
    if !dir.is_dir() {
        return Err(EtlError::NotFound {
            path: dir.to_owned(),
        });
    }
    let layout = [Layout::Ml100k, Layout::Ml1m, Layout::Latest]
        .into_iter()
        .find(|l| dir.join(l.movies_file()).is_file())
        .ok_or_else(|| EtlError::NotMovielens {
            dir: dir.to_owned(),
        })?;
    if let Some(missing) = layout.required().iter().find(|f| !dir.join(f).is_file()) {
        return Err(EtlError::MissingFile {
            dir: dir.to_owned(),
            file: (*missing).to_owned(),
        });
    }
    Ok(layout)
}

/// The dataset's name, which scopes its user ids: the directory's name (`ml-latest-small`).
pub fn dataset_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map_or_else(
            || "movielens".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
}

/// `Matrix, The (1999)` → ("The Matrix", Some(1999), None). Text without a trailing `(YYYY)`
/// keeps its whole title and has no year. An alternative title in parentheses after the main one
/// (`Seven (a.k.a. Se7en)`, `City of Lost Children, The (Cité des enfants perdus, La)`) is
/// returned third, its article put back too: identity compares it as the original title.
pub fn split_title(raw: &str) -> (String, Option<i32>, Option<String>) {
    let raw = raw.trim();
    let (mut title, year) = match raw.strip_suffix(')').and_then(|r| r.rsplit_once('(')) {
        Some((head, y)) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => {
            (head.trim_end(), y.parse().ok())
        }
        _ => (raw, None),
    };
    let mut aka = None;
    if let Some((main, alternative)) = title.strip_suffix(')').and_then(|t| t.split_once(" (")) {
        title = main;
        let alternative = alternative
            .strip_prefix("a.k.a. ")
            .unwrap_or(alternative)
            .trim();
        aka = (!alternative.is_empty()).then(|| article_first(alternative));
    }
    (article_first(title), year, aka)
}

/// `Matrix, The` → `The Matrix`, `Homme, L'` → `L'Homme`.
fn article_first(title: &str) -> String {
    const ARTICLES: [&str; 14] = [
        "The", "A", "An", "Les", "La", "Le", "L'", "Il", "El", "Das", "Der", "Die", "Los", "Las",
    ];
    for article in ARTICLES {
        if let Some(head) = title
            .strip_suffix(article)
            .and_then(|h| h.strip_suffix(", "))
        {
            let sep = if article.ends_with('\'') { "" } else { " " };
            return format!("{article}{sep}{head}");
        }
    }
    title.to_owned()
}

/// A reader that hashes what passes through it, for the run's lineage.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    pub fn finish(self) -> String {
        format!("{:x}", self.hasher.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Opens a dataset file for streaming.
pub fn open(dir: &Path, name: &str) -> Result<Hashing<BufReader<std::fs::File>>, EtlError> {
    let path = dir.join(name);
    let file = std::fs::File::open(&path).map_err(|source| EtlError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(Hashing::new(BufReader::with_capacity(256 * 1024, file)))
}

/// Calls `on_row(row, fields)` for each line of a delimited file without quoting (ratings,
/// links, `.dat` and `u.*` files); `row` counts data lines from 1. `\r\n` endings are accepted,
/// blank lines skipped. Returns the number of data lines.
pub fn for_each_line(
    name: &str,
    reader: impl Read,
    separator: &[u8],
    header: bool,
    mut on_row: impl FnMut(u64, &[&[u8]]) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let budget = Budget::default();
    let mut reader = BufReader::with_capacity(64 * 1024, budget.wrap(reader));
    let mut line = Vec::with_capacity(256);
    let mut row = 0;
    let mut first = header;
    loop {
        line.clear();
        budget.reset();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| read_error(name, &budget, row, source))?;
        if n == 0 {
            return Ok(row);
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if std::mem::take(&mut first) || text.is_empty() {
            continue;
        }
        row += 1;
        // Up to MAX_FIELDS fields without allocating; a longer row shows as MAX_FIELDS + 1.
        let mut fields: [&[u8]; MAX_FIELDS + 1] = [&[]; MAX_FIELDS + 1];
        let mut n = 0;
        let mut rest = text;
        while let Some(at) = find(rest, separator) {
            fields[n.min(MAX_FIELDS)] = &rest[..at];
            n += 1;
            rest = &rest[at + separator.len()..];
        }
        fields[n.min(MAX_FIELDS)] = rest;
        on_row(row, &fields[..=n.min(MAX_FIELDS)])?;
    }
}

/// The error of a failed read of file `name` after `rows` records.
fn read_error(name: &str, budget: &Budget, rows: u64, source: std::io::Error) -> EtlError {
    if budget.exceeded() {
        EtlError::RecordTooLong {
            source_name: name.to_owned(),
            record: rows + 1,
            limit: crate::domain::record::MAX_RECORD_BYTES,
        }
    } else {
        EtlError::Read {
            path: PathBuf::from(name),
            source,
        }
    }
}

/// The most fields a line of these files has (`u.item`: 5 + 19 genre flags).
const MAX_FIELDS: usize = 31;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => haystack.iter().position(|c| c == b),
        _ => haystack.windows(needle.len()).position(|w| w == needle),
    }
}

/// One rejected field of one row of a dataset file.
pub fn reject(
    row: u64,
    field: Field,
    reason: Reason,
    raw: &[u8],
    detail: Option<String>,
) -> Reject {
    Reject::new(
        row,
        field,
        reason,
        Some(&String::from_utf8_lossy(raw)),
        detail,
    )
}

/// A whole number from a field.
pub fn integer(row: u64, field: Field, raw: &[u8]) -> Result<i64, Reject> {
    text(row, field, raw)?
        .trim()
        .parse()
        .map_err(|_| reject(row, field, Reason::NotANumber, raw, None))
}

/// A MovieLens rating: 0.5–5 in steps of 0.5 (ml-100k and ml-1m use whole stars).
pub fn rating(row: u64, raw: &[u8]) -> Result<f64, Reject> {
    let value: f64 = text(row, Field::Rating, raw)?
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| reject(row, Field::Rating, Reason::NotANumber, raw, None))?;
    if (0.5..=5.0).contains(&value) && (value * 2.0).fract() == 0.0 {
        Ok(value)
    } else {
        Err(reject(
            row,
            Field::Rating,
            Reason::OutOfRange,
            raw,
            Some("a MovieLens rating is 0.5..=5 in steps of 0.5".into()),
        ))
    }
}

/// Checks a row has `expected` fields.
pub fn field_count(row: u64, fields: &[&[u8]], expected: usize) -> Result<(), Reject> {
    if fields.len() == expected {
        return Ok(());
    }
    Err(reject(
        row,
        Field::Record,
        Reason::WrongFieldCount,
        &fields.join(&b'|'),
        Some(format!(
            "expected {expected} fields, found {}",
            fields.len()
        )),
    ))
}

/// ml-100k and ml-1m text is Latin-1: every byte is the character of the same number.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// UTF-8 text of a field, or a reject naming it.
fn utf8(row: u64, field: Field, raw: &[u8]) -> Result<String, Reject> {
    text(row, field, raw).map(str::to_owned)
}

/// [`utf8`], borrowed: a number's bytes that are not text are `invalid_encoding`, not
/// `not_a_number`.
fn text(row: u64, field: Field, raw: &[u8]) -> Result<&str, Reject> {
    std::str::from_utf8(raw).map_err(|e| {
        reject(
            row,
            field,
            Reason::InvalidEncoding,
            raw,
            Some(format!(
                "not UTF-8 at byte {} of the field",
                e.valid_up_to()
            )),
        )
    })
}

/// TMDB and IMDb ids of MovieLens movies, from `links.csv`.
pub type Links = HashMap<i64, Vec<ExternalId>>;

/// Reads `links.csv` (movieId,imdbId,tmdbId); bad rows are handed to `on_reject`.
pub fn read_links(
    reader: impl Read,
    mut on_reject: impl FnMut(Reject) -> Result<(), EtlError>,
) -> Result<Links, EtlError> {
    let mut links = Links::new();
    for_each_line("links.csv", reader, b",", true, |row, f| {
        let parsed = field_count(row, f, 3).and_then(|()| {
            let movie = integer(row, Field::Movie, f[0])?;
            let imdb = std::str::from_utf8(f[1]).ok().and_then(ExternalId::imdb);
            let tmdb = match f[2] {
                [] => None,
                raw => Some(integer(row, Field::TmdbId, raw)?),
            };
            Ok((movie, imdb, tmdb))
        });
        match parsed {
            Ok((movie, imdb, tmdb)) => {
                let ids = links.entry(movie).or_default();
                ids.extend(tmdb.map(|t| ExternalId::new(Namespace::Tmdb, t.to_string())));
                ids.extend(imdb);
                Ok(())
            }
            Err(r) => on_reject(r),
        }
    })?;
    Ok(links)
}

/// The genre names of ml-100k's flag columns, from `u.genre` (`name|index`).
pub fn read_genre_names(reader: impl Read) -> Result<Vec<String>, EtlError> {
    let mut names = Vec::new();
    for_each_line("u.genre", reader, b"|", false, |_, f| {
        names.push(latin1(f[0]));
        Ok(())
    })?;
    Ok(names)
}

/// Streams a layout's movie file as the pipeline's records (provider MovieLens, ids: its own,
/// then `links`); rows that cannot become records go to `on_reject`.
pub fn read_movies(
    layout: Layout,
    reader: impl Read,
    genre_names: &[String],
    links: &Links,
    mut on_record: impl FnMut(RawRecord) -> Result<(), EtlError>,
    mut on_reject: impl FnMut(Reject) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let build = |row: u64,
                 id: &[u8],
                 title: String,
                 genres: Vec<String>,
                 date: Option<String>|
     -> Result<RawRecord, Reject> {
        let id = integer(row, Field::Movie, id)?;
        let (title, year, aka) = split_title(&title);
        let mut record = RawRecord::new(row, Provider::Movielens)
            .with(Field::Title, RawValue::Text(title))
            .with(Field::Genre, RawValue::List(genres));
        if let Some(year) = year {
            record.set(Field::Year, RawValue::Number(f64::from(year)));
        }
        if let Some(aka) = aka {
            record.set(Field::OriginalTitle, RawValue::Text(aka));
        }
        if let Some(date) = date {
            record.set(Field::ReleaseDate, RawValue::Text(date));
        }
        record
            .ids
            .push(ExternalId::new(layout.namespace(), id.to_string()));
        if let Some(linked) = links.get(&id) {
            record.ids.extend(linked.iter().cloned());
        }
        Ok(record)
    };
    let mut emit = |built: Result<RawRecord, Reject>| match built {
        Ok(record) => on_record(record),
        Err(r) => on_reject(r),
    };
    match layout {
        Layout::Ml100k => for_each_line("u.item", reader, b"|", false, |row, f| {
            if let Err(r) = field_count(row, f, 5 + genre_names.len()) {
                return emit(Err(r));
            }
            let genres = genre_names
                .iter()
                .zip(&f[5..])
                .filter(|(_, flag)| **flag == b"1")
                .map(|(name, _)| name.clone())
                .collect();
            let date = (!f[2].is_empty()).then(|| latin1(f[2]));
            emit(build(row, f[0], latin1(f[1]), genres, date))
        }),
        Layout::Ml1m => for_each_line("movies.dat", reader, b"::", false, |row, f| {
            if let Err(r) = field_count(row, f, 3) {
                return emit(Err(r));
            }
            let genres = latin1(f[2]).split('|').map(str::to_owned).collect();
            emit(build(row, f[0], latin1(f[1]), genres, None))
        }),
        Layout::Latest => for_each_csv_record("movies.csv", reader, |row, fields| {
            let parsed = field_count(row, fields, 3).and_then(|()| {
                Ok((
                    utf8(row, Field::Title, fields[1])?,
                    utf8(row, Field::Genre, fields[2])?,
                ))
            });
            emit(parsed.and_then(|(title, genres)| {
                let genres = genres.split('|').map(str::to_owned).collect();
                build(row, fields[0], title, genres, None)
            }))
        }),
    }
}

/// One parsed rating row: dataset user id, dataset movie id, rating, Unix seconds.
pub type RatingRow = (i64, i64, f64, i64);

/// Streams a ratings file in `layout`'s format (`name` for messages: `u.data`, `u1.base`, …);
/// `on_rating` sees each good row, `on_reject` each bad one.
pub fn read_ratings(
    layout: Layout,
    name: &str,
    reader: impl Read,
    mut on_rating: impl FnMut(u64, RatingRow) -> Result<(), EtlError>,
    mut on_reject: impl FnMut(Reject) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let header = layout == Layout::Latest;
    for_each_line(name, reader, layout.separator(), header, |row, f| {
        let parsed = field_count(row, f, 4).and_then(|()| {
            Ok((
                integer(row, Field::User, f[0])?,
                integer(row, Field::Movie, f[1])?,
                rating(row, f[2])?,
                integer(row, Field::RatedAt, f[3])?,
            ))
        });
        match parsed {
            Ok(r) => on_rating(row, r),
            Err(r) => on_reject(r),
        }
    })
}

/// A ratings row as the reading thread hands it over, in file order.
enum Parsed {
    Rating(u64, RatingRow),
    Reject(Reject),
}

/// Rows per handover from the reading thread.
const PARSED_BATCH: usize = 8_192;

/// [`read_ratings`] on a thread of its own, handing the rows over in batches to `each` here:
/// parsing the file overlaps storing it (PostgreSQL's `COPY` of the last batch, say). A failed
/// `each` stops the reading, and its error is the one returned.
fn read_ratings_beside(
    layout: Layout,
    name: &str,
    reader: &mut (impl Read + Send),
    mut each: impl FnMut(Parsed) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    std::thread::scope(|s| {
        let (sender, batches) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(1);
        let reading = s.spawn(move || {
            let batch = std::cell::RefCell::new(Vec::with_capacity(PARSED_BATCH));
            let push = |item: Parsed| {
                let mut b = batch.borrow_mut();
                b.push(item);
                if b.len() >= PARSED_BATCH {
                    let full = std::mem::replace(&mut *b, Vec::with_capacity(PARSED_BATCH));
                    sender.send(full).map_err(|_| EtlError::LoadStopped)?;
                }
                Ok(())
            };
            let read = read_ratings(
                layout,
                name,
                reader,
                |row, r| push(Parsed::Rating(row, r)),
                |r| push(Parsed::Reject(r)),
            )?;
            sender
                .send(batch.into_inner())
                .map_err(|_| EtlError::LoadStopped)?;
            Ok(read)
        });
        let mut stored = Ok(());
        'batches: for batch in batches.iter() {
            for item in batch {
                stored = each(item);
                if stored.is_err() {
                    break 'batches;
                }
            }
        }
        drop(batches);
        let read = reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        stored.and(read)
    })
}

/// One parsed tag row: dataset user id, dataset movie id, tag, Unix seconds.
pub type TagRow = (i64, i64, String, i64);

/// Streams `tags.csv` (userId,movieId,tag,timestamp; tags may be quoted).
pub fn read_tags(
    reader: impl Read,
    mut on_tag: impl FnMut(u64, TagRow) -> Result<(), EtlError>,
    mut on_reject: impl FnMut(Reject) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    for_each_csv_record("tags.csv", reader, |row, f| {
        let parsed = field_count(row, f, 4).and_then(|()| {
            let tag = utf8(row, Field::Tag, f[2])?.trim().to_owned();
            if tag.is_empty() {
                return Err(reject(row, Field::Tag, Reason::Missing, f[2], None));
            }
            let max = Field::Tag.max_bytes();
            if tag.len() > max {
                let detail = format!("{} bytes; a tag may have {max}", tag.len());
                return Err(reject(row, Field::Tag, Reason::TooLong, f[2], Some(detail)));
            }
            Ok((
                integer(row, Field::User, f[0])?,
                integer(row, Field::Movie, f[1])?,
                tag,
                integer(row, Field::RatedAt, f[3])?,
            ))
        });
        match parsed {
            Ok(t) => on_tag(row, t),
            Err(r) => on_reject(r),
        }
    })
}

/// Calls `on_row(row, fields)` for each record of a CSV file with a header and quoting
/// (`movies.csv`, `tags.csv`); `row` counts records from 1. Returns the number of records.
fn for_each_csv_record(
    name: &str,
    reader: impl Read,
    mut on_row: impl FnMut(u64, &[&[u8]]) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let budget = Budget::default();
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(budget.wrap(reader));
    let mut record = csv::ByteRecord::new();
    let mut row = 0;
    loop {
        budget.reset();
        match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(row),
            Ok(true) => {}
            Err(e) if budget.exceeded() => {
                return Err(read_error(name, &budget, row, e.into()));
            }
            Err(e) => {
                return Err(EtlError::Csv {
                    source_name: name.to_owned(),
                    line: e.position().map_or(0, |p| p.line()),
                    message: e.to_string(),
                })
            }
        }
        row += 1;
        let fields: Vec<&[u8]> = record.iter().collect();
        on_row(row, &fields)?;
    }
}

/// Loads a MovieLens directory as one run: links, movies (through the transform, like any
/// source), then ratings and tags, all in the run's one transaction. The lineage hash covers
/// every file read; there is no raw snapshot (the dataset is a pinned, checksummed download:
/// `movierec dataset fetch`).
pub(super) fn run(
    store: &mut Store,
    data_dir: &Path,
    dir: &Path,
    policy: &RatingPolicy,
    lineage: &mut RunStart,
) -> Result<EtlOutcome, EtlError> {
    let layout = detect(dir)?;
    let dataset = dataset_name(dir);
    let mut hashes: Vec<(String, String)> = Vec::new();
    let mut pipeline = Pipeline::start(store, data_dir, lineage, policy)?;

    let links = if layout == Layout::Latest && dir.join("links.csv").is_file() {
        pipeline.set_file("links.csv")?;
        let mut reader = open(dir, "links.csv")?;
        let links = read_links(&mut reader, |r| pipeline.reject_row(vec![r]))?;
        hashes.push(("links.csv".into(), reader.finish()));
        links
    } else {
        Links::new()
    };
    let genre_names = if layout == Layout::Ml100k {
        let mut reader = open(dir, "u.genre")?;
        let names = read_genre_names(&mut reader)?;
        hashes.push(("u.genre".into(), reader.finish()));
        names
    } else {
        Vec::new()
    };

    let movies_file = layout.movies_file();
    pipeline.set_file(movies_file)?;
    let mut reader = open(dir, movies_file)?;
    let extracted = {
        let cell = std::cell::RefCell::new(&mut pipeline);
        read_movies(
            layout,
            &mut reader,
            &genre_names,
            &links,
            |record| cell.borrow_mut().push(record),
            |r| cell.borrow_mut().reject_row(vec![r]),
        )?
    };
    hashes.push((movies_file.into(), reader.finish()));
    if extracted == 0 {
        return Err(EtlError::Empty {
            source_name: dir.join(movies_file).display().to_string(),
        });
    }
    pipeline.flush()?;

    let ids = pipeline.load.movie_ids_in(layout.namespace())?;
    let movies = MovieIndex::new(
        ids.into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v))),
    );
    let mut ratings = Ratings::new(dataset, movies);
    let ratings_file = layout.ratings_file();
    pipeline.set_file(ratings_file)?;
    pipeline.records.progress.set_message("ratings");
    let mut reader = open(dir, ratings_file)?;
    read_ratings_beside(layout, ratings_file, &mut reader, |item| match item {
        Parsed::Rating(row, r) => ratings.add(&mut pipeline, row, r),
        Parsed::Reject(r) => {
            ratings.counts.read += 1;
            ratings.counts.rejected += 1;
            pipeline.reject_row(vec![r])
        }
    })?;
    ratings.flush(&mut pipeline)?;
    hashes.push((ratings_file.into(), reader.finish()));
    if ratings.counts.read == 0 {
        return Err(EtlError::Empty {
            source_name: dir.join(ratings_file).display().to_string(),
        });
    }

    if layout == Layout::Latest && dir.join("tags.csv").is_file() {
        pipeline.set_file("tags.csv")?;
        let mut reader = open(dir, "tags.csv")?;
        let cell = std::cell::RefCell::new((&mut pipeline, &mut ratings));
        read_tags(
            &mut reader,
            |row, t| {
                let (p, ratings) = &mut *cell.borrow_mut();
                ratings.tag(p, row, t)
            },
            |r| cell.borrow_mut().0.reject_row(vec![r]),
        )?;
        hashes.push(("tags.csv".into(), reader.finish()));
    }
    pipeline.load.set_rating_facts(&ratings.facts())?;
    pipeline.ratings = Some(ratings.counts);

    let manifest: String = hashes
        .iter()
        .map(|(name, sha)| format!("{sha}  {name}\n"))
        .collect();
    lineage.sha256 = Some(format!("{:x}", Sha256::digest(manifest.as_bytes())));
    pipeline.finish(data_dir, lineage, extracted)
}

/// What a rating row does to the stored rating of the same user and movie.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RatingWrite {
    /// Replaces an older rating of an earlier run.
    Updated,
    /// The stored rating is this one, or later: nothing to write.
    Unchanged,
    /// This run stored one already (a user whose rows are not contiguous); the later is kept.
    /// Carries the value it replaces, if it replaces it.
    Duplicate(Option<f64>),
}

/// The latest rating wins: a later `rated_at`, or at the same time the later row (within a run)
/// or a different value (a corrected dataset).
fn decide(stored: &StoredRating, new: &NewRating) -> RatingWrite {
    let newer = new.rated_at > stored.rated_at
        || (new.rated_at == stored.rated_at && (stored.this_run || new.rating != stored.rating));
    match (stored.this_run, newer) {
        (true, true) => RatingWrite::Duplicate(Some(stored.rating)),
        (true, false) => RatingWrite::Duplicate(None),
        (false, true) => RatingWrite::Updated,
        (false, false) => RatingWrite::Unchanged,
    }
}

/// Dataset movie id → MovieID: a direct index for the dense ids MovieLens uses, a map for any
/// beyond it.
struct MovieIndex {
    dense: Vec<Option<MovieId>>,
    sparse: HashMap<i64, MovieId>,
}

impl MovieIndex {
    const DENSE: i64 = 1 << 22;

    fn new(ids: impl IntoIterator<Item = (i64, MovieId)>) -> Self {
        let mut index = Self {
            dense: Vec::new(),
            sparse: HashMap::new(),
        };
        for (id, movie) in ids {
            match usize::try_from(id) {
                Ok(i) if id < Self::DENSE => {
                    if index.dense.len() <= i {
                        index.dense.resize(i + 1, None);
                    }
                    index.dense[i] = Some(movie);
                }
                _ => {
                    index.sparse.insert(id, movie);
                }
            }
        }
        index
    }

    fn get(&self, id: i64) -> Option<MovieId> {
        match usize::try_from(id) {
            Ok(i) if id < Self::DENSE => self.dense.get(i).copied().flatten(),
            _ => self.sparse.get(&id).copied(),
        }
    }
}

/// Rating rows held before they are sorted by user and stored: bounds memory (32 MB) whatever
/// the file's size.
const RATINGS_BUFFER: usize = 1 << 20;

/// The ratings half of a MovieLens load. Rows are buffered (up to [`RATINGS_BUFFER`]), sorted
/// by user and movie, and stored a user at a time: a duplicate within the buffer is resolved in
/// memory, a user new to the database goes in many rows per statement, a known user's stored
/// ratings are read in one range scan and only changes written. MovieLens files are sorted by
/// user, so a user's rows rarely span two buffers; ml-100k's `u.data` is not, and fits in one.
struct Ratings {
    dataset: String,
    movies: MovieIndex,
    /// Dataset user id → internal id, and whether the user has nothing stored yet.
    users: HashMap<i64, (UserKey, bool)>,
    /// (user, movie, rated_at, row, rating) not stored yet.
    buffer: Vec<(i64, MovieId, i64, u64, f64)>,
    /// Per MovieID: sum and count of the ratings this run leaves in the store.
    facts: Vec<(f64, u64)>,
    counts: RatingsCounts,
}

impl Ratings {
    fn new(dataset: String, movies: MovieIndex) -> Self {
        Self {
            dataset,
            movies,
            users: HashMap::new(),
            buffer: Vec::new(),
            facts: Vec::new(),
            counts: RatingsCounts::default(),
        }
    }

    fn movie(&self, row: u64, id: i64) -> Result<MovieId, Reject> {
        self.movies.get(id).ok_or_else(|| {
            Reject::new(
                row,
                Field::Movie,
                Reason::UnknownMovie,
                Some(&id.to_string()),
                Some("not in the dataset's movie list (or rejected from it)".into()),
            )
        })
    }

    fn user(&mut self, p: &mut Pipeline<'_>, id: i64) -> Result<(UserKey, bool), EtlError> {
        if let Some(known) = self.users.get(&id) {
            return Ok(*known);
        }
        let (key, new) = p.load.user(&self.dataset, id)?;
        self.counts.new_users += u64::from(new);
        self.users.insert(id, (key, new));
        Ok((key, new))
    }

    fn fact(&mut self, movie: MovieId) -> &mut (f64, u64) {
        let i = usize::try_from(movie.0).unwrap_or(0);
        if self.facts.len() <= i {
            self.facts.resize(i + 1, (0.0, 0));
        }
        &mut self.facts[i]
    }

    /// Per movie with ratings in this run: (MovieID, sum, count).
    fn facts(&self) -> HashMap<MovieId, (f64, u64)> {
        self.facts
            .iter()
            .enumerate()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(i, f)| (MovieId(i as i64), *f))
            .collect()
    }

    fn add(&mut self, p: &mut Pipeline<'_>, row: u64, r: RatingRow) -> Result<(), EtlError> {
        let (user, movie, rating, rated_at) = r;
        self.counts.read += 1;
        let movie = match self.movie(row, movie) {
            Ok(m) => m,
            Err(reject) => {
                self.counts.rejected += 1;
                return p.reject_row(vec![reject]);
            }
        };
        self.buffer.push((user, movie, rated_at, row, rating));
        if self.buffer.len() >= RATINGS_BUFFER {
            self.flush(p)?;
        }
        if self.counts.read % 65_536 == 0 {
            p.records.progress.set_position(self.counts.read);
        }
        Ok(())
    }

    /// Stores the buffer a user at a time: per movie the latest rating (then the later row).
    fn flush(&mut self, p: &mut Pipeline<'_>) -> Result<(), EtlError> {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.sort_unstable_by_key(|&(user, movie, at, row, _)| (user, movie, at, row));
        let mut latest: Vec<NewRating> = Vec::new();
        for (i, &(user, movie, rated_at, _, rating)) in buffer.iter().enumerate() {
            let next = buffer.get(i + 1);
            if next.is_some_and(|n| (n.0, n.1) == (user, movie)) {
                self.counts.duplicates += 1;
                continue;
            }
            latest.push(NewRating {
                movie,
                rating,
                rated_at,
            });
            if next.is_none_or(|n| n.0 != user) {
                self.store_user(p, user, &latest)?;
                latest.clear();
            }
        }
        buffer.clear();
        self.buffer = buffer;
        Ok(())
    }

    /// Stores one user's ratings (sorted by movie, one per movie).
    fn store_user(
        &mut self,
        p: &mut Pipeline<'_>,
        user: i64,
        latest: &[NewRating],
    ) -> Result<(), EtlError> {
        let (key, fresh) = self.user(p, user)?;
        if fresh {
            p.load.insert_new_ratings(key, latest)?;
            self.counts.inserted += latest.len() as u64;
            for r in latest {
                let fact = self.fact(r.movie);
                *fact = (fact.0 + r.rating, fact.1 + 1);
            }
            // Rows of this user later in the file may meet these.
            self.users.insert(user, (key, false));
            return Ok(());
        }
        let stored = p.load.stored_ratings(key)?;
        let mut stored = stored.iter().peekable();
        let mut new = Vec::new();
        for r in latest {
            while stored.next_if(|s| s.movie < r.movie).is_some() {}
            let Some(s) = stored.next_if(|s| s.movie == r.movie) else {
                new.push(*r);
                continue;
            };
            let write = decide(s, r);
            if matches!(
                write,
                RatingWrite::Updated | RatingWrite::Duplicate(Some(_))
            ) {
                p.load.update_rating(key, r)?;
            }
            match write {
                RatingWrite::Updated => self.counts.updated += 1,
                RatingWrite::Unchanged => self.counts.unchanged += 1,
                RatingWrite::Duplicate(_) => self.counts.duplicates += 1,
            }
            let fact = self.fact(r.movie);
            match write {
                RatingWrite::Updated => *fact = (fact.0 + r.rating, fact.1 + 1),
                RatingWrite::Unchanged => *fact = (fact.0 + s.rating, fact.1 + 1),
                RatingWrite::Duplicate(replaced) => {
                    fact.0 += replaced.map_or(0.0, |old| r.rating - old);
                }
            }
        }
        p.load.insert_new_ratings(key, &new)?;
        self.counts.inserted += new.len() as u64;
        for r in &new {
            let fact = self.fact(r.movie);
            *fact = (fact.0 + r.rating, fact.1 + 1);
        }
        Ok(())
    }

    fn tag(&mut self, p: &mut Pipeline<'_>, row: u64, t: TagRow) -> Result<(), EtlError> {
        let (user, movie, tag, tagged_at) = t;
        self.counts.tags_read += 1;
        let movie = match self.movie(row, movie) {
            Ok(m) => m,
            Err(reject) => return p.reject_row(vec![reject]),
        };
        let (key, _) = self.user(p, user)?;
        if p.load.put_tag(key, movie, &tag, tagged_at)? {
            self.counts.tags_inserted += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_their_year_and_get_their_article_back() {
        assert_eq!(
            split_title("Matrix, The (1999)"),
            ("The Matrix".into(), Some(1999), None)
        );
        assert_eq!(
            split_title("City of Lost Children, The (Cité des enfants perdus, La) (1995)"),
            (
                "The City of Lost Children".into(),
                Some(1995),
                Some("La Cité des enfants perdus".into())
            )
        );
        assert_eq!(
            split_title("Toy Story (1995)"),
            ("Toy Story".into(), Some(1995), None)
        );
        assert_eq!(split_title("Babylon 5"), ("Babylon 5".into(), None, None));
        assert_eq!(
            split_title("Homme, L' (2000)"),
            ("L'Homme".into(), Some(2000), None)
        );
        assert_eq!(
            split_title("Seven (a.k.a. Se7en) (1995)"),
            ("Seven".into(), Some(1995), Some("Se7en".into()))
        );
    }

    #[test]
    fn lines_split_on_any_separator_and_skip_the_header_and_blanks() {
        let mut rows = Vec::new();
        for_each_line(
            "x",
            &b"a::b\r\n1::2::3\n\n4::5\n"[..],
            b"::",
            true,
            |row, f| {
                rows.push((row, f.iter().map(|x| x.to_vec()).collect::<Vec<_>>()));
                Ok(())
            },
        )
        .expect("lines");
        assert_eq!(
            rows,
            [
                (1, vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]),
                (2, vec![b"4".to_vec(), b"5".to_vec()])
            ]
        );
    }

    #[test]
    fn ratings_reject_bad_rows_with_field_and_reason_and_keep_the_rest() {
        let input = b"userId,movieId,rating,timestamp\n1,10,4.5,100\n1,11,6,100\n1,x,3,100\n2,10,3\n2,10,0.25,1\n\xff1,10,4,1\n";
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        read_ratings(
            Layout::Latest,
            "ratings.csv",
            &input[..],
            |row, r| {
                good.push((row, r));
                Ok(())
            },
            |r| {
                bad.push((r.source_row, r.field, r.reason));
                Ok(())
            },
        )
        .expect("read");
        assert_eq!(good, [(1, (1, 10, 4.5, 100))]);
        assert_eq!(
            bad,
            [
                (2, Field::Rating, Reason::OutOfRange),
                (3, Field::Movie, Reason::NotANumber),
                (4, Field::Record, Reason::WrongFieldCount),
                (5, Field::Rating, Reason::OutOfRange),
                (6, Field::User, Reason::InvalidEncoding),
            ]
        );
    }

    #[test]
    fn a_line_past_the_record_limit_fails_the_read_naming_it_and_a_long_tag_is_too_long() {
        let mut input = b"userId,movieId,rating,timestamp\n1,10,4.5,100\n".to_vec();
        input.extend(std::iter::repeat_n(
            b'9',
            3 * crate::domain::record::MAX_RECORD_BYTES,
        ));
        let err = read_ratings(
            Layout::Latest,
            "ratings.csv",
            &input[..],
            |_, _| Ok(()),
            |_| Ok(()),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ratings.csv: record 2 is longer than 1048576 bytes, the longest a record may be"
        );
        let long = "t".repeat(Field::Tag.max_bytes() + 1);
        let tags = format!("userId,movieId,tag,timestamp\n1,10,{long},5\n1,10,fine,5\n");
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        read_tags(
            tags.as_bytes(),
            |row, t| {
                good.push((row, t.2));
                Ok(())
            },
            |r| {
                bad.push((r.source_row, r.field, r.reason, r.raw_bytes));
                Ok(())
            },
        )
        .expect("read");
        assert_eq!(good, [(2, "fine".to_owned())]);
        assert_eq!(bad, [(1, Field::Tag, Reason::TooLong, Some(1001))]);
    }

    #[test]
    fn latest_movies_become_records_with_links_and_bad_encoding_is_a_reject() {
        let mut links = Links::new();
        links.insert(
            2571,
            vec![
                ExternalId::new(Namespace::Tmdb, "603"),
                ExternalId::new(Namespace::Imdb, "tt0133093"),
            ],
        );
        let input = b"movieId,title,genres\n2571,\"Matrix, The (1999)\",Action|Sci-Fi|Thriller\n7,Caf\xe9 (2001),Drama\n";
        let (mut records, mut rejects) = (Vec::new(), Vec::new());
        read_movies(
            Layout::Latest,
            &input[..],
            &[],
            &links,
            |r| {
                records.push(r);
                Ok(())
            },
            |r| {
                rejects.push(r);
                Ok(())
            },
        )
        .expect("read");
        assert_eq!(records.len(), 1);
        let m = &records[0];
        assert_eq!(m.get(Field::Title), &RawValue::Text("The Matrix".into()));
        assert_eq!(m.get(Field::Year), &RawValue::Number(1999.0));
        assert_eq!(m.ids[0], ExternalId::new(Namespace::Movielens, "2571"));
        assert_eq!(m.ids.len(), 3);
        assert_eq!(
            (rejects[0].source_row, rejects[0].field, rejects[0].reason),
            (2, Field::Title, Reason::InvalidEncoding)
        );
    }

    #[test]
    fn ml100k_items_are_latin1_with_genre_flags() {
        let names: Vec<String> = ["unknown", "Action", "Comedy"].map(String::from).into();
        let input = b"1|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x|0|1|1\n2|Short|x\n";
        let (mut records, mut rejects) = (Vec::new(), Vec::new());
        read_movies(
            Layout::Ml100k,
            &input[..],
            &names,
            &Links::new(),
            |r| {
                records.push(r);
                Ok(())
            },
            |r| {
                rejects.push(r);
                Ok(())
            },
        )
        .expect("read");
        let m = &records[0];
        assert_eq!(
            m.get(Field::Title),
            &RawValue::Text("Les Misérables".into())
        );
        assert_eq!(
            m.get(Field::ReleaseDate),
            &RawValue::Text("01-Jan-1995".into())
        );
        assert_eq!(
            m.get(Field::Genre),
            &RawValue::List(vec!["Action".into(), "Comedy".into()])
        );
        assert_eq!(m.ids, [ExternalId::new(Namespace::Ml100k, "1")]);
        assert_eq!(rejects[0].reason, Reason::WrongFieldCount);
    }
}
