//! A person's word over the policy: the identity overrides file, one rule per line,
//!
//! ```text
//! # action, id, id      (ids as namespace:value; quote, with no space before the quote, an id that holds a comma)
//! merge, tmdb:1891, vega:star wars ep. v: the empire strikes back (1980)
//! never, tmdb:9737, tmdb:38319
//! ```
//!
//! `merge A B`: a record carrying either id is the movie holding the other (before any score).
//! `never A B`: a record carrying either id is never matched by score to a movie holding the other.
//! A file that contradicts itself (an id with itself, or a `never` pair that `merge` rules join,
//! directly or through a chain) is refused with the line named, before anything is loaded.

use crate::domain::source::{ExternalId, Namespace};
use std::collections::{HashMap, HashSet};

/// What a rule says of its two ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Merge,
    Never,
}

/// One rule, as its line says.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub line: u64,
    pub action: Action,
    pub ids: [ExternalId; 2],
}

/// The rules of a file, indexed by id.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    rules: Vec<Rule>,
    merge: HashMap<ExternalId, Vec<ExternalId>>,
    never: HashSet<(ExternalId, ExternalId)>,
}

/// A line of the file that cannot be a rule, or rules that contradict each other.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct OverrideError {
    pub line: u64,
    pub message: String,
}

impl Overrides {
    /// Parses and checks a file's text.
    pub fn parse(text: &str) -> Result<Self, OverrideError> {
        let mut out = Overrides::default();
        for (index, text) in text.lines().enumerate() {
            let line = index as u64 + 1;
            let fail = |message: String| OverrideError { line, message };
            if text.trim().is_empty() || text.trim_start().starts_with('#') {
                continue;
            }
            let record = csv::ReaderBuilder::new()
                .has_headers(false)
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes())
                .records()
                .next()
                .transpose()
                .map_err(|e| fail(e.to_string()))?
                .unwrap_or_default();
            let [action, a, b] = [0, 1, 2].map(|i| record.get(i).unwrap_or_default());
            if record.len() != 3 {
                return Err(fail(format!(
                    "expected `merge|never, ID, ID`, found {} fields",
                    record.len()
                )));
            }
            let action = match action {
                "merge" => Action::Merge,
                "never" => Action::Never,
                other => {
                    return Err(fail(format!(
                        "unknown action {other:?}: expected merge or never"
                    )))
                }
            };
            let ids = [parse_id(a).map_err(&fail)?, parse_id(b).map_err(&fail)?];
            if ids[0] == ids[1] {
                return Err(fail(format!("{} is named twice", show(&ids[0]))));
            }
            out.add(Rule { line, action, ids });
        }
        out.check()?;
        Ok(out)
    }

    fn add(&mut self, rule: Rule) {
        let [a, b] = &rule.ids;
        match rule.action {
            Action::Merge => {
                self.merge.entry(a.clone()).or_default().push(b.clone());
                self.merge.entry(b.clone()).or_default().push(a.clone());
            }
            Action::Never => {
                self.never.insert((a.clone(), b.clone()));
                self.never.insert((b.clone(), a.clone()));
            }
        }
        self.rules.push(rule);
    }

    /// A `never` pair must not be joined by `merge` rules, directly or through a chain.
    fn check(&self) -> Result<(), OverrideError> {
        for rule in self.rules.iter().filter(|r| r.action == Action::Never) {
            let [a, b] = &rule.ids;
            if self.merged_with(a).contains(b) {
                let merges: Vec<String> = self
                    .rules
                    .iter()
                    .filter(|r| r.action == Action::Merge)
                    .map(|r| r.line.to_string())
                    .collect();
                return Err(OverrideError {
                    line: rule.line,
                    message: format!(
                        "never {} {} contradicts the merge rules (lines {}) that join them",
                        show(a),
                        show(b),
                        merges.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Every id `merge` rules join to `id`, through any chain (`id` itself excluded).
    fn merged_with(&self, id: &ExternalId) -> HashSet<&ExternalId> {
        let mut seen: HashSet<&ExternalId> = HashSet::new();
        let mut todo = vec![id];
        while let Some(next) = todo.pop() {
            for other in self.merge.get(next).into_iter().flatten() {
                if other != id && seen.insert(other) {
                    todo.push(other);
                }
            }
        }
        seen
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The ids `merge` rules join to any of `ids`: a movie holding one is the record's movie.
    pub fn partners<'a>(&'a self, ids: &'a [ExternalId]) -> impl Iterator<Item = &'a ExternalId> {
        ids.iter()
            .flat_map(|id| self.merge.get(id).into_iter().flatten())
    }

    /// Whether a `never` rule keeps a record with `ids` from a movie holding `movie_ids`.
    pub fn forbids(&self, ids: &[ExternalId], movie_ids: &[ExternalId]) -> bool {
        !self.never.is_empty()
            && ids.iter().any(|a| {
                movie_ids
                    .iter()
                    .any(|b| self.never.contains(&(a.clone(), b.clone())))
            })
    }
}

/// `namespace:value`.
fn parse_id(text: &str) -> Result<ExternalId, String> {
    let (namespace, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not an id: expected namespace:value, e.g. tmdb:603"))?;
    let namespace = Namespace::parse(namespace.trim()).ok_or_else(|| {
        format!("{namespace:?} is not a namespace: expected tmdb, imdb, movielens, ml100k, vega or file")
    })?;
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{text:?} has no value after the namespace"));
    }
    Ok(ExternalId::new(namespace, value))
}

fn show(id: &ExternalId) -> String {
    format!("{}:{}", id.namespace.as_str(), id.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ExternalId {
        parse_id(text).expect("id")
    }

    #[test]
    fn rules_parse_with_comments_blank_lines_and_quoted_commas() {
        let o = Overrides::parse(
            "# a comment\n\nmerge, tmdb:1891,\"vega:10,000 bc (2008)\"\nnever,tmdb:1,tmdb:2\n",
        )
        .expect("valid");
        assert_eq!(o.rules().len(), 2);
        assert_eq!(o.rules()[0].line, 3);
        assert_eq!(o.rules()[0].ids[1], id("vega:10,000 bc (2008)"));
        let record = [id("vega:10,000 bc (2008)")];
        let partners: Vec<&ExternalId> = o.partners(&record).collect();
        assert_eq!(partners, [&id("tmdb:1891")]);
        assert!(o.forbids(&[id("tmdb:2")], &[id("imdb:tt1"), id("tmdb:1")]));
        assert!(!o.forbids(&[id("tmdb:2")], &[id("tmdb:3")]));
    }

    #[test]
    fn bad_lines_are_refused_with_their_line() {
        for (text, line, says) in [
            ("merge,tmdb:1\n", 1, "found 2 fields"),
            ("\nfuse,tmdb:1,tmdb:2\n", 2, "unknown action \"fuse\""),
            (
                "merge,tmdb:1,netflix:2\n",
                1,
                "\"netflix\" is not a namespace",
            ),
            ("merge,tmdb:1,603\n", 1, "is not an id"),
            ("merge,tmdb:1,tmdb:\n", 1, "has no value"),
            ("never,tmdb:1, tmdb:1\n", 1, "named twice"),
        ] {
            let err = Overrides::parse(text).expect_err(text);
            assert_eq!(err.line, line, "{text}");
            assert!(err.message.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn a_never_pair_joined_by_a_chain_of_merges_is_a_contradiction() {
        let err = Overrides::parse(
            "merge,tmdb:1,vega:a (2000)\nmerge,vega:a (2000),imdb:tt0000002\nnever,imdb:tt0000002,tmdb:1\n",
        )
        .expect_err("contradiction");
        assert_eq!(err.line, 3);
        assert!(err.message.contains("lines 1, 2"), "{err}");
        // Without the chain's second link the same never rule stands.
        assert!(
            Overrides::parse("merge,tmdb:1,vega:a (2000)\nnever,imdb:tt0000002,tmdb:1\n").is_ok()
        );
    }
}
