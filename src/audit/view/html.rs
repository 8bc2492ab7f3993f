//! The report as one self-contained HTML page: inline style, no scripts, nothing fetched,
//! and a content security policy that forbids both. Every value is HTML-escaped, since tag
//! values and AWS error messages in the log are attacker-influenced.

use super::report::{Block, Cell, Document};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#111;max-width:100em}\
table{border-collapse:collapse;margin:.5em 0 1em}\
th,td{border:1px solid #bbb;padding:.2em .5em;text-align:left;vertical-align:top}\
th{background:#eee}td{overflow-wrap:anywhere}\
code{font-family:ui-monospace,monospace;font-size:.9em}\
.alert{border:3px solid #b00;background:#fee;color:#600;padding:.5em 1em;margin:1em 0}\
.alert strong{font-size:1.2em}\
@media print{body{margin:0}}";

/// Renders `doc` as a complete HTML document.
pub fn html(doc: &Document) -> String {
    let title = escape(&doc.title);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n",
    );
    out.push_str(&format!(
        "<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    ));
    if let Some((first, rest)) = doc.alert.split_first() {
        out.push_str(&format!(
            "<div class=\"alert\" role=\"alert\"><p><strong>{}</strong></p>\n",
            escape(first)
        ));
        for line in rest {
            out.push_str(&format!("<p>{}</p>\n", escape(line)));
        }
        out.push_str("</div>\n");
    }
    for section in &doc.sections {
        out.push_str(&format!("<h2>{}</h2>\n", escape(section.heading)));
        for block in &section.blocks {
            render_block(&mut out, block);
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Facts(rows) => {
            out.push_str("<table>\n");
            for (label, value) in rows {
                out.push_str(&format!(
                    "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n",
                    escape(label),
                    cell(value)
                ));
            }
            out.push_str("</table>\n");
        }
        Block::Table { headers, rows } => {
            out.push_str("<table>\n<thead><tr>");
            for header in headers {
                out.push_str(&format!("<th scope=\"col\">{}</th>", escape(header)));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                out.push_str("<tr>");
                for value in row {
                    out.push_str(&format!("<td>{}</td>", cell(value)));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n");
        }
        Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape(text))),
        Block::Bullets(items) => {
            out.push_str("<ul>\n");
            for item in items {
                out.push_str(&format!("<li>{}</li>\n", escape(item)));
            }
            out.push_str("</ul>\n");
        }
    }
}

fn cell(cell: &Cell) -> String {
    if cell.code && !cell.text.is_empty() {
        format!("<code>{}</code>", escape(&cell.text))
    } else {
        escape(&cell.text)
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_special_characters() {
        let cases = [
            ("plain", "plain"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("a & b", "a &amp; b"),
            ("\"x\" 'y'", "&quot;x&quot; &#39;y&#39;"),
            ("&lt;", "&amp;lt;"),
        ];
        for (text, expected) in cases {
            assert_eq!(escape(text), expected, "{text:?}");
        }
    }
}
