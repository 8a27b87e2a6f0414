//! The text parsers: titles, release dates, MovieLens titles with their year, lists of names,
//! mojibake repair, identity's normal forms, the overrides file and `recommend --rated`'s
//! `TITLE=STARS,…` list.
#![no_main]
use libfuzzer_sys::fuzz_target;
use movierec::domain::identity::normalize::forms;
use movierec::domain::identity::overrides::Overrides;
use movierec::domain::movie::{title_key, Title};
use movierec::domain::record::RawValue;
use movierec::domain::text::repair;
use movierec::etl::movielens::split_title;
use movierec::etl::transform::{names, parse_release_date, parse_title, Rules};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let raw = RawValue::Text(text.to_owned());
    let _ = Title::parse(text);
    let _ = parse_title(&raw);
    let _ = parse_release_date(&raw, Rules { max_year: 2027 });
    let _ = split_title(text);
    let _ = names(&raw);
    if let Some(fixed) = repair(text) {
        // A repair is text a second repair leaves alone or improves again, never garbles.
        assert!(!fixed.text.is_empty() || text.is_empty());
    }
    let _ = forms(text);
    let _ = title_key(text);
    let _ = Overrides::parse(text);
    if let Ok(pairs) = movierec::cli::recommend::parse_rated(text) {
        assert!(pairs.iter().all(|(t, s)| !t.is_empty() && (0.5..=5.0).contains(s)));
    }
});
