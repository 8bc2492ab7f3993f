//! The report as Markdown (CommonMark with GitHub tables). Values from the log are escaped
//! so they render as the text they are: no links, images, HTML or broken tables.

use super::report::{Block, Cell, Document};

/// Renders `doc` as Markdown.
pub fn markdown(doc: &Document) -> String {
    let mut out = format!("# {}\n\n", escape(&doc.title));
    if !doc.alert.is_empty() {
        for (i, line) in doc.alert.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!("> **{}**\n", escape(line)));
            } else {
                out.push_str(&format!(">\n> {}\n", escape(line)));
            }
        }
        out.push('\n');
    }
    for section in &doc.sections {
        out.push_str(&format!("## {}\n\n", escape(section.heading)));
        for block in &section.blocks {
            render_block(&mut out, block);
            out.push('\n');
        }
    }
    out
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Facts(rows) => {
            out.push_str("| | |\n|---|---|\n");
            for (label, value) in rows {
                out.push_str(&format!("| {} | {} |\n", escape(label), cell(value)));
            }
        }
        Block::Table { headers, rows } => {
            let head: Vec<String> = headers.iter().map(|h| escape(h)).collect();
            out.push_str(&format!("| {} |\n", head.join(" | ")));
            out.push_str(&format!("|{}\n", "---|".repeat(headers.len())));
            for row in rows {
                let cells: Vec<String> = row.iter().map(cell).collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
        }
        Block::Paragraph(text) => {
            out.push_str(&escape(text));
            out.push('\n');
        }
        Block::Bullets(items) => {
            for item in items {
                out.push_str(&format!("- {}\n", escape(item)));
            }
        }
    }
}

fn cell(cell: &Cell) -> String {
    if cell.text.is_empty() {
        return String::new();
    }
    // A code span cannot escape its content, so only plain identifiers become one.
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:/@+=,".contains(c);
    if cell.code && cell.text.chars().all(plain) {
        format!("`{}`", cell.text)
    } else {
        escape(&cell.text)
    }
}

/// Backslash-escapes the characters Markdown could read as markup, and keeps the value on
/// one line (a line break would end a table row).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_line_breaks() {
        let cases = [
            ("plain i-0abc eu-west-1", "plain i-0abc eu-west-1"),
            ("a|b", "a\\|b"),
            ("<script>x</script>", "\\<script\\>x\\</script\\>"),
            ("[x](http://e.vil)", "\\[x\\](http://e.vil)"),
            ("![i](u)", "!\\[i\\](u)"),
            ("`code`", "\\`code\\`"),
            ("&amp;", "\\&amp;"),
            ("two\nlines", "two lines"),
            ("**bold** _em_", "\\*\\*bold\\*\\* \\_em\\_"),
        ];
        for (text, expected) in cases {
            assert_eq!(escape(text), expected, "{text:?}");
        }
    }

    #[test]
    fn only_plain_identifiers_become_code_spans() {
        let code = |t: &str| Cell {
            text: t.into(),
            code: true,
        };
        assert_eq!(cell(&code("ec2:CreateTags")), "`ec2:CreateTags`");
        assert_eq!(cell(&code("a`b")), "a\\`b");
        assert_eq!(cell(&code("a|b")), "a\\|b");
        assert_eq!(cell(&code("")), "");
    }
}
