//! A plain-text table that fits a given width: optional columns are dropped by priority,
//! then the widest shrinkable columns are truncated with `…`.

/// One column of a [`Table`].
#[derive(Debug, Clone)]
pub struct Column {
    pub header: &'static str,
    /// Narrowest width before the column is truncated; `usize::MAX` never truncates.
    pub min: usize,
    /// 0 = always shown; higher numbers are dropped first when space runs out.
    pub priority: u8,
}

impl Column {
    /// A column that is always shown and never truncated (ids, addresses).
    pub fn fixed(header: &'static str) -> Self {
        Column {
            header,
            min: usize::MAX,
            priority: 0,
        }
    }

    /// A column that is always shown and may shrink to `min`.
    pub fn shrink(header: &'static str, min: usize) -> Self {
        Column {
            header,
            min,
            priority: 0,
        }
    }

    /// A column shown only when the width allows, dropped in `priority` order.
    pub fn optional(header: &'static str, min: usize, priority: u8) -> Self {
        Column {
            header,
            min,
            priority,
        }
    }
}

const GAP: usize = 2;

/// Rows of cells under a header.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are ignored.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Renders the table within `width` columns (lines never exceed it unless the
    /// always-shown, never-truncated columns alone are wider).
    pub fn render(&self, width: usize) -> String {
        let natural: Vec<usize> = (0..self.columns.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r.get(c).map_or(0, |cell| cell.chars().count()))
                    .chain([self.columns[c].header.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let floor = |c: usize| self.columns[c].min.min(natural[c]);
        let total = |shown: &[usize], widths: &dyn Fn(usize) -> usize| {
            shown.iter().map(|&c| widths(c)).sum::<usize>() + GAP * shown.len().saturating_sub(1)
        };

        // Drop optional columns, lowest priority first, until the minimum layout fits.
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        let mut optional: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&c| self.columns[c].priority > 0)
            .collect();
        optional.sort_by_key(|&c| std::cmp::Reverse(self.columns[c].priority));
        for c in optional {
            if total(&shown, &floor) <= width {
                break;
            }
            shown.retain(|&s| s != c);
        }

        // Shrink the column with the most slack, one character at a time.
        let mut widths = natural.clone();
        while total(&shown, &|c| widths[c]) > width {
            let Some(&c) = shown
                .iter()
                .filter(|&&c| widths[c] > floor(c))
                .max_by_key(|&&c| widths[c] - floor(c))
            else {
                break;
            };
            widths[c] -= 1;
        }

        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| c.header.to_owned()).collect();
        for cells in std::iter::once(&header).chain(&self.rows) {
            let line: Vec<String> = shown
                .iter()
                .map(|&c| {
                    let cell = cells.get(c).map_or("", String::as_str);
                    format!("{:<w$}", truncate(cell, widths[c]), w = widths[c])
                })
                .collect();
            out.push_str(line.join(&" ".repeat(GAP)).trim_end());
            out.push('\n');
        }
        out
    }
}

/// Cuts `text` to `width` characters, ending in `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new(vec![
            Column::fixed("ID"),
            Column::shrink("NAME", 4),
            Column::optional("ZONE", 4, 1),
            Column::optional("NOTES", 5, 2),
        ]);
        t.row(vec![
            "i-0123".into(),
            "security-server-one".into(),
            "eu-west-1a".into(),
            "a long note about this server".into(),
        ]);
        t
    }

    #[test]
    fn wide_enough_shows_everything_untruncated() {
        let out = table().render(200);
        assert!(out.contains("a long note about this server"));
        assert!(out.contains("security-server-one"));
    }

    #[test]
    fn narrow_drops_low_priority_columns_first_then_truncates() {
        let cases = [
            (60, vec!["ID", "NAME", "ZONE", "NOTES"], vec![]),
            (25, vec!["ID", "NAME", "ZONE", "NOTES"], vec![]),
            (22, vec!["ID", "NAME", "ZONE"], vec!["NOTES"]),
            (14, vec!["ID", "NAME"], vec!["ZONE", "NOTES"]),
        ];
        for (width, present, absent) in cases {
            let out = table().render(width);
            for line in out.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}");
            }
            let header = out.lines().next().unwrap();
            for h in present {
                assert!(header.contains(h), "{width}: {header}");
            }
            for h in absent {
                assert!(!header.contains(h), "{width}: {header}");
            }
            assert!(out.contains("i-0123"), "ids are never truncated");
        }
        let at_60 = table().render(60);
        assert!(
            at_60.contains("a long note") && at_60.contains("…"),
            "{at_60}"
        );
        assert!(table().render(14).contains("secur…"));
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("abc", 0), "");
    }
}
