//! `movierec dataset fetch`: MovieLens datasets on demand, the way Surprise, implicit and LensKit
//! fetch them — download the official zip (the URL can be overridden, e.g. for a mirror), check
//! its SHA-256, unpack it. Nothing half-done is ever left where a load would find it: the zip
//! downloads to a hidden part file and unpacks to a hidden directory, and only a verified,
//! completely unpacked dataset is renamed to `<dir>/<name>`.

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A dataset this command knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset {
    pub name: &'static str,
    pub url: &'static str,
    /// The zip's SHA-256, when it has been verified against GroupLens's file. None of them could
    /// be from the machines this was written on (no access to files.grouplens.org): until one is
    /// pinned here, pass `--sha256`, or the first download's hash is recorded and later fetches
    /// are checked against it (trust on first use).
    pub sha256: Option<&'static str>,
    pub size: &'static str,
    /// The most a download may be, in bytes: the zip's size with a margin (`--max-bytes`
    /// overrides it); a larger one is refused as it arrives, before it fills the disk.
    pub max_bytes: u64,
    /// The most the archive may unpack to, in bytes (a zip bomb is refused).
    pub max_unpacked: u64,
    /// Files the unpacked `<name>/` must have: an archive without them is not this dataset.
    pub files: &'static [&'static str],
}

const MIB: u64 = 1 << 20;

/// The MovieLens datasets (<https://grouplens.org/datasets/movielens/>).
pub const DATASETS: [Dataset; 5] = [
    Dataset {
        name: "ml-100k",
        url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        sha256: None,
        size: "5 MB",
        max_bytes: 16 * MIB,
        max_unpacked: 64 * MIB,
        files: &["u.data", "u.item", "u.genre"],
    },
    Dataset {
        name: "ml-1m",
        url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        sha256: None,
        size: "6 MB",
        max_bytes: 16 * MIB,
        max_unpacked: 64 * MIB,
        files: &["movies.dat", "ratings.dat"],
    },
    Dataset {
        name: "ml-latest-small",
        url: "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        sha256: None,
        size: "1 MB",
        max_bytes: 8 * MIB,
        max_unpacked: 32 * MIB,
        files: &["movies.csv", "ratings.csv", "links.csv"],
    },
    Dataset {
        name: "ml-25m",
        url: "https://files.grouplens.org/datasets/movielens/ml-25m.zip",
        sha256: None,
        size: "250 MB",
        max_bytes: 400 * MIB,
        max_unpacked: 2048 * MIB,
        files: &["movies.csv", "ratings.csv", "links.csv"],
    },
    Dataset {
        name: "ml-32m",
        url: "https://files.grouplens.org/datasets/movielens/ml-32m.zip",
        sha256: None,
        size: "239 MB",
        max_bytes: 400 * MIB,
        max_unpacked: 2048 * MIB,
        files: &["movies.csv", "ratings.csv", "links.csv"],
    },
];

impl Dataset {
    pub fn named(name: &str) -> Result<Dataset, String> {
        DATASETS
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = DATASETS.iter().map(|d| d.name).collect();
                format!("{name:?} is not a dataset; known: {}", known.join(", "))
            })
    }
}

/// The file beside an unpacked dataset that records where it came from and its zip's hash.
pub const RECORD: &str = "DOWNLOAD.json";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{dir}: no such directory")]
    NoDirectory { dir: PathBuf },
    #[error("{url}: {message}")]
    Download { url: String, message: String },
    #[error(
        "{url}: the download's SHA-256 is {actual}, not the expected {expected}; nothing was kept"
    )]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{url}: not a complete zip archive ({message}); nothing was kept")]
    Archive { url: String, message: String },
    #[error(
        "{url}: entry {entry:?} would be written outside the dataset's directory; nothing was kept"
    )]
    UnsafeEntry { url: String, entry: String },
    #[error("{url}: {what}; nothing was kept")]
    TooLarge { url: String, what: String },
    #[error("{url}: the archive has no {name}/ directory with the dataset's files (missing: {missing}); nothing was kept")]
    Layout {
        url: String,
        name: String,
        missing: String,
    },
    #[error("--sha256 {given:?} is not a SHA-256 (64 hexadecimal digits)")]
    BadChecksum { given: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fetched {
    pub dir: PathBuf,
    pub sha256: String,
    /// Whether the hash was checked against a pinned, given or recorded one.
    pub verified: bool,
    /// The dataset was already there; nothing was downloaded.
    pub already_present: bool,
}

/// Options of one fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub url: Option<String>,
    pub sha256: Option<String>,
    /// Download again even if the dataset is there.
    pub force: bool,
    /// The most bytes to download (default: the dataset's [`Dataset::max_bytes`]).
    pub max_bytes: Option<u64>,
    /// The most the whole download may take.
    pub timeout: Duration,
}

/// The most entries an archive may have (MovieLens zips have at most a couple of dozen).
const MAX_ENTRIES: usize = 200;

/// The most an entry may expand: text compresses about 3–10×; a zip bomb, hundreds of times.
const MAX_RATIO: u64 = 100;

/// How long the server may stay silent mid-download.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A SHA-256 as `--sha256` takes it: 64 hexadecimal digits, any case.
pub fn parse_sha256(text: &str) -> Result<String, FetchError> {
    let hex = text.trim().to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(FetchError::BadChecksum {
            given: text.chars().take(80).collect(),
        })
    }
}

/// Downloads, checks and unpacks `dataset` into `<dir>/<name>`.
pub async fn fetch(
    dataset: Dataset,
    dir: &Path,
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    if !dir.is_dir() {
        return Err(FetchError::NoDirectory {
            dir: dir.to_owned(),
        });
    }
    let target = dir.join(dataset.name);
    let recorded = read_record(&target);
    if target.is_dir() && !options.force {
        return Ok(Fetched {
            dir: target,
            sha256: recorded.unwrap_or_default(),
            verified: false,
            already_present: true,
        });
    }
    let given = options.sha256.as_deref().map(parse_sha256).transpose()?;
    let expected = given
        .or_else(|| dataset.sha256.map(str::to_owned))
        .or(recorded)
        .map(|s| s.trim().to_ascii_lowercase());
    let url = options
        .url
        .clone()
        .unwrap_or_else(|| dataset.url.to_owned());
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| FetchError::Io { path, source }
    };
    let mut part =
        crate::files::temp_file(dir, &format!("{}.zip", dataset.name), ".part").map_err(io(dir))?;
    let limit = options.max_bytes.unwrap_or(dataset.max_bytes);
    let actual = download(&url, part.as_file_mut(), limit, options.timeout).await?;
    if let Some(expected) = &expected {
        if *expected != actual {
            return Err(FetchError::Checksum {
                url,
                expected: expected.clone(),
                actual,
            });
        }
    }
    let staging = crate::files::temp_dir(dir, dataset.name).map_err(io(dir))?;
    unpack(
        part.as_file_mut(),
        staging.path(),
        &url,
        dataset.max_unpacked,
    )?;
    let unpacked = staging.path().join(dataset.name);
    let missing: Vec<&str> = dataset
        .files
        .iter()
        .copied()
        .filter(|f| !unpacked.join(f).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(FetchError::Layout {
            url,
            name: dataset.name.to_owned(),
            missing: missing.join(", "),
        });
    }
    let record = serde_json::json!({ "dataset": dataset.name, "url": url, "sha256": actual });
    std::fs::write(unpacked.join(RECORD), format!("{record:#}\n")).map_err(io(&unpacked))?;
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    std::fs::rename(&unpacked, &target).map_err(io(&target))?;
    Ok(Fetched {
        dir: target,
        sha256: actual,
        verified: expected.is_some(),
        already_present: false,
    })
}

/// The hash a previous fetch recorded beside the dataset.
fn read_record(target: &Path) -> Option<String> {
    let text = std::fs::read_to_string(target.join(RECORD)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["sha256"].as_str().map(str::to_owned)
}

/// Streams `url` into `out`, hashing as it goes, with a progress bar; returns the SHA-256.
/// Refuses more than `limit` bytes (by the announced length, and as they arrive), a server
/// silent for [`READ_TIMEOUT`], and a download longer than `timeout`.
async fn download(
    url: &str,
    out: &mut std::fs::File,
    limit: u64,
    timeout: Duration,
) -> Result<String, FetchError> {
    let error = |message: String| FetchError::Download {
        url: url.to_owned(),
        message,
    };
    let too_large = |size: u64| FetchError::TooLarge {
        url: url.to_owned(),
        what: format!(
            "the download is {size} bytes or more, over the {limit}-byte limit (--max-bytes)"
        ),
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(READ_TIMEOUT)
        .timeout(timeout)
        .build()
        .map_err(|e| error(e.to_string()))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| error(format!("cannot download: {e}")))?;
    if !response.status().is_success() {
        return Err(error(format!("the server answered {}", response.status())));
    }
    if let Some(size) = response.content_length().filter(|&n| n > limit) {
        return Err(too_large(size));
    }
    let bar = response
        .content_length()
        .map_or_else(ProgressBar::new_spinner, ProgressBar::new);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) downloading",
    ) {
        bar.set_style(style);
    }
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        let why = if e.is_timeout() {
            format!(
                "the download timed out (no data for {READ_TIMEOUT:?}, or over {timeout:?} in all)"
            )
        } else {
            format!("the download broke off: {e}")
        };
        error(why)
    })? {
        received += chunk.len() as u64;
        if received > limit {
            return Err(too_large(received));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).map_err(|source| FetchError::Io {
            path: PathBuf::from(url),
            source,
        })?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(format!("{:x}", hasher.finalize()))
}

/// Unpacks the zip into `into`, refusing entries that would land outside it, more than
/// [`MAX_ENTRIES`] entries, an entry that expands more than [`MAX_RATIO`] times or past its
/// stated size, and more than `max_unpacked` bytes in all.
fn unpack(
    file: &mut std::fs::File,
    into: &Path,
    url: &str,
    max_unpacked: u64,
) -> Result<(), FetchError> {
    let too_large = |what: String| FetchError::TooLarge {
        url: url.to_owned(),
        what,
    };
    let archive_error = |e: zip::result::ZipError| FetchError::Archive {
        url: url.to_owned(),
        message: e.to_string(),
    };
    file.rewind().map_err(|source| FetchError::Io {
        path: into.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(archive_error)?;
    if archive.len() > MAX_ENTRIES {
        return Err(too_large(format!(
            "the archive has {} entries; a MovieLens dataset has at most {MAX_ENTRIES}",
            archive.len()
        )));
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(archive_error)?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(FetchError::UnsafeEntry {
                url: url.to_owned(),
                entry: entry.name().chars().take(200).collect(),
            });
        };
        let stated = entry.size();
        if stated > entry.compressed_size().max(1) * MAX_RATIO {
            return Err(too_large(format!(
                "{} expands from {} to {stated} bytes, more than {MAX_RATIO} times (a zip bomb?)",
                relative.display(),
                entry.compressed_size()
            )));
        }
        total += stated;
        if total > max_unpacked {
            return Err(too_large(format!(
                "the archive unpacks to more than {max_unpacked} bytes, this dataset's limit"
            )));
        }
        let path = into.join(&relative);
        let io = |source| FetchError::Io {
            path: path.clone(),
            source,
        };
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut out = std::fs::File::create(&path).map_err(io)?;
        // Never more than the entry says it holds, whatever its bytes claim.
        let copied =
            std::io::copy(&mut std::io::Read::take(entry, stated + 1), &mut out).map_err(|e| {
                FetchError::Archive {
                    url: url.to_owned(),
                    message: format!("{}: {e}", relative.display()),
                }
            })?;
        if copied > stated {
            return Err(too_large(format!(
                "{} holds more than the {stated} bytes it states",
                relative.display()
            )));
        }
    }
    Ok(())
}
