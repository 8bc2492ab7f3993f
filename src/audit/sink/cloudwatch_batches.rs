//! CloudWatch Logs `PutLogEvents` limits, and the split of a batch of events into calls
//! that respect them (count, bytes, time span, size of one event).

use std::ops::Range;

/// `PutLogEvents` limits: events per call, bytes per call (UTF-8 messages plus 26 bytes
/// each), bytes per event, and the time one call may span.
pub const MAX_EVENTS_PER_CALL: usize = 10_000;
pub const MAX_BYTES_PER_CALL: usize = 1_048_576;
pub const EVENT_OVERHEAD: usize = 26;
pub const MAX_EVENT_BYTES: usize = 256 * 1024 - EVENT_OVERHEAD;
pub const MAX_SPAN_MS: i64 = 24 * 60 * 60 * 1000;

/// One piece of a batch: a call, or a record too large for any call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Call(Range<usize>),
    TooLarge(usize),
}

/// Splits events (message bytes, non-decreasing timestamp) into calls within the limits,
/// keeping their order.
pub fn plan_calls(events: &[(usize, i64)]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, &(len, ts)) in events.iter().enumerate() {
        if len > MAX_EVENT_BYTES {
            if start < i {
                pieces.push(Piece::Call(start..i));
            }
            pieces.push(Piece::TooLarge(i));
            start = i + 1;
            bytes = 0;
            continue;
        }
        let full = i - start == MAX_EVENTS_PER_CALL
            || bytes + len + EVENT_OVERHEAD > MAX_BYTES_PER_CALL
            || (start < i && ts - events[start].1 >= MAX_SPAN_MS);
        if full {
            pieces.push(Piece::Call(start..i));
            start = i;
            bytes = 0;
        }
        bytes += len + EVENT_OVERHEAD;
    }
    if start < events.len() {
        pieces.push(Piece::Call(start..events.len()));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_calls_within_count_bytes_span_and_event_limits() {
        let small = |n: usize| vec![(10, 0); n];
        assert_eq!(plan_calls(&[]), []);
        assert_eq!(plan_calls(&small(3)), [Piece::Call(0..3)]);
        assert_eq!(
            plan_calls(&small(25_000)),
            [
                Piece::Call(0..10_000),
                Piece::Call(10_000..20_000),
                Piece::Call(20_000..25_000)
            ]
        );
        // 8 events of 200,000 bytes: 5 fit in 1 MiB with their overhead, 6 do not.
        let big = vec![(200_000, 0); 8];
        assert_eq!(plan_calls(&big), [Piece::Call(0..5), Piece::Call(5..8)]);
        // Exactly at the byte limit still fits.
        let exact = vec![(MAX_BYTES_PER_CALL / 4 - EVENT_OVERHEAD, 0); 5];
        assert_eq!(plan_calls(&exact), [Piece::Call(0..4), Piece::Call(4..5)]);
        // A call may not span 24 hours.
        let day = [
            (10, 0),
            (10, MAX_SPAN_MS - 1),
            (10, MAX_SPAN_MS),
            (10, MAX_SPAN_MS + 5),
        ];
        assert_eq!(plan_calls(&day), [Piece::Call(0..2), Piece::Call(2..4)]);
        // An oversized record is singled out; its neighbours still ship.
        let mixed = [
            (10, 0),
            (MAX_EVENT_BYTES + 1, 0),
            (10, 0),
            (MAX_EVENT_BYTES, 0),
        ];
        assert_eq!(
            plan_calls(&mixed),
            [Piece::Call(0..1), Piece::TooLarge(1), Piece::Call(2..4)]
        );
    }
}
