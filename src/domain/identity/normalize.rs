//! How identity reads a title: one normal form for every spelling of it, and the blocking keys
//! that bring a record and its candidate movies together.
//!
//! The normalisation, in order:
//! 1. vulgar fractions become digits (`33⅓` → `33 1/3`, `2½` → `2 1/2`);
//! 2. accents go (NFKD without combining marks) and case folds;
//! 3. `&` and `+` read as `and`; apostrophes and full stops vanish, so abbreviations join
//!    (`E.T.` → `et`, `10,000 B.C.` → `10000 bc`, `R.V.` → `rv`), and thousands separators go;
//! 4. any other punctuation separates words;
//! 5. words are read alike: `ep` → `episode`, `vol` → `volume`, `pt` → `part`, `vs` →
//!    `versus`; number words (`sixty` → `60`); Roman numerals `ii`…`xx` (and `i`, `v`, `x` after
//!    episode, part, volume, chapter or book) → Arabic;
//! 6. `the` goes wherever it stands, `a` and `an` at either end (`Matrix, The`; "Maze Runner:
//!    Scorch Trials" is "Maze Runner: The Scorch Trials"); `æ`, `œ`, `ß`, `ø`, `ł`, `þ` and `¢`
//!    spell out (`Æon Flux`, `Ri¢hie Ri¢h`).
//!
//! A form keeps its words and their concatenation (`compact`): spaced and joined spellings
//! (`War Games` / `WarGames`, `Beetle Juice` / `Beetlejuice`, `Pelham 1 2 3` / `Pelham 123`)
//! share the compact form.

use unicode_normalization::UnicodeNormalization;

/// A title in normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleForm {
    pub words: Vec<String>,
    /// The words concatenated.
    pub compact: String,
    /// A shortened variant of a real title (a part of it, or without a possessive prefix or a
    /// trailing 3-D): it may find candidates, but never matches as well as a whole title.
    pub partial: bool,
}

impl TitleForm {
    /// The words joined by single spaces.
    pub fn spaced(&self) -> String {
        self.words.join(" ")
    }
}

/// The normal form of a title (see the module docs).
pub fn normalize(title: &str) -> TitleForm {
    form(title, false)
}

fn form(title: &str, partial: bool) -> TitleForm {
    let words = words(title);
    TitleForm {
        compact: words.concat(),
        words,
        partial,
    }
}

/// The forms of a title: the whole title, then its partial variants — each segment around a
/// colon, a spaced dash or parentheses ("Star Wars: Episode V - The Empire Strikes Back" has
/// "empire strikes back"), the title without a possessive prefix ("Tyler Perry's Madea Goes to
/// Jail"), and each of these without a trailing number, `3-D`, or episode, part or volume
/// number ("My Bloody Valentine 3-D", "Star Wars Ep. IV").
pub fn forms(title: &str) -> Vec<TitleForm> {
    let whole = normalize(title);
    if whole.compact.is_empty() {
        return Vec::new();
    }
    // Fragments: the segments, the title after a possessive name.
    let mut parts: Vec<TitleForm> = vec![whole.clone()];
    let segments: Vec<&str> = title
        .split([':', '(', ')', '[', ']'])
        .flat_map(|s| s.split(" - "))
        .flat_map(|s| s.split(" – "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if segments.len() > 1 {
        parts.extend(segments.into_iter().map(|s| form(s, true)));
    }
    let possessive = title.split_once("'s ").or_else(|| title.split_once("s' "));
    if let Some((head, rest)) = possessive {
        let named = !matches!(
            head.split_whitespace().next(),
            Some("The" | "A" | "An" | "the")
        );
        if named && head.split_whitespace().count() <= 3 {
            parts.push(form(rest, true));
        }
    }
    let mut out: Vec<TitleForm> = Vec::new();
    for (i, f) in parts.into_iter().enumerate() {
        // Without its number, a title must keep two words: "Movie 43" is not "Movie".
        let stripped = without_number(&f.words)
            .filter(|rest| rest.len() >= 2)
            .map(|rest| TitleForm {
                compact: rest.concat(),
                words: rest.to_vec(),
                partial: true,
            });
        for f in std::iter::once(f).chain(stripped) {
            // A fragment must be a title on its own: two words, or the main title (the first
            // segment: "Zathura: A Space Adventure", "X2: X-Men United").
            let long_enough = f.words.len() >= 2 || (i <= 1 && f.compact.chars().count() >= 2);
            if (!f.partial || long_enough) && !out.iter().any(|o| o.compact == f.compact) {
                out.push(f);
            }
        }
    }
    out
}

/// The words before a trailing number, `3-D`, or "episode/part/volume/chapter N".
fn without_number(words: &[String]) -> Option<&[String]> {
    let number = |w: &String| w.bytes().all(|b| b.is_ascii_digit());
    let rest = match words {
        [rest @ .., a, b] if a == "3" && b == "d" => rest,
        [rest @ .., marker, n]
            if number(n)
                && matches!(marker.as_str(), "episode" | "part" | "volume" | "chapter") =>
        {
            rest
        }
        [rest @ .., last] if last == "3d" || number(last) => rest,
        _ => return None,
    };
    (!rest.is_empty()).then_some(rest)
}

/// The words of a title in normal form.
fn words(title: &str) -> Vec<String> {
    // Most titles are ASCII: nothing to spell out, decompose or strip of accents.
    if title.is_ascii() {
        return cleaned_words(title.chars().map(|c| c.to_ascii_lowercase()).collect());
    }
    let mut text = String::with_capacity(title.len() + 8);
    for c in title.chars() {
        match c {
            '⅓' => text.push_str(" 1/3"),
            '⅔' => text.push_str(" 2/3"),
            '½' => text.push_str(" 1/2"),
            '¼' => text.push_str(" 1/4"),
            '¾' => text.push_str(" 3/4"),
            '¢' => text.push('c'),
            'Æ' | 'æ' => text.push_str("ae"),
            'Œ' | 'œ' => text.push_str("oe"),
            'ß' => text.push_str("ss"),
            'Ø' | 'ø' => text.push('o'),
            'Ł' | 'ł' => text.push('l'),
            'Þ' | 'þ' => text.push_str("th"),
            _ => text.push(c),
        }
    }
    let folded: Vec<char> = text
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    cleaned_words(folded)
}

/// The words of a title already spelled out, folded and lower-cased.
fn cleaned_words(folded: Vec<char>) -> Vec<String> {
    let mut cleaned = String::with_capacity(folded.len() + 8);
    for (i, &c) in folded.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| folded[j]);
        let next = folded.get(i + 1).copied();
        let digits =
            prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit());
        match c {
            '&' | '+' => cleaned.push_str(" and "),
            '\'' | '’' | '‘' | '`' | '.' => {}
            ',' if digits => {}
            c if c.is_alphanumeric() => cleaned.push(c),
            _ => cleaned.push(' '),
        }
    }
    let raw: Vec<&str> = cleaned.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, w) in raw.iter().enumerate() {
        let after_marker = i > 0
            && matches!(
                out.last().map(String::as_str),
                Some("episode" | "part" | "volume" | "chapter" | "book")
            );
        // A title that is one number word is its own film ("Nine" is not "9").
        let w = if raw.len() == 1 {
            w
        } else {
            word(w, after_marker)
        };
        out.push(w.to_owned());
    }
    out.retain(|w| w != "the");
    let is_article = |w: &str| matches!(w, "a" | "an");
    if out.len() > 1 && out.first().is_some_and(|w| is_article(w)) {
        out.remove(0);
    }
    if out.len() > 1 && out.last().is_some_and(|w| is_article(w)) {
        out.pop();
    }
    out
}

/// One word in normal form.
fn word(w: &str, after_marker: bool) -> &str {
    match w {
        "ep" => "episode",
        "vol" => "volume",
        "pt" => "part",
        "vs" => "versus",
        "dr" => "doctor",
        "mr" => "mister",
        "zero" => "0",
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        "five" => "5",
        "six" => "6",
        "seven" => "7",
        "eight" => "8",
        "nine" => "9",
        "ten" => "10",
        "eleven" => "11",
        "twelve" => "12",
        "thirteen" => "13",
        "fourteen" => "14",
        "fifteen" => "15",
        "sixteen" => "16",
        "seventeen" => "17",
        "eighteen" => "18",
        "nineteen" => "19",
        "twenty" => "20",
        "thirty" => "30",
        "forty" => "40",
        "fifty" => "50",
        "sixty" => "60",
        "seventy" => "70",
        "eighty" => "80",
        "ninety" => "90",
        "hundred" => "100",
        "ii" => "2",
        "iii" => "3",
        "iv" => "4",
        "vi" => "6",
        "vii" => "7",
        "viii" => "8",
        "ix" => "9",
        "xi" => "11",
        "xii" => "12",
        "xiii" => "13",
        "xiv" => "14",
        "xv" => "15",
        "xvi" => "16",
        "xvii" => "17",
        "xviii" => "18",
        "xix" => "19",
        "xx" => "20",
        "i" if after_marker => "1",
        "v" if after_marker => "5",
        "x" if after_marker => "10",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(t: &str) -> String {
        normalize(t).compact
    }

    #[test]
    fn spellings_of_one_title_share_a_compact_form() {
        for (a, b) in [
            (
                "Star Wars Ep. IV: A New Hope",
                "Star Wars: Episode IV - A New Hope",
            ),
            ("Beetle Juice", "Beetlejuice"),
            ("ET: The Extra-Terrestrial", "E.T. the Extra-Terrestrial"),
            ("War Games", "WarGames"),
            ("10,000 B.C.", "10,000 BC"),
            ("R.V.", "RV"),
            ("House of 1,000 Corpses", "House of 1000 Corpses"),
            ("The Taking of Pelham 123", "The Taking of Pelham 1 2 3"),
            (
                "Naked Gun 33 1/3: The Final Insult",
                "Naked Gun 33⅓: The Final Insult",
            ),
            (
                "The Naked Gun 2½: The Smell of Fear",
                "Naked Gun 2 1/2: The Smell of Fear",
            ),
            ("Spiceworld", "Spice World"),
            ("Kill Bill: Vol. 1", "Kill Bill: Volume 1"),
            ("Gone in 60 Seconds", "Gone in Sixty Seconds"),
            ("Dumb & Dumber", "Dumb and Dumber"),
            ("Amélie", "Amelie"),
            ("Matrix, The", "The Matrix"),
            ("Rocky II", "Rocky 2"),
            ("Part I", "Part 1"),
        ] {
            assert_eq!(compact(a), compact(b), "{a} / {b}");
        }
        assert_ne!(compact("Alien"), compact("Aliens"));
        assert_ne!(
            compact("Nine"),
            compact("9"),
            "a one-word title keeps its number word"
        );
        assert_ne!(
            compact("I, Robot"),
            compact("1 Robot"),
            "a lone I is a word"
        );
        assert_eq!(normalize("The Naked Gun").spaced(), "naked gun");
        assert_eq!(compact("Æon Flux"), compact("Aeon Flux"));
        assert_eq!(compact("Ri¢hie Ri¢h"), compact("Richie Rich"));
        assert_eq!(compact("Dr. Dolittle"), compact("Doctor Dolittle"));
        assert_eq!(
            compact("Maze Runner: Scorch Trials"),
            compact("Maze Runner: The Scorch Trials")
        );
    }

    #[test]
    fn partial_forms_find_segments_possessives_and_3d() {
        let compacts = |t: &str| -> Vec<(String, bool)> {
            forms(t)
                .into_iter()
                .map(|f| (f.compact, f.partial))
                .collect()
        };
        let empire = compacts("Star Wars: Episode V - The Empire Strikes Back");
        assert!(
            empire.contains(&("empirestrikesback".into(), true)),
            "{empire:?}"
        );
        assert_eq!(
            empire[0],
            ("starwarsepisode5empirestrikesback".into(), false)
        );
        let butler = compacts("Lee Daniels' The Butler");
        assert!(butler.contains(&("butler".into(), true)), "{butler:?}");
        let madea = compacts("Tyler Perry's Madea Goes to Jail");
        assert!(
            madea.contains(&("madeagoestojail".into(), true)),
            "{madea:?}"
        );
        let valentine = compacts("My Bloody Valentine 3-D");
        assert!(
            valentine.contains(&("mybloodyvalentine".into(), true)),
            "{valentine:?}"
        );
        assert_eq!(compacts("Heat"), [("heat".into(), false)]);
        assert_eq!(compacts("Movie 43"), [("movie43".into(), false)]);
        let ep4 = compacts("Star Wars Ep. IV: A New Hope");
        assert!(ep4.contains(&("starwars".into(), true)), "{ep4:?}");
        assert!(forms("...").is_empty());
    }
}
