//! Temporary files and directories named for the process that makes them:
//! `.<name>.movierec-<pid>-<random><suffix>`, beside where the result will be renamed to. A
//! process killed before it renamed or removed one leaves it behind; the next one made in the
//! same directory removes those whose process is gone (a live process's are left alone). Export,
//! train and `dataset fetch` write through them, so none leaves half a result for long.

use std::io;
use std::path::Path;
use tempfile::{NamedTempFile, TempDir};

/// What marks our temporaries, between the name and the owner's pid.
const MARK: &str = ".movierec-";

fn builder<'a>(prefix: &'a str, suffix: &'a str) -> tempfile::Builder<'a, 'a> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).suffix(suffix);
    b
}

fn prefix(name: &str) -> String {
    format!(".{name}{MARK}{}-", std::process::id())
}

/// A temporary file in `dir` for a result called `name`, after removing stale ones.
pub fn temp_file(dir: &Path, name: &str, suffix: &str) -> io::Result<NamedTempFile> {
    remove_stale(dir);
    builder(&prefix(name), suffix).tempfile_in(dir)
}

/// A temporary directory in `dir` for a result called `name`, after removing stale ones.
pub fn temp_dir(dir: &Path, name: &str) -> io::Result<TempDir> {
    remove_stale(dir);
    builder(&prefix(name), "").tempdir_in(dir)
}

/// The pid a temporary's name says made it, if it is one of ours.
fn owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?;
    let (_, after) = rest.rsplit_once(MARK)?;
    after.split_once('-')?.0.parse().ok()
}

/// Removes the temporaries in `dir` whose process is gone; returns how many.
pub fn remove_stale(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(owner) else {
            continue;
        };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let gone = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(entry.path()),
            Ok(t) if t.is_file() => std::fs::remove_file(entry.path()),
            _ => continue,
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_processs_temporaries_go_and_a_live_ones_and_others_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dead = u32::MAX - 1;
        let stale_file = dir
            .path()
            .join(format!(".ratings.csv{MARK}{dead}-ab12.tmp"));
        let stale_dir = dir.path().join(format!(".ml-100k{MARK}{dead}-cd34"));
        std::fs::write(&stale_file, "half").expect("file");
        std::fs::create_dir_all(stale_dir.join("ml-100k")).expect("dir");
        let mine = temp_file(dir.path(), "genres.csv", ".tmp").expect("temp");
        let unrelated = dir.path().join(".hidden-file");
        std::fs::write(&unrelated, "keep").expect("unrelated");
        assert!(!stale_file.exists() && !stale_dir.exists());
        assert!(mine.path().exists() && unrelated.exists());
        let name = mine
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert_eq!(owner(name), Some(std::process::id()));
        assert!(name.starts_with(".genres.csv.movierec-") && name.ends_with(".tmp"));
        assert_eq!(remove_stale(dir.path()), 0, "ours is alive");
    }
}
