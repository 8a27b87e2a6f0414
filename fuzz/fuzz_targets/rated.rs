//! `recommend --rated`'s `TITLE=STARS,…` parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(pairs) = movierec::cli::recommend::parse_rated(text) {
            assert!(pairs.iter().all(|(t, s)| !t.is_empty() && (0.5..=5.0).contains(s)));
        }
    }
});
