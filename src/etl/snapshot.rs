//! Content-addressed raw snapshots: every input is kept, gzip-compressed, as
//! `<data dir>/raw/<sha256>.<ext>.gz`, so any run can be replayed byte for byte.
//!
//! The input is hashed and compressed while it streams: [`Tee`] hands each chunk the pipeline
//! reads to a [`SnapshotWriter`] thread (on the second core), through a bounded channel, so
//! neither the whole input nor its compressed copy is ever held in memory.

use flate2::{write::GzEncoder, Compression};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Chunks in flight between the reader and the writer thread.
const CHANNEL_CHUNKS: usize = 16;

/// Hex SHA-256 of a finished hasher.
fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Path of a snapshot relative to the data directory: `raw/<sha256>.<ext>.gz`.
pub fn relative_path(sha256: &str, ext: &str) -> PathBuf {
    Path::new("raw").join(format!("{sha256}.{ext}.gz"))
}

/// The SHA-256 a snapshot's file name promises.
pub fn expected_sha(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()?.split('.').next()
}

/// A kept snapshot: content hash and path relative to the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub sha256: String,
    pub path: PathBuf,
}

/// Hashes and compresses everything sent to it, on its own thread.
pub struct SnapshotWriter {
    sender: Option<SyncSender<Vec<u8>>>,
    worker: JoinHandle<io::Result<(String, tempfile::NamedTempFile)>>,
    data_dir: PathBuf,
    ext: &'static str,
}

impl SnapshotWriter {
    /// Starts a writer for an input with extension `ext`, writing under `<data dir>/raw/`.
    pub fn start(data_dir: &Path, ext: &'static str) -> io::Result<Self> {
        let dir = data_dir.join("raw");
        std::fs::create_dir_all(&dir)?;
        let tmp = tempfile::NamedTempFile::new_in(&dir)?;
        let (sender, chunks) = sync_channel::<Vec<u8>>(CHANNEL_CHUNKS);
        let worker = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            // Fast gzip: snapshots are written on every new input and read rarely.
            let mut encoder = GzEncoder::new(io::BufWriter::new(tmp), Compression::fast());
            for chunk in chunks {
                hasher.update(&chunk);
                encoder.write_all(&chunk)?;
            }
            let tmp = encoder
                .finish()?
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?;
            Ok((hex(hasher.finalize()), tmp))
        });
        Ok(Self {
            sender: Some(sender),
            worker,
            data_dir: data_dir.to_owned(),
            ext,
        })
    }

    fn send(&self, chunk: &[u8]) {
        if let Some(sender) = &self.sender {
            // A send fails only when the writer stopped on an I/O error; `finish` reports it.
            let _ = sender.send(chunk.to_vec());
        }
    }

    /// Stops without keeping anything (the temporary file is removed).
    pub fn abandon(mut self) {
        drop(self.sender.take());
        let _ = self.worker.join();
    }

    /// Waits for the writer, then moves the snapshot into place (a temporary file renamed, so a
    /// killed run never leaves a truncated one) unless one with the same content exists.
    pub fn finish(mut self) -> io::Result<Kept> {
        drop(self.sender.take());
        let (sha256, tmp) = self
            .worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let relative = relative_path(&sha256, self.ext);
        let path = self.data_dir.join(&relative);
        if path.exists() {
            drop(tmp);
        } else {
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
        }
        Ok(Kept {
            sha256,
            path: relative,
        })
    }
}

/// A reader that hands a copy of every chunk it reads to a [`SnapshotWriter`].
pub struct Tee<'w, R> {
    inner: R,
    writer: &'w SnapshotWriter,
}

impl<'w, R: Read> Tee<'w, R> {
    pub fn new(inner: R, writer: &'w SnapshotWriter) -> Self {
        Self { inner, writer }
    }
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.writer.send(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(dir: &Path, bytes: &[u8]) -> Kept {
        let writer = SnapshotWriter::start(dir, "json").expect("start");
        let mut read = Vec::new();
        Tee::new(bytes, &writer)
            .read_to_end(&mut read)
            .expect("read");
        assert_eq!(read, bytes);
        writer.finish().expect("finish")
    }

    #[test]
    fn is_content_addressed_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = br#"[{"Title": "A"}]"#;
        let first = keep(dir.path(), bytes);
        let second = keep(dir.path(), bytes);
        assert_eq!(first, second);
        assert_eq!(first.sha256, hex(Sha256::digest(bytes)));
        assert_eq!(expected_sha(&first.path), Some(first.sha256.as_str()));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(dir.path().join(&first.path)).expect("open"),
        )
        .read_to_end(&mut back)
        .expect("gunzip");
        assert_eq!(back, bytes);
        assert_eq!(
            std::fs::read_dir(dir.path().join("raw"))
                .expect("dir")
                .count(),
            1,
            "no temporary file is left behind"
        );
    }
}
