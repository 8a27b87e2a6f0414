//! The raw zone: every response received, one gzip'd JSON envelope per file, grouped by ingest run
//! (`<data dir>/raw/tmdb/run-<id>/<seq>-<kind>.json.gz`). With the index in `ingest_responses`
//! it is enough to rebuild a run's catalog input with no network.

use crate::domain::ingest::ResponseKind;
use crate::domain::Timestamp;
use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Response headers worth keeping: what the server said about limits, caching and the body.
pub const KEPT_HEADERS: [&str; 8] = [
    "content-type",
    "date",
    "etag",
    "cache-control",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// One response as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub kind: ResponseKind,
    /// The request URL, without credentials.
    pub url: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub fetched_at: Timestamp,
    pub elapsed_ms: u64,
    /// The body as received when it is valid JSON, byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Box<serde_json::value::RawValue>>,
    /// Otherwise the body as text (invalid UTF-8 replaced), so a malformed reply is kept too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

impl Envelope {
    /// Stores `body` as JSON when it parses, as text otherwise.
    pub fn set_body(&mut self, body: &[u8]) {
        match serde_json::from_slice::<Box<serde_json::value::RawValue>>(body) {
            Ok(raw) => self.body = Some(raw),
            Err(_) => self.body_text = Some(String::from_utf8_lossy(body).into_owned()),
        }
    }

    /// The body bytes as received (for text bodies, after UTF-8 repair).
    pub fn body_bytes(&self) -> &[u8] {
        match (&self.body, &self.body_text) {
            (Some(raw), _) => raw.get().as_bytes(),
            (None, Some(text)) => text.as_bytes(),
            (None, None) => &[],
        }
    }
}

/// Where one run's responses go. Sequence numbers continue from what the index already holds,
/// so files left by a killed process, never indexed, are overwritten or removed.
#[derive(Debug)]
pub struct RawZone {
    dir: PathBuf,
    next_seq: AtomicU64,
}

impl RawZone {
    /// Opens `dir` for a run whose index holds sequence numbers below `next_seq`, deleting any
    /// unindexed file at or above it.
    pub fn open(dir: &Path, next_seq: u64) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let seq = name
                .to_str()
                .and_then(|n| n.split('-').next())
                .and_then(|n| n.parse::<u64>().ok());
            if seq.is_some_and(|s| s >= next_seq) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            next_seq: AtomicU64::new(next_seq),
        })
    }

    /// The next sequence number: one per response, in the order responses arrive.
    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Writes `envelope` atomically (temp file + rename); returns its file name within the zone.
    pub fn keep(&self, envelope: &Envelope) -> io::Result<String> {
        let name = file_name(envelope.seq, envelope.kind);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        {
            let mut gz = GzEncoder::new(tmp.as_file_mut(), Compression::fast());
            serde_json::to_writer(&mut gz, envelope)?;
            gz.finish()?.flush()?;
        }
        tmp.persist(self.dir.join(&name)).map_err(|e| e.error)?;
        Ok(name)
    }
}

fn file_name(seq: u64, kind: ResponseKind) -> String {
    format!("{seq:08}-{}.json.gz", kind.as_str())
}

/// Reads one stored envelope.
pub fn read(path: &Path) -> io::Result<Envelope> {
    let mut text = Vec::new();
    GzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut text)?;
    serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(seq: u64, body: &[u8]) -> Envelope {
        let mut e = Envelope {
            seq,
            kind: ResponseKind::Discover,
            url: "http://h/3/discover/movie?page=1".to_owned(),
            status: 200,
            headers: BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]),
            fetched_at: "2026-01-01T00:00:00.000Z".parse().expect("timestamp"),
            elapsed_ms: 3,
            body: None,
            body_text: None,
        };
        e.set_body(body);
        e
    }

    #[test]
    fn json_and_malformed_bodies_round_trip_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zone = RawZone::open(dir.path(), 0).expect("open");
        for body in [&br#"{"page": 1,  "results":[]}"#[..], b"{\"page\":1,\"res"] {
            let e = envelope(zone.next_seq(), body);
            let name = zone.keep(&e).expect("keep");
            let back = read(&dir.path().join(name)).expect("read");
            assert_eq!(back.body_bytes(), body);
            assert_eq!(
                serde_json::to_string(&back).expect("json"),
                serde_json::to_string(&e).expect("json")
            );
        }
    }

    #[test]
    fn reopening_removes_unindexed_files_and_continues_the_sequence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zone = RawZone::open(dir.path(), 0).expect("open");
        for _ in 0..4 {
            zone.keep(&envelope(zone.next_seq(), b"{}")).expect("keep");
        }
        let zone = RawZone::open(dir.path(), 2).expect("reopen");
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["00000000-discover.json.gz", "00000001-discover.json.gz"]
        );
        assert_eq!(zone.next_seq(), 2);
    }
}
