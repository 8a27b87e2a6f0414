//! TMDB v3: the requests the ingest makes and the parts of the replies it reads. Pure: no I/O.

use crate::domain::ingest::ResponseKind;
use crate::domain::record::{Field, RawRecord, RawValue};
use crate::domain::source::Provider;
use crate::domain::window::Window;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// `/discover/movie` serves at most this many pages (20 results each) per query.
pub const PAGE_CAP: u32 = 500;
/// `/movie/changes` accepts windows of at most this many days.
pub const CHANGES_MAX_DAYS: u64 = 14;
/// Cast members kept per movie from `credits`.
pub const TOP_CAST: usize = 5;

/// One API request: a path below the base URL and its query, never with credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub kind: ResponseKind,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
}

impl Request {
    pub fn genres() -> Self {
        Self {
            kind: ResponseKind::Genres,
            path: "/genre/movie/list".to_owned(),
            query: vec![("language", "en-US".to_owned())],
        }
    }

    /// One page of movies released in `window`, oldest first (ties by TMDB's own order).
    pub fn discover(window: Window, page: u32) -> Self {
        Self {
            kind: ResponseKind::Discover,
            path: "/discover/movie".to_owned(),
            query: vec![
                ("include_adult", "false".to_owned()),
                ("include_video", "false".to_owned()),
                ("language", "en-US".to_owned()),
                ("sort_by", "primary_release_date.asc".to_owned()),
                ("primary_release_date.gte", window.from.to_string()),
                ("primary_release_date.lte", window.to.to_string()),
                ("page", page.to_string()),
            ],
        }
    }

    /// One page of ids of movies changed in `window` (at most [`CHANGES_MAX_DAYS`] days).
    pub fn changes(window: Window, page: u32) -> Self {
        Self {
            kind: ResponseKind::Changes,
            path: "/movie/changes".to_owned(),
            query: vec![
                ("start_date", window.from.to_string()),
                ("end_date", window.to.to_string()),
                ("page", page.to_string()),
            ],
        }
    }

    /// Details with keywords and credits in one request.
    pub fn details(tmdb_id: i64) -> Self {
        Self {
            kind: ResponseKind::Details,
            path: format!("/movie/{tmdb_id}"),
            query: vec![
                ("language", "en-US".to_owned()),
                ("append_to_response", "keywords,credits".to_owned()),
            ],
        }
    }

    /// The full URL below `base` (which has no trailing slash). Credentials are added separately,
    /// by the client, so this string is safe to log and store.
    pub fn url(&self, base: &str) -> String {
        let mut url = format!("{base}{}", self.path);
        if !self.query.is_empty() {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            url.push('?');
            url.push_str(&query);
        }
        url
    }
}

/// The envelope of every paged TMDB list.
#[derive(Debug, Clone, Deserialize)]
pub struct ListPage<T> {
    pub page: u32,
    pub total_pages: u32,
    pub results: Vec<T>,
}

/// An entry of a paged list: only the id is needed while ingesting.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Entry {
    pub id: i64,
}

/// Checks a successful body has the shape its request expects. A body that parses as JSON but
/// lacks what the ingest needs is treated like malformed JSON.
pub fn check_shape(kind: ResponseKind, body: &[u8]) -> Result<(), serde_json::Error> {
    #[derive(Deserialize)]
    struct Genres {
        #[allow(dead_code)]
        genres: Vec<Genre>,
    }
    match kind {
        ResponseKind::Genres => serde_json::from_slice::<Genres>(body).map(drop),
        ResponseKind::Discover | ResponseKind::Changes => {
            serde_json::from_slice::<ListPage<Entry>>(body).map(drop)
        }
        ResponseKind::Details => serde_json::from_slice::<Entry>(body).map(drop),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Genre {
    pub id: i64,
    pub name: String,
}

/// What is known of one movie, built from every response about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovieRecord {
    pub tmdb_id: i64,
    pub imdb_id: Option<String>,
    pub title: Value,
    pub release_date: Value,
    pub vote_average: Value,
    pub vote_count: Value,
    pub genres: Vec<Genre>,
    pub directors: Vec<String>,
    pub writers: Vec<String>,
    pub original_language: Option<String>,
    pub original_title: Option<String>,
    pub runtime: Option<u32>,
    pub keywords: Vec<String>,
    /// In billing order.
    pub cast: Vec<String>,
    pub overview: Option<String>,
    pub popularity: Option<f64>,
}

impl MovieRecord {
    /// The ETL's input record, values exactly as TMDB sent them; `row` is its 1-based position.
    pub fn into_raw(self, row: u64) -> RawRecord {
        let text = |v: Option<String>| v.map_or(RawValue::Missing, RawValue::Text);
        let list = |v: Vec<String>| RawValue::List(v);
        RawRecord::new(row, Provider::Tmdb)
            .with(Field::TmdbId, RawValue::Number(self.tmdb_id as f64))
            .with(Field::ImdbId, text(self.imdb_id))
            .with(Field::Title, RawValue::from(self.title))
            .with(Field::ReleaseDate, RawValue::from(self.release_date))
            .with(Field::Rating, RawValue::from(self.vote_average))
            .with(Field::Votes, RawValue::from(self.vote_count))
            .with(
                Field::Genre,
                list(self.genres.into_iter().map(|g| g.name).collect()),
            )
            .with(Field::Director, list(self.directors))
            .with(Field::Writer, list(self.writers))
            .with(Field::Language, text(self.original_language))
            .with(Field::OriginalTitle, text(self.original_title))
            .with(
                Field::Runtime,
                self.runtime
                    .map_or(RawValue::Missing, |r| RawValue::Number(f64::from(r))),
            )
            .with(Field::Keywords, list(self.keywords))
            .with(Field::Cast, list(self.cast))
            .with(Field::Overview, text(self.overview))
            .with(
                Field::Popularity,
                self.popularity.map_or(RawValue::Missing, RawValue::Number),
            )
    }
}

/// Folds successful responses, in the order they were received, into one record per movie.
#[derive(Debug, Default)]
pub struct Assembler {
    genre_names: HashMap<i64, String>,
    movies: BTreeMap<i64, MovieRecord>,
    /// Discover results whose genre ids wait for the genre list.
    genre_ids: HashMap<i64, Vec<i64>>,
    /// Movies whose details are in: fresher and complete, so summaries never overwrite them.
    detailed: HashSet<i64>,
}

impl Assembler {
    /// Adds one successful body. Bodies of the wrong shape were rejected when fetched, so parse
    /// errors here mean a raw file was edited: they are returned, not skipped.
    pub fn add(&mut self, kind: ResponseKind, body: &[u8]) -> Result<(), serde_json::Error> {
        match kind {
            ResponseKind::Genres => {
                #[derive(Deserialize)]
                struct Genres {
                    genres: Vec<Genre>,
                }
                let list: Genres = serde_json::from_slice(body)?;
                self.genre_names
                    .extend(list.genres.into_iter().map(|g| (g.id, g.name)));
            }
            ResponseKind::Discover => {
                let page: ListPage<Value> = serde_json::from_slice(body)?;
                for result in page.results {
                    let summary: DiscoverResult = serde_json::from_value(result)?;
                    self.add_summary(summary);
                }
            }
            ResponseKind::Details => self.add_details(serde_json::from_slice(body)?),
            ResponseKind::Changes => {}
        }
        Ok(())
    }

    fn add_summary(&mut self, s: DiscoverResult) {
        if self.detailed.contains(&s.id) {
            return;
        }
        let record = self.movies.entry(s.id).or_insert_with(|| MovieRecord {
            tmdb_id: s.id,
            ..MovieRecord::default()
        });
        record.title = s.core.title;
        record.release_date = s.core.release_date;
        record.vote_average = s.core.vote_average;
        record.vote_count = s.core.vote_count;
        record.overview = s.core.overview;
        record.popularity = s.core.popularity;
        record.original_language = s.core.original_language;
        record.original_title = s.core.original_title;
        self.genre_ids.insert(s.id, s.genre_ids);
    }

    fn add_details(&mut self, d: Details) {
        self.genre_ids.remove(&d.id);
        self.detailed.insert(d.id);
        let crew = |jobs: &[&str]| -> Vec<String> {
            d.credits
                .crew
                .iter()
                .filter(|c| c.job.as_deref().is_some_and(|j| jobs.contains(&j)))
                .filter_map(|c| c.name.clone())
                .collect()
        };
        let directors = crew(&["Director"]);
        let writers = crew(&["Screenplay", "Writer"]);
        let mut cast = d.credits.cast;
        cast.sort_by_key(|c| c.order.unwrap_or(u32::MAX));
        self.movies.insert(
            d.id,
            MovieRecord {
                tmdb_id: d.id,
                imdb_id: d.imdb_id,
                overview: d.core.overview,
                popularity: d.core.popularity,
                title: d.core.title,
                release_date: d.core.release_date,
                vote_average: d.core.vote_average,
                vote_count: d.core.vote_count,
                original_language: d.core.original_language,
                original_title: d.core.original_title,
                genres: d.genres,
                directors,
                writers,
                runtime: d.runtime,
                keywords: d.keywords.keywords.into_iter().map(|k| k.name).collect(),
                cast: cast
                    .into_iter()
                    .filter_map(|c| c.name)
                    .take(TOP_CAST)
                    .collect(),
            },
        );
    }

    /// The records, by TMDB id, so the same responses always give the same input.
    pub fn finish(mut self) -> Vec<MovieRecord> {
        for (id, ids) in self.genre_ids {
            if let Some(record) = self.movies.get_mut(&id) {
                record.genres = ids
                    .into_iter()
                    .filter_map(|gid| {
                        self.genre_names.get(&gid).map(|name| Genre {
                            id: gid,
                            name: name.clone(),
                        })
                    })
                    .collect();
            }
        }
        self.movies.into_values().collect()
    }
}

/// What list results and details both carry. Values stay JSON so the ETL sees them exactly as
/// TMDB sent them.
#[derive(Debug, Deserialize)]
struct Core {
    #[serde(default)]
    title: Value,
    #[serde(default)]
    release_date: Value,
    #[serde(default)]
    vote_average: Value,
    #[serde(default)]
    vote_count: Value,
    #[serde(default)]
    overview: Option<String>,
    #[serde(default)]
    popularity: Option<f64>,
    #[serde(default)]
    original_language: Option<String>,
    #[serde(default)]
    original_title: Option<String>,
}

/// A `/discover/movie` result.
#[derive(Debug, Deserialize)]
struct DiscoverResult {
    id: i64,
    #[serde(flatten)]
    core: Core,
    #[serde(default)]
    genre_ids: Vec<i64>,
}

/// `/movie/{id}?append_to_response=keywords,credits`.
#[derive(Debug, Deserialize)]
struct Details {
    id: i64,
    #[serde(default)]
    imdb_id: Option<String>,
    #[serde(flatten)]
    core: Core,
    #[serde(default)]
    genres: Vec<Genre>,
    #[serde(default)]
    runtime: Option<u32>,
    #[serde(default)]
    keywords: Keywords,
    #[serde(default)]
    credits: Credits,
}

#[derive(Debug, Default, Deserialize)]
struct Keywords {
    #[serde(default)]
    keywords: Vec<Genre>,
}

#[derive(Debug, Default, Deserialize)]
struct Credits {
    #[serde(default)]
    cast: Vec<Person>,
    #[serde(default)]
    crew: Vec<Person>,
}

#[derive(Debug, Deserialize)]
struct Person {
    name: Option<String>,
    order: Option<u32>,
    job: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn urls_carry_the_window_and_page_but_no_credentials() {
        let w = Window::new(
            NaiveDate::from_ymd_opt(2001, 2, 3).expect("date"),
            NaiveDate::from_ymd_opt(2001, 3, 4).expect("date"),
        )
        .expect("window");
        let url = Request::discover(w, 7).url("http://h/3");
        assert!(url.starts_with("http://h/3/discover/movie?"), "{url}");
        assert!(url.contains("primary_release_date.gte=2001-02-03"), "{url}");
        assert!(url.contains("primary_release_date.lte=2001-03-04"), "{url}");
        assert!(url.contains("page=7"), "{url}");
        assert!(!url.contains("api_key"), "{url}");
        assert_eq!(
            Request::details(42).url("http://h/3"),
            "http://h/3/movie/42?language=en-US&append_to_response=keywords%2Ccredits"
        );
    }

    #[test]
    fn shapes_are_checked() {
        assert!(check_shape(
            ResponseKind::Discover,
            br#"{"page":1,"total_pages":3,"results":[{"id":5}]}"#
        )
        .is_ok());
        assert!(check_shape(ResponseKind::Discover, br#"{"page":1,"results":[]}"#).is_err());
        assert!(check_shape(ResponseKind::Discover, br#"{"page":1,"total_pages":3,"res"#).is_err());
        assert!(check_shape(ResponseKind::Details, br#"{"id":5,"title":"x"}"#).is_ok());
        assert!(check_shape(
            ResponseKind::Genres,
            br#"{"genres":[{"id":1,"name":"Drama"}]}"#
        )
        .is_ok());
    }

    #[test]
    fn details_win_over_summaries_in_any_order_and_genres_get_names() {
        let genres = br#"{"genres":[{"id":18,"name":"Drama"},{"id":35,"name":"Comedy"}]}"#;
        let page = br#"{"page":1,"total_pages":1,"results":[
            {"id":2,"title":"Two","release_date":"2001-01-01","vote_average":6.5,"vote_count":10,"genre_ids":[35,18]},
            {"id":1,"title":"One","release_date":"2000-01-01","vote_average":7,"vote_count":3,"genre_ids":[18]}]}"#;
        let details = br#"{"id":2,"title":"Two (detailed)","release_date":"2001-01-01","vote_average":6.6,
            "vote_count":11,"genres":[{"id":35,"name":"Comedy"}],"runtime":101,
            "keywords":{"keywords":[{"id":9,"name":"heist"}]},
            "credits":{"cast":[{"name":"B","order":1},{"name":"A","order":0}],"crew":[{"name":"D","job":"Director"}]}}"#;
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut a = Assembler::default();
            for i in order {
                let (kind, body): (ResponseKind, &[u8]) = [
                    (ResponseKind::Genres, &genres[..]),
                    (ResponseKind::Discover, &page[..]),
                    (ResponseKind::Details, &details[..]),
                ][i];
                a.add(kind, body).expect("add");
            }
            let records = a.finish();
            assert_eq!(records.len(), 2);
            assert_eq!(records[0].tmdb_id, 1);
            assert_eq!(records[0].genres.len(), 1);
            assert_eq!(records[0].genres[0].name, "Drama");
            assert_eq!(records[1].title, Value::from("Two (detailed)"));
            assert_eq!(records[1].runtime, Some(101));
            assert_eq!(records[1].cast, ["A", "B"]);
            assert_eq!(records[1].directors, ["D"]);
            assert_eq!(records[1].keywords, ["heist"]);
        }
    }

    #[test]
    fn a_record_hands_every_assembled_field_to_the_etl_as_typed_values() {
        let mut a = Assembler::default();
        let details =
            br#"{"id":7,"imdb_id":"tt0000007","title":"Seven","release_date":"1995-09-22",
            "vote_average":8.3,"vote_count":20000,"popularity":61.5,"overview":"Two detectives.",
            "genres":[{"id":80,"name":"Crime"},{"id":18,"name":"Drama"}],"runtime":127,
            "keywords":{"keywords":[{"id":1,"name":"serial killer"}]},
            "credits":{"cast":[{"name":"Morgan Freeman","order":1},{"name":"Brad Pitt","order":0}],
                       "crew":[{"name":"David Fincher","job":"Director"},
                               {"name":"Andrew Kevin Walker","job":"Writer"}]},
            "original_language":"en"}"#;
        a.add(ResponseKind::Details, details).expect("add");
        let record = a.finish().remove(0).into_raw(1);
        let list = |items: &[&str]| RawValue::List(items.iter().map(|s| s.to_string()).collect());
        assert_eq!(record.row, 1);
        assert_eq!(record.get(Field::TmdbId), &RawValue::Number(7.0));
        assert_eq!(
            record.get(Field::ImdbId),
            &RawValue::Text("tt0000007".into())
        );
        assert_eq!(record.get(Field::Title), &RawValue::Text("Seven".into()));
        assert_eq!(record.get(Field::Rating), &RawValue::Number(8.3));
        assert_eq!(record.get(Field::Genre), &list(&["Crime", "Drama"]));
        assert_eq!(record.get(Field::Keywords), &list(&["serial killer"]));
        assert_eq!(
            record.get(Field::Cast),
            &list(&["Brad Pitt", "Morgan Freeman"])
        );
        assert_eq!(record.get(Field::Director), &list(&["David Fincher"]));
        assert_eq!(record.get(Field::Writer), &list(&["Andrew Kevin Walker"]));
        assert_eq!(record.get(Field::Language), &RawValue::Text("en".into()));
        assert_eq!(record.provider, Provider::Tmdb);
        assert_eq!(record.get(Field::Runtime), &RawValue::Number(127.0));
        assert_eq!(
            record.get(Field::Overview),
            &RawValue::Text("Two detectives.".into())
        );
        assert_eq!(record.get(Field::Popularity), &RawValue::Number(61.5));
    }
}
