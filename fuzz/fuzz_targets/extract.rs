//! The vega/TMDB/plain file extract (JSON or CSV, chosen by the first byte) and the transform
//! of every record it yields: any input is records, rejects or a clear error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use movierec::etl::extract::{extract, Format};
use movierec::etl::transform::{transform, Rules};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let format = if selector % 2 == 0 { Format::Json } else { Format::Csv };
    let rules = Rules { max_year: 2027 };
    let _ = extract("fuzz", input, format, |record| {
        let _ = transform(&record, rules);
        Ok(())
    });
});
