//! Text repair: undoing *mojibake*, text whose bytes were written in one encoding and read in
//! another ("AmÈlie" is "Amélie" written as Windows-1252 and read as Mac Roman; "AwardÂ®" is
//! "Award®" written as UTF-8 and read as Windows-1252).
//!
//! The approach is ftfy's: a repair re-encodes the text in the encoding it was wrongly read as
//! and decodes the bytes in the one it was written in. It is kept only when (1) the round trip
//! is exact — every character encodes, the bytes decode without error, and no control
//! character appears — and (2) the result is *more plausible* than the original by
//! [`badness`]: fewer characters that no real text puts where they stand (an accented capital
//! inside a lower-case word, a symbol between two letters, a Greek letter beside a Latin one).
//! Text that is already plausible is never touched: a real "È" ("È pericoloso sporgersi",
//! Italian for "it is dangerous") stays, and so does a stylised "Ri¢hie Ri¢h".

use super::record::Field;
use encoding_rs::{Encoding, MACINTOSH, UTF_8, WINDOWS_1252};
use serde::{Deserialize, Serialize};

/// The misreadings tried, as (read as, written as): the text is encoded back with the first and
/// decoded with the second.
const MISREADINGS: [(&Encoding, &Encoding); 3] = [
    (MACINTOSH, WINDOWS_1252),
    (WINDOWS_1252, UTF_8),
    (MACINTOSH, UTF_8),
];

/// A repaired text and the misreading it undid (`"x-mac-roman → windows-1252"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub text: String,
    pub via: &'static str,
}

/// One text value of a record that [`repair`] changed, for the audit report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Repair {
    pub field: Field,
    pub row: u64,
    pub before: String,
    pub after: String,
    /// The misreading undone.
    pub via: String,
}

/// The repaired text, or `None` when `text` is plausible as it is or no exact round trip makes
/// it more plausible.
pub fn repair(text: &str) -> Option<Repaired> {
    if text.is_ascii() {
        return None;
    }
    let before = badness(text);
    if before == 0 {
        return None;
    }
    MISREADINGS
        .iter()
        .filter_map(|(read_as, written_as)| {
            let (bytes, _, unmappable) = read_as.encode(text);
            if unmappable {
                return None;
            }
            let fixed = written_as.decode_without_bom_handling_and_without_replacement(&bytes)?;
            if fixed.chars().any(char::is_control) || fixed == text {
                return None;
            }
            let via = match (read_as.name(), written_as.name()) {
                ("macintosh", "windows-1252") => "mac-roman → windows-1252",
                ("windows-1252", "UTF-8") => "windows-1252 → utf-8",
                _ => "mac-roman → utf-8",
            };
            Some((badness(&fixed), fixed.into_owned(), via))
        })
        .filter(|(after, _, _)| *after < before)
        .min_by_key(|(after, _, _)| *after)
        .map(|(_, text, via)| Repaired { text, via })
}

/// How many characters of `text` stand where real text does not put them. Only non-ASCII
/// characters count, so plain ASCII text scores 0:
/// - an accented capital with a lower-case letter before it ("AmÈlie", "CachÈ"), or after it
///   when a letter comes before ("LÈon");
/// - a non-letter symbol with a letter on either side ("DÈj‡", "pi˘", "F‰lscher"), except
///   superscripts and marks that real titles use ("Alien³", "Ri¢hie");
/// - a Greek or Cyrillic letter beside a Latin letter or a digit ("2Ω");
/// - a one-letter word that is an accented capital no language writes alone ("You Ö Don't");
/// - the sequences UTF-8 leaves when read as Windows-1252 ("Ã©", "Â®", "â€™").
pub fn badness(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut bad = 0;
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii() {
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let is_lower = |c: Option<char>| c.is_some_and(char::is_lowercase);
        let is_letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
        let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || is_latin(c));
        if c.is_uppercase() && is_latin(c) {
            let lone = !is_letter(prev) && !is_letter(next);
            if is_lower(prev)
                || (is_letter(prev) && is_lower(next))
                || (lone && !matches!(c, 'À' | 'È' | 'É' | 'Ó' | 'Ò' | 'Ù' | 'Á'))
            {
                bad += 1;
            }
        } else if c.is_alphabetic() && !is_latin(c) {
            if latin(prev) || latin(next) {
                bad += 1;
            }
        } else if !c.is_alphabetic()
            && !matches!(
                c,
                '¢' | '²'
                    | '³'
                    | '¹'
                    | '°'
                    | '·'
                    | '½'
                    | '¼'
                    | '¾'
                    | '⅓'
                    | '…'
                    | '®'
                    | '©'
                    | '™'
            )
            && (is_letter(prev) || is_letter(next))
            && !c.is_whitespace()
            && !matches!(
                c,
                '–' | '—' | '’' | '‘' | '“' | '”' | '«' | '»' | '!' | '¡' | '¿'
            )
        {
            bad += 1;
        }
        if matches!(c, 'Ã' | 'Â' | 'â')
            && next.is_some_and(|n| matches!(n, '\u{80}'..='\u{bf}' | '€' | '™' | '‚' | 'ƒ' | '„'))
        {
            bad += 2;
        }
    }
    bad
}

/// Latin letters beyond ASCII (Latin-1 Supplement to Latin Extended-B).
fn is_latin(c: char) -> bool {
    matches!(c, '\u{c0}'..='\u{24f}') && c != '×' && c != '÷'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> String {
        repair(text).map_or_else(|| text.to_owned(), |r| r.text)
    }

    #[test]
    fn mac_roman_misreadings_of_windows_1252_are_repaired() {
        for (garbled, real) in [
            (
                "Le Fabuleux destin d'AmÈlie Poulain",
                "Le Fabuleux destin d'Amélie Poulain",
            ),
            ("LÈon", "Léon"),
            ("DÈj‡ Vu", "Déjà Vu"),
            ("CachÈ", "Caché"),
            (
                "The Naked Gun 2Ω: The Smell of Fear",
                "The Naked Gun 2½: The Smell of Fear",
            ),
            ("Per qualche dollaro in pi˘", "Per qualche dollaro in più"),
            ("Die F‰lscher", "Die Fälscher"),
            (
                "Obsluhoval jsem anglickÈho kr·le",
                "Obsluhoval jsem anglického krále",
            ),
            (
                "I Love You Ö Don't Touch Me!",
                "I Love You … Don't Touch Me!",
            ),
            ("La MÙme", "La Môme"),
            ("Joyeux NoÎl", "Joyeux Noël"),
            ("MoliËre", "Molière"),
        ] {
            assert_eq!(fixed(garbled), real, "{garbled}");
        }
        assert_eq!(
            repair("LÈon").map(|r| r.via),
            Some("mac-roman → windows-1252")
        );
    }

    #[test]
    fn utf8_read_as_windows_1252_is_repaired() {
        assert_eq!(fixed("Academy AwardÂ®-nominee"), "Academy Award®-nominee");
        assert_eq!(fixed("AmÃ©lie"), "Amélie");
        assert_eq!(fixed("Donâ€™t Look Now"), "Don’t Look Now");
    }

    #[test]
    fn plausible_text_is_never_touched() {
        for real in [
            "È pericoloso sporgersi",
            "Amélie",
            "Léon: The Professional",
            "Ri¢hie Ri¢h",
            "Alien³",
            "Âge d'Or, L'",
            "Æon Flux",
            "Ève",
            "Øvrig",
            "Das Boot",
            "Crouching Tiger, Hidden Dragon (臥虎藏龍)",
            "Любовь",
            "Pokémon: The First Movie",
            "The Naked Gun 2½: The Smell of Fear",
            "WALL·E",
            "Don’t Look Now",
        ] {
            assert_eq!(repair(real), None, "{real}");
        }
    }
}
