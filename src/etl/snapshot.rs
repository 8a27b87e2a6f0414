//! Content-addressed raw snapshots: every input is kept, gzip-compressed, as
//! `<data dir>/raw/<sha256>.<ext>.gz`, so any run can be replayed byte for byte.

use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Path of the snapshot of content `sha256` with extension `ext`.
pub fn path_for(data_dir: &Path, sha256: &str, ext: &str) -> PathBuf {
    data_dir.join("raw").join(format!("{sha256}.{ext}.gz"))
}

/// Stores `bytes` (fast gzip: snapshots are written on every new input, read rarely) unless a snapshot with the same content already exists. The write goes to a
/// temporary file renamed into place, so a killed run never leaves a truncated snapshot.
pub fn store(data_dir: &Path, sha256: &str, ext: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let path = path_for(data_dir, sha256, ext);
    if path.exists() {
        return Ok(path);
    }
    let dir = data_dir.join("raw");
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    let mut encoder = GzEncoder::new(tmp.as_file_mut(), Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()?.sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// Reads a snapshot back and checks its content still matches its name.
pub fn load(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    GzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut bytes)?;
    let expected = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or_default();
    let actual = sha256_hex(&bytes);
    if actual != expected {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "snapshot {} is corrupt: content hashes to {actual}",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_content_addressed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = br#"[{"Title": "A"}]"#;
        let sha = sha256_hex(bytes);
        let first = store(dir.path(), &sha, "json", bytes).expect("store");
        let second = store(dir.path(), &sha, "json", bytes).expect("store again");
        assert_eq!(first, second);
        assert_eq!(load(&first).expect("load"), bytes);
        assert_eq!(
            std::fs::read_dir(dir.path().join("raw"))
                .expect("dir")
                .count(),
            1
        );
    }

    #[test]
    fn detects_a_tampered_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = store(dir.path(), &sha256_hex(b"one"), "json", b"one").expect("store");
        let other = store(dir.path(), &sha256_hex(b"two"), "json", b"two").expect("store");
        std::fs::copy(&other, &path).expect("copy");
        assert!(load(&path).is_err());
    }
}
