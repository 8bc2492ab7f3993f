//! The reliability layer both ends of a data channel run: outgoing stream data numbered
//! from 0 and kept until acknowledged (resent on a Jacobson/Karels timeout between 200 ms
//! and 1 s), incoming stream data acknowledged, put back in order and de-duplicated. Pure
//! and clock-driven, so every case is a unit test.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::frame::{Frame, MessageType, PayloadType};
use super::payload::Acknowledge;

/// Lowest and highest retransmission timeout.
const MIN_RTO: Duration = Duration::from_millis(200);
const MAX_RTO: Duration = Duration::from_secs(1);
/// How long a frame may stay unacknowledged before the channel is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(300);
/// Frames held ahead of a gap; beyond this they are dropped unacknowledged (and resent).
const REORDER_CAPACITY: usize = 10_000;

/// One sent frame waiting for its acknowledgement.
#[derive(Debug, Clone)]
struct Outstanding {
    bytes: Vec<u8>,
    first_sent: Instant,
    last_sent: Instant,
    resent: bool,
}

/// What one received frame produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Frames to write back (acknowledgements).
    pub replies: Vec<Vec<u8>>,
    /// Stream data now in order, oldest first.
    pub delivered: Vec<Frame>,
    /// A control frame (channel_closed, start/pause_publication).
    pub control: Option<Frame>,
}

/// The channel was given up: a frame went unacknowledged too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the other end acknowledged nothing for {} seconds", GIVE_UP_AFTER.as_secs())]
pub struct GaveUp;

/// Round-trip estimate (RFC 6298 constants).
#[derive(Debug, Clone, Copy)]
struct Rtt {
    smoothed: Duration,
    variation: Duration,
}

impl Rtt {
    fn timeout(self) -> Duration {
        (self.smoothed + self.variation * 4).clamp(MIN_RTO, MAX_RTO)
    }

    fn sample(&mut self, rtt: Duration) {
        let diff = self.smoothed.abs_diff(rtt);
        self.variation = self.variation * 3 / 4 + diff / 4;
        self.smoothed = self.smoothed * 7 / 8 + rtt / 8;
    }
}

/// One end's sequence state.
#[derive(Debug)]
pub struct Stream {
    /// `input_stream_data` for a client, `output_stream_data` for an agent.
    outgoing: MessageType,
    next_out: i64,
    unacked: BTreeMap<i64, Outstanding>,
    expected_in: i64,
    ahead: BTreeMap<i64, Frame>,
    rtt: Rtt,
}

impl Stream {
    pub fn new(outgoing: MessageType) -> Stream {
        Stream {
            outgoing,
            next_out: 0,
            unacked: BTreeMap::new(),
            expected_in: 0,
            ahead: BTreeMap::new(),
            rtt: Rtt {
                smoothed: Duration::from_millis(100),
                variation: Duration::ZERO,
            },
        }
    }

    /// Numbers a new stream-data frame and keeps it for resending; returns its bytes.
    pub fn send(&mut self, payload_type: PayloadType, payload: Vec<u8>, now: Instant) -> Vec<u8> {
        let frame = Frame::new(self.outgoing, self.next_out, 0, payload_type, payload);
        let bytes = frame.encode();
        self.unacked.insert(
            self.next_out,
            Outstanding {
                bytes: bytes.clone(),
                first_sent: now,
                last_sent: now,
                resent: false,
            },
        );
        self.next_out += 1;
        bytes
    }

    /// Takes one received frame.
    pub fn receive(&mut self, frame: Frame, now: Instant) -> Received {
        let mut received = Received::default();
        match frame.message_type {
            MessageType::Acknowledge => {
                if let Ok(ack) = serde_json::from_slice::<Acknowledge>(&frame.payload) {
                    self.acknowledged(ack.sequence_number, now);
                }
            }
            t if t.is_stream_data() => {
                let seq = frame.sequence_number;
                if seq < self.expected_in {
                    // A duplicate: our acknowledgement was probably lost; acknowledge again.
                    received
                        .replies
                        .push(Acknowledge::frame_for(&frame).encode());
                } else if seq == self.expected_in {
                    received
                        .replies
                        .push(Acknowledge::frame_for(&frame).encode());
                    received.delivered.push(frame);
                    self.expected_in += 1;
                    while let Some(next) = self.ahead.remove(&self.expected_in) {
                        received.delivered.push(next);
                        self.expected_in += 1;
                    }
                } else if self.ahead.len() < REORDER_CAPACITY || self.ahead.contains_key(&seq) {
                    received
                        .replies
                        .push(Acknowledge::frame_for(&frame).encode());
                    self.ahead.insert(seq, frame);
                }
            }
            _ => received.control = Some(frame),
        }
        received
    }

    fn acknowledged(&mut self, sequence_number: i64, now: Instant) {
        if let Some(sent) = self.unacked.remove(&sequence_number) {
            // Karn: only frames sent once give a clean round-trip sample.
            if !sent.resent {
                self.rtt
                    .sample(now.saturating_duration_since(sent.last_sent));
            }
        }
    }

    /// Frames whose timeout passed, to send again; an error once one is too old.
    pub fn due(&mut self, now: Instant) -> Result<Vec<Vec<u8>>, GaveUp> {
        let timeout = self.rtt.timeout();
        let mut out = Vec::new();
        for sent in self.unacked.values_mut() {
            if now.saturating_duration_since(sent.first_sent) > GIVE_UP_AFTER {
                return Err(GaveUp);
            }
            if now.saturating_duration_since(sent.last_sent) >= timeout {
                sent.last_sent = now;
                sent.resent = true;
                out.push(sent.bytes.clone());
            }
        }
        Ok(out)
    }

    /// Every unacknowledged frame, oldest first (after a reconnect).
    pub fn outstanding(&mut self, now: Instant) -> Vec<Vec<u8>> {
        self.unacked
            .values_mut()
            .map(|sent| {
                sent.last_sent = now;
                sent.resent = true;
                sent.bytes.clone()
            })
            .collect()
    }

    /// How many sent frames wait for an acknowledgement.
    pub fn unacknowledged(&self) -> usize {
        self.unacked.len()
    }

    /// The current retransmission timeout.
    pub fn retransmission_timeout(&self) -> Duration {
        self.rtt.timeout()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(seq: i64, text: &str) -> Frame {
        Frame::new(
            MessageType::OutputStreamData,
            seq,
            0,
            PayloadType::Output,
            text.as_bytes().to_vec(),
        )
    }

    fn texts(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .map(|f| String::from_utf8_lossy(&f.payload).into_owned())
            .collect()
    }

    fn acked(reply: &[u8]) -> i64 {
        let frame = Frame::decode(reply).unwrap();
        assert_eq!(frame.message_type, MessageType::Acknowledge);
        assert_eq!(frame.flags, crate::datachannel::frame::ACK_FLAGS);
        serde_json::from_slice::<Acknowledge>(&frame.payload)
            .unwrap()
            .sequence_number
    }

    #[test]
    fn reorders_acknowledges_and_drops_duplicates() {
        let now = Instant::now();
        let mut client = Stream::new(MessageType::InputStreamData);
        let ahead = client.receive(data(1, "b"), now);
        assert!(ahead.delivered.is_empty());
        assert_eq!(
            acked(&ahead.replies[0]),
            1,
            "buffered-ahead frames are acked"
        );
        let first = client.receive(data(0, "a"), now);
        assert_eq!(texts(&first.delivered), ["a", "b"]);
        assert_eq!(acked(&first.replies[0]), 0);
        let dup = client.receive(data(0, "a"), now);
        assert!(
            dup.delivered.is_empty(),
            "a duplicate is not delivered twice"
        );
        assert_eq!(acked(&dup.replies[0]), 0, "but acknowledged again");
        let control = client.receive(
            Frame::new(
                MessageType::PausePublication,
                0,
                0,
                PayloadType::None,
                vec![],
            ),
            now,
        );
        assert_eq!(
            control.control.unwrap().message_type,
            MessageType::PausePublication
        );
    }

    #[test]
    fn resends_until_acknowledged_then_gives_up_after_the_limit() {
        let start = Instant::now();
        let mut agent = Stream::new(MessageType::OutputStreamData);
        let sent = agent.send(PayloadType::Output, b"x".to_vec(), start);
        assert_eq!(Frame::decode(&sent).unwrap().sequence_number, 0);
        assert!(
            agent
                .due(start + Duration::from_millis(50))
                .unwrap()
                .is_empty()
        );
        let rto = agent.retransmission_timeout();
        assert!((MIN_RTO..=MAX_RTO).contains(&rto));
        assert_eq!(agent.due(start + rto).unwrap(), vec![sent.clone()]);
        let second = agent.send(PayloadType::Output, b"y".to_vec(), start);
        let mut client = Stream::new(MessageType::InputStreamData);
        let ack = client.receive(Frame::decode(&second).unwrap(), start);
        agent.receive(Frame::decode(&ack.replies[0]).unwrap(), start);
        assert_eq!(agent.unacknowledged(), 1, "only frame 1 was acknowledged");
        assert_eq!(
            agent.due(start + GIVE_UP_AFTER + Duration::from_secs(1)),
            Err(GaveUp)
        );
    }

    #[test]
    fn round_trip_samples_move_the_timeout_within_its_bounds() {
        let start = Instant::now();
        let mut agent = Stream::new(MessageType::OutputStreamData);
        let mut client = Stream::new(MessageType::InputStreamData);
        for i in 0..20 {
            let at = start + Duration::from_secs(i);
            let bytes = agent.send(PayloadType::Output, vec![b'z'], at);
            let ack = client.receive(Frame::decode(&bytes).unwrap(), at);
            agent.receive(
                Frame::decode(&ack.replies[0]).unwrap(),
                at + Duration::from_millis(900),
            );
        }
        assert_eq!(agent.retransmission_timeout(), MAX_RTO, "slow link: capped");
        for i in 20..60 {
            let at = start + Duration::from_secs(i);
            let bytes = agent.send(PayloadType::Output, vec![b'z'], at);
            let ack = client.receive(Frame::decode(&bytes).unwrap(), at);
            agent.receive(Frame::decode(&ack.replies[0]).unwrap(), at);
        }
        assert_eq!(agent.retransmission_timeout(), MIN_RTO, "fast link: floor");
    }
}
