//! Errors as text: the one walk down an error's causes, for the one-line form (toasts,
//! audit details, AWS messages) and for the binary's `caused by:` lines.

use std::error::Error;

/// The errors `err` was caused by, outermost first (not `err` itself).
pub fn causes<'a>(err: &'a dyn Error) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(err.source(), |&e| e.source())
}

/// An error and its causes joined by `: `, a text repeated by its wrapper shown once.
pub fn error_chain(err: &dyn Error) -> String {
    join(std::iter::once(err.to_string()).chain(causes(err).map(|e| e.to_string())))
}

/// Only the causes of `err` joined by `: ` (its own text when it has none): for wrappers
/// whose own message says nothing (the SDK's "dispatch failure").
pub fn cause_chain(err: &dyn Error) -> String {
    let text = join(causes(err).map(|e| e.to_string()));
    if text.is_empty() {
        err.to_string()
    } else {
        text
    }
}

fn join(texts: impl Iterator<Item = String>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for text in texts {
        if parts.last() != Some(&text) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Layer(&'static str, #[source] Option<Box<Layer>>);

    fn layers(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |inner, text| Some(Layer(text, inner.map(Box::new))))
            .unwrap_or(Layer("", None))
    }

    #[test]
    fn chains_join_causes_once() {
        let err = layers(&[
            "dispatch failure",
            "io error",
            "io error",
            "connection refused",
        ]);
        assert_eq!(
            error_chain(&err),
            "dispatch failure: io error: connection refused"
        );
        assert_eq!(cause_chain(&err), "io error: connection refused");
        assert_eq!(causes(&err).count(), 3);
        let alone = layers(&["alone"]);
        assert_eq!(cause_chain(&alone), "alone");
        assert_eq!(error_chain(&alone), "alone");
    }
}
