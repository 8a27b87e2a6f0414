//! Terminal tables shared by the commands.

use crate::domain::audit::AuditReport;
use crate::domain::movie::CatalogMovie;
use crate::etl::audit::examples_text;
use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};

/// The most characters a table cell shows: a longer value ends in "…", so one huge value
/// (a rejected 100 MB field) never costs the table its time or the terminal its screen.
pub const CELL_CHARS: usize = 80;

/// `text` cut to [`CELL_CHARS`] characters.
pub fn cell(text: &str) -> String {
    match text.char_indices().nth(CELL_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// A table with the house style.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

/// Catalog rows; `scores` adds a rank and a score column when given.
pub fn movies_table<'a>(
    rows: impl IntoIterator<Item = &'a CatalogMovie>,
    scores: Option<&[f64]>,
) -> Table {
    let mut t = match scores {
        Some(_) => table(&["#", "id", "title", "year", "rating", "votes", "score"]),
        None => table(&["id", "title", "year", "rating", "votes", "genre"]),
    };
    for (i, m) in rows.into_iter().enumerate() {
        let votes = m.votes.map_or_else(String::new, |v| v.to_string());
        let mut cells = vec![
            m.id.to_string(),
            cell(&m.title),
            m.release_year.to_string(),
            m.rating.map_or_else(String::new, |r| format!("{r:.1}")),
            votes,
        ];
        match scores {
            Some(s) => {
                cells.insert(0, (i + 1).to_string());
                cells.push(s.get(i).map_or_else(String::new, |s| format!("{s:.4}")));
            }
            None => cells.push(cell(m.genre.as_deref().unwrap_or_default())),
        }
        t.add_row(cells);
    }
    let numeric = ["#", "id", "year", "rating", "votes", "score"];
    let header: Vec<String> = t
        .header()
        .map(|h| h.cell_iter().map(|c| c.content()).collect())
        .unwrap_or_default();
    for (i, name) in header.iter().enumerate() {
        if let (true, Some(col)) = (numeric.contains(&name.as_str()), t.column_mut(i)) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// An audit report's counts and rejects, as terminal tables.
pub fn audit_tables(report: &AuditReport) -> String {
    let c = &report.counts;
    let mut counts = table(&[
        "extracted",
        "rejected rows",
        "duplicates",
        "loaded",
        "inserted",
        "updated",
        "unchanged",
    ]);
    counts.add_row([
        c.extracted,
        c.rejected,
        c.duplicates,
        c.loaded,
        c.inserted,
        c.updated,
        c.unchanged,
    ]);
    let mut rejects = table(&["field", "reason", "rows", "examples (row: raw value)"]);
    for g in &report.rejects {
        rejects.add_row([
            g.field.to_string(),
            g.reason.to_string(),
            g.count.to_string(),
            cell(&examples_text(g)),
        ]);
    }
    let head = format!("ETL run {} of {}\n{counts}", report.run_id, report.source);
    if report.rejects.is_empty() {
        format!("{head}\nRejects by reason: none")
    } else {
        format!("{head}\nRejects by reason\n{rejects}")
    }
}
