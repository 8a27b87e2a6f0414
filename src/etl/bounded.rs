//! A reader that bounds how much of one record a parser may pull in: the parsers reset its
//! [`Budget`] at every record, and a record that runs past [`MAX_RECORD_BYTES`] without one
//! fails the read. So the memory of a load stays bounded whatever the input's longest line —
//! a 1 GB line without a newline is refused after about 1 MiB, never buffered whole.

use crate::domain::record::MAX_RECORD_BYTES;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Bytes read since the parser last finished a record, shared by the reader and its parser.
#[derive(Debug, Clone, Default)]
pub struct Budget(Rc<Cell<Spent>>);

#[derive(Debug, Clone, Copy, Default)]
struct Spent {
    bytes: usize,
    exceeded: bool,
}

impl Budget {
    /// A record ended: what comes next counts afresh.
    pub fn reset(&self) {
        self.0.set(Spent::default());
    }

    /// Whether a record ran past the limit (the read that found it failed).
    pub fn exceeded(&self) -> bool {
        self.0.get().exceeded
    }

    /// The reader `inner`, bounded by this budget.
    pub fn wrap<R: Read>(&self, inner: R) -> Bounded<R> {
        Bounded {
            inner,
            budget: self.clone(),
        }
    }
}

/// See the module's documentation. Because a parser reads ahead in blocks (64 KiB here), a
/// record is refused between `MAX_RECORD_BYTES` − 64 KiB and `MAX_RECORD_BYTES` + 64 KiB.
pub struct Bounded<R> {
    inner: R,
    budget: Budget,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut spent = self.budget.0.get();
        if spent.bytes > MAX_RECORD_BYTES {
            spent.exceeded = true;
            self.budget.0.set(spent);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a record longer than {MAX_RECORD_BYTES} bytes"),
            ));
        }
        let n = self.inner.read(buf)?;
        spent.bytes += n;
        self.budget.0.set(spent);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_at_each_record_reads_any_length_and_a_long_record_fails() {
        let budget = Budget::default();
        let mut reader = budget.wrap(io::repeat(b'x'));
        let mut buf = vec![0; 64 * 1024];
        for _ in 0..100 {
            reader.read_exact(&mut buf).expect("within the budget");
            budget.reset();
        }
        assert!(!budget.exceeded());
        let err = io::copy(&mut reader, &mut io::sink()).expect_err("no end without a reset");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(budget.exceeded());
    }
}
