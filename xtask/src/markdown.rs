//! Just enough markdown: the pipe tables of `docs/api/*.md`, each under its `##` heading.

/// One table and the heading it stands under.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) heading: String,
    columns: Vec<String>,
    pub(crate) rows: Vec<Row>,
}

/// One data row, with its line number for error messages.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) line: usize,
    cells: Vec<String>,
}

/// Every table in `text`.
pub(crate) fn tables(text: &str) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut heading = String::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((_, line)) = lines.next() {
        if let Some(h) = line.strip_prefix("## ") {
            heading = h.trim().to_owned();
        } else if line.starts_with('|') && lines.peek().is_some_and(|(_, l)| is_separator(l)) {
            lines.next();
            let mut table = Table { heading: heading.clone(), columns: cells(line), rows: Vec::new() };
            while let Some((n, row)) = lines.next_if(|(_, l)| l.starts_with('|')) {
                table.rows.push(Row { line: n + 1, cells: cells(row) });
            }
            tables.push(table);
        }
    }
    tables
}

fn is_separator(line: &str) -> bool {
    line.starts_with('|') && line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

impl Table {
    /// The cell of `row` under `column`, or an error naming the place.
    pub(crate) fn cell<'a>(&self, row: &'a Row, column: &str) -> Result<&'a str, String> {
        let index = self
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| format!("table `{}` has no column `{column}`", self.heading))?;
        row.cells
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| format!("line {}: no cell for column `{column}`", row.line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tables_under_their_headings() {
        let text = "# T\n## Codes\n\nprose\n| code | name |\n|---|---|\n| 1 | One |\n| 2 | Two |\n\n## Other\n| a |\n|:-|\n| x |\n";
        let tables = tables(text);
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].heading, "Codes");
        assert_eq!(tables[0].rows.len(), 2);
        assert_eq!(tables[0].cell(&tables[0].rows[1], "name").unwrap(), "Two");
        assert_eq!(tables[0].rows[1].line, 8);
        assert!(tables[0].cell(&tables[0].rows[0], "missing").is_err());
        assert_eq!(tables[1].heading, "Other");
    }
}
