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
}

/// The MovieLens datasets (<https://grouplens.org/datasets/movielens/>).
pub const DATASETS: [Dataset; 5] = [
    Dataset {
        name: "ml-100k",
        url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        sha256: None,
        size: "5 MB",
    },
    Dataset {
        name: "ml-1m",
        url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        sha256: None,
        size: "6 MB",
    },
    Dataset {
        name: "ml-latest-small",
        url: "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        sha256: None,
        size: "1 MB",
    },
    Dataset {
        name: "ml-25m",
        url: "https://files.grouplens.org/datasets/movielens/ml-25m.zip",
        sha256: None,
        size: "250 MB",
    },
    Dataset {
        name: "ml-32m",
        url: "https://files.grouplens.org/datasets/movielens/ml-32m.zip",
        sha256: None,
        size: "239 MB",
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
    #[error("{url}: the archive has no {name}/ directory with the dataset's files")]
    Layout { url: String, name: String },
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
    let expected = options
        .sha256
        .clone()
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
    let actual = download(&url, part.as_file_mut()).await?;
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
    unpack(part.as_file_mut(), staging.path(), &url)?;
    let unpacked = staging.path().join(dataset.name);
    if !unpacked.is_dir() {
        return Err(FetchError::Layout {
            url,
            name: dataset.name.to_owned(),
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
async fn download(url: &str, out: &mut std::fs::File) -> Result<String, FetchError> {
    let error = |message: String| FetchError::Download {
        url: url.to_owned(),
        message,
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
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
    let bar = response
        .content_length()
        .map_or_else(ProgressBar::new_spinner, ProgressBar::new);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) downloading",
    ) {
        bar.set_style(style);
    }
    let mut hasher = Sha256::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| error(format!("the download broke off: {e}")))?
    {
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

/// Unpacks the zip into `into`, refusing entries that would land outside it.
fn unpack(file: &mut std::fs::File, into: &Path, url: &str) -> Result<(), FetchError> {
    let archive_error = |e: zip::result::ZipError| FetchError::Archive {
        url: url.to_owned(),
        message: e.to_string(),
    };
    file.rewind().map_err(|source| FetchError::Io {
        path: into.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(archive_error)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(archive_error)?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(FetchError::Archive {
                url: url.to_owned(),
                message: format!("entry {:?} points outside the archive", entry.name()),
            });
        };
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
        std::io::copy(&mut entry, &mut out).map_err(|e| FetchError::Archive {
            url: url.to_owned(),
            message: format!("{}: {e}", relative.display()),
        })?;
    }
    Ok(())
}
