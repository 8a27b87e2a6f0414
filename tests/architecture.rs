//! The architecture, as a test (in the spirit of ArchUnit): reads `src/` and fails on any
//! `crate::` import that goes up or sideways between layers, on any import cycle between the
//! modules of one layer, and on the database driver named outside the store. The same checker
//! runs on a small fixture tree that breaks each rule, to show it catches them.
//!
//! Layers, bottom to top (a module may import only from layers strictly below its own):
//!
//! | layer | modules |
//! |---|---|
//! | 1 | `domain`, `files` |
//! | 2 | `store`, `model` |
//! | 3 | `etl`, `ingest`, `recommend`, `export`, `dataset` |
//! | 4 | `eval` |
//! | 5 | `web`, `cli` |
//! | 6 | `app` |

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[(&str, u8)] = &[
    ("domain", 1),
    ("files", 1),
    ("store", 2),
    ("model", 2),
    ("etl", 3),
    ("ingest", 3),
    ("recommend", 3),
    ("export", 3),
    ("dataset", 3),
    ("eval", 4),
    ("web", 5),
    ("cli", 5),
    ("app", 6),
];

/// The only top-level module allowed to name the database driver.
const STORE: &str = "store";
const DRIVER_CRATES: [&str; 4] = ["rusqlite", "r2d2", "postgres", "refinery"];

/// One source file: its module path (`["web", "state"]`) and its text without comments.
struct SourceFile {
    module: Vec<String>,
    /// Whether it is a `mod.rs`/`lib.rs` (its `super` is its parent's parent).
    path: PathBuf,
    code: String,
}

fn read_tree(src: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("under src");
                let mut module: Vec<String> = rel
                    .iter()
                    .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).expect("read source");
                files.push(SourceFile {
                    module,
                    code: strip_comments(&text),
                    path: rel.to_path_buf(),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Removes `//` and `/* */` comments (doc links are not imports), keeping string literals.
fn strip_comments(text: &str) -> String {
    // A quote as a char literal would read as the start of a string.
    let text = text.replace("'\"'", "' '");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_string = !in_string;
                out.push(c);
            }
            '\\' if in_string => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '/' if !in_string && chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if !in_string && chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every module path a file refers to, absolute (`crate::`, `super::`, `self::` resolved), as
/// segments; braces of `use` groups are expanded one level (`crate::{a, b::c}`). `super` is
/// resolved from the file's module: inside an inline `mod tests { … }` it means one level less
/// than Rust's, so such modules name other layers with `crate::` (a wrong guess fails the test,
/// it never hides a violation).
fn references(file: &SourceFile) -> Vec<Vec<String>> {
    let code = &file.code;
    let mut refs = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", parent(&file.module)),
        ("self::", file.module.clone()),
    ] {
        for (i, _) in code.match_indices(prefix) {
            let before = code[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut rest = &code[i + prefix.len()..];
            let mut base = base.clone();
            while let Some(r) = rest.strip_prefix("super::") {
                base = parent(&base);
                rest = r;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let mut path = base.clone();
                    path.extend(segments(item.trim()));
                    refs.push(path);
                }
            } else {
                let mut path = base;
                path.extend(segments(rest));
                refs.push(path);
            }
        }
    }
    refs.retain(|r| !r.is_empty());
    refs
}

fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// `a::b::C;` → `[a, b, C]`.
fn segments(text: &str) -> Vec<String> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a source tree; returns one line per violation.
fn check(src: &Path) -> Vec<String> {
    let files = read_tree(src);
    let rank: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    // Modules that exist at depth two (`web::state`): references to them are module edges.
    let submodules: BTreeSet<Vec<String>> = files
        .iter()
        .filter(|f| f.module.len() >= 2)
        .map(|f| f.module[..2].to_vec())
        .collect();
    let node = |path: &[String]| -> Vec<String> {
        match path {
            [top, sub, ..] if submodules.contains(&vec![top.clone(), sub.clone()]) => {
                vec![top.clone(), sub.clone()]
            }
            [top, ..] => vec![top.clone()],
            [] => Vec::new(),
        }
    };
    let mut violations = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let Some(top) = file.module.first() else {
            continue; // lib.rs and main.rs only declare modules and call `app`.
        };
        let Some(&own) = rank.get(top.as_str()) else {
            violations.push(format!(
                "{}: module `{top}` has no layer",
                file.path.display()
            ));
            continue;
        };
        if top != STORE {
            for driver in DRIVER_CRATES {
                if file.code.contains(&format!("{driver}::")) {
                    violations.push(format!(
                        "{}: names the database driver `{driver}` outside the store",
                        file.path.display()
                    ));
                }
            }
        }
        let from = node(&file.module);
        for reference in references(file) {
            let to = node(&reference);
            let target = &to[0];
            if target != top {
                match rank.get(target.as_str()) {
                    Some(&r) if r < own => {}
                    Some(&r) => violations.push(format!(
                        "{}: `{top}` (layer {own}) imports `{}` (layer {r}): {}",
                        file.path.display(),
                        target,
                        if r == own { "sideways" } else { "upwards" }
                    )),
                    None => violations.push(format!(
                        "{}: imports `{target}`, which has no layer",
                        file.path.display()
                    )),
                }
            } else if from.len() == 2 && to.len() == 2 && from != to {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    for cycle in cycles(&edges) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        violations.push(format!("import cycle: {}", names.join(" ↔ ")));
    }
    violations
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        found: Vec<Vec<Vec<String>>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &Vec<String>) {
            let i = self.index.len();
            self.index.insert(v.clone(), i);
            self.low.insert(v.clone(), i);
            self.stack.push(v.clone());
            self.on_stack.insert(v.clone());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.found
}

#[test]
fn src_imports_only_downward_with_no_cycles_and_the_driver_only_in_the_store() {
    let violations = check(Path::new("src"));
    assert!(
        violations.is_empty(),
        "architecture violations:\n{}",
        violations.join("\n")
    );
    // The checker saw the real tree: it knows every layer's module.
    let files = read_tree(Path::new("src"));
    for (module, _) in LAYERS {
        assert!(
            files
                .iter()
                .any(|f| f.module.first().map(String::as_str) == Some(*module)),
            "no source file of layer module `{module}`"
        );
    }
}

#[test]
fn the_checker_catches_upward_sideways_cyclic_and_driver_violations() {
    let violations = check(Path::new("tests/fixtures/architecture/violating/src"));
    let expect = [
        "store/mod.rs: `store` (layer 2) imports `web` (layer 5): upwards",
        "etl/mod.rs: `etl` (layer 3) imports `ingest` (layer 3): sideways",
        "ingest/mod.rs: names the database driver `rusqlite` outside the store",
        "import cycle: web::metrics ↔ web::state",
    ];
    for e in expect {
        assert!(
            violations.iter().any(|v| v == e),
            "expected {e:?} among {violations:#?}"
        );
    }
    assert_eq!(
        violations.len(),
        expect.len(),
        "nothing else is a violation (a doc link is not an import): {violations:#?}"
    );
}

#[test]
fn references_resolve_crate_super_and_groups() {
    let file = SourceFile {
        module: vec!["web".into(), "movies".into()],
        path: PathBuf::from("web/movies.rs"),
        code: strip_comments(
            "use super::error::ApiError; // crate::app::x\nuse crate::{domain::MovieId, recommend::Filters};\nlet s = \"//\"; x::crate::y;",
        ),
    };
    let refs: Vec<String> = references(&file).iter().map(|r| r.join("::")).collect();
    assert_eq!(
        refs,
        [
            "domain::MovieId",
            "recommend::Filters",
            "web::error::ApiError"
        ]
    );
}
