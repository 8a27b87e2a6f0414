//! The MovieLens readers (ratings in three layouts, movies in three, tags, links), chosen by
//! the first byte: bad rows are rejects, bad files clear errors, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use movierec::etl::movielens::{read_links, read_movies, read_ratings, read_tags, Layout, Links};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let layouts = [Layout::Ml100k, Layout::Ml1m, Layout::Latest];
    let layout = layouts[usize::from(selector / 4) % 3];
    let genres: Vec<String> = ["Action", "Comedy", "Drama"].map(String::from).to_vec();
    let links = Links::new();
    let _ = match selector % 4 {
        0 => read_ratings(layout, "ratings", input, |_, _| Ok(()), |_| Ok(())),
        1 => read_movies(layout, input, &genres, &links, |_| Ok(()), |_| Ok(())),
        2 => read_tags(input, |_, _| Ok(()), |_| Ok(())),
        _ => read_links(input, |_| Ok(())).map(|l| l.len() as u64),
    };
});
