//! AWS's clock as a responder's machine with a wrong clock sees it: the `Date` header of
//! every answer from the emulator moved by a set offset (zero by default). SigV4 tolerates
//! five minutes of difference, so offsets within that reach the emulator as AWS would
//! accept them (moto does not check the signing time at all).

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, TimeDelta};

/// Moves the answer's `Date` by `offset` (AWS's clock minus this machine's).
pub fn shift(headers: &mut HeaderMap, offset: TimeDelta) {
    if offset.is_zero() {
        return;
    }
    let Some(date) = headers
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
    else {
        return;
    };
    let moved = (date + offset)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = HeaderValue::from_str(&moved) {
        headers.insert(header::DATE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_the_date_of_an_answer() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::DATE,
            HeaderValue::from_static("Thu, 03 Dec 2026 16:44:21 GMT"),
        );
        shift(&mut headers, TimeDelta::seconds(-180));
        assert_eq!(headers[header::DATE], "Thu, 03 Dec 2026 16:41:21 GMT");
    }
}
