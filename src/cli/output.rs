//! Terminal tables shared by the commands.

use crate::db::movies::MovieRow;
use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};

/// A table with the house style.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

/// Catalog rows; `scores` adds a rank and a score column when given.
pub fn movies_table(rows: &[MovieRow], scores: Option<&[f64]>) -> Table {
    let mut t = match scores {
        Some(_) => table(&["#", "id", "title", "year", "rating", "votes", "score"]),
        None => table(&["id", "title", "year", "rating", "votes", "genre"]),
    };
    for (i, m) in rows.iter().enumerate() {
        let votes = m.votes.map_or_else(String::new, |v| v.to_string());
        let mut cells = vec![
            m.id.to_string(),
            m.title.clone(),
            m.release_year.to_string(),
            format!("{:.1}", m.rating),
            votes,
        ];
        match scores {
            Some(s) => {
                cells.insert(0, (i + 1).to_string());
                cells.push(s.get(i).map_or_else(String::new, |s| format!("{s:.4}")));
            }
            None => cells.push(m.genre.clone().unwrap_or_default()),
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
