//! The one way untrusted text (tags, names, host output, AWS messages, audit fields)
//! reaches a terminal or a report.

/// `text` with control characters (escape sequences, newlines) and bidirectional
/// overrides shown as escapes, so a value can neither drive the terminal nor pretend to
/// be another value.
pub fn printable(text: &str) -> String {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !text.chars().any(hostile) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if hostile(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escapes_controls_and_bidirectional_overrides_only() {
        assert_eq!(printable("a\u{202e}b\tc"), "a\\u{202e}b\\tc");
        assert_eq!(printable("plain é"), "plain é");
        assert_eq!(printable("\x1b[2J"), "\\u{1b}[2J");
    }
}
