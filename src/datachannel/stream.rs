//! The reliability layer both ends of a data channel run: outgoing stream data numbered
//! from 0 and kept until acknowledged (the oldest resent on a Jacobson/Karels timeout
//! between 200 ms and 1 s, at most [`MAX_RESENDS`] times, as the AWS plugin does), incoming
//! stream data acknowledged, put back in order and de-duplicated; both buffers bounded in
//! frames and bytes. Pure and clock-driven, so every case is a unit test.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::frame::{Frame, MessageType, PayloadType};
use super::payload::Acknowledge;

/// Lowest and highest retransmission timeout.
const MIN_RTO: Duration = Duration::from_millis(200);
const MAX_RTO: Duration = Duration::from_secs(1);
/// How often the oldest unacknowledged frame may be resent before the channel is given up
/// (the plugin's `ResendMaxAttempt`: with resends at least 200 ms apart, 10 minutes or more).
pub const MAX_RESENDS: u32 = 3000;
/// Frames kept for resending, and frames held ahead of a gap (the plugin's buffer
/// capacities); each buffer also holds at most [`BUFFER_BYTES`].
const BUFFER_FRAMES: usize = 10_000;
pub const BUFFER_BYTES: usize = 4 << 20;

/// One sent frame waiting for its acknowledgement.
#[derive(Debug, Clone)]
struct Outstanding {
    bytes: Vec<u8>,
    last_sent: Instant,
    resends: u32,
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

/// The channel was given up: a frame was resent [`MAX_RESENDS`] times unacknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the other end did not acknowledge frame {sequence_number}, resent {MAX_RESENDS} times")]
pub struct GaveUp {
    pub sequence_number: i64,
}

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
    /// Bytes in `unacked`.
    unacked_bytes: usize,
    expected_in: i64,
    ahead: BTreeMap<i64, Frame>,
    /// Payload bytes in `ahead`.
    ahead_bytes: usize,
    rtt: Rtt,
}

impl Stream {
    pub fn new(outgoing: MessageType) -> Stream {
        Stream {
            outgoing,
            next_out: 0,
            unacked: BTreeMap::new(),
            unacked_bytes: 0,
            expected_in: 0,
            ahead: BTreeMap::new(),
            ahead_bytes: 0,
            rtt: Rtt {
                smoothed: Duration::from_millis(100),
                variation: Duration::ZERO,
            },
        }
    }

    /// Whether the resend buffer has room for another frame; a sender that finds none
    /// holds its data back until acknowledgements make room (never drops it).
    pub fn has_room(&self) -> bool {
        self.unacked.len() < BUFFER_FRAMES && self.unacked_bytes < BUFFER_BYTES
    }

    /// Numbers a new stream-data frame and keeps it for resending; returns its bytes.
    pub fn send(&mut self, payload_type: PayloadType, payload: Vec<u8>, now: Instant) -> Vec<u8> {
        let frame = Frame::new(self.outgoing, self.next_out, 0, payload_type, payload);
        let bytes = frame.encode();
        self.unacked_bytes += bytes.len();
        self.unacked.insert(
            self.next_out,
            Outstanding {
                bytes: bytes.clone(),
                last_sent: now,
                resends: 0,
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
                        self.ahead_bytes -= next.payload.len();
                        received.delivered.push(next);
                        self.expected_in += 1;
                    }
                } else if self.ahead.contains_key(&seq) {
                    received
                        .replies
                        .push(Acknowledge::frame_for(&frame).encode());
                } else if self.ahead.len() < BUFFER_FRAMES && self.ahead_bytes < BUFFER_BYTES {
                    received
                        .replies
                        .push(Acknowledge::frame_for(&frame).encode());
                    self.ahead_bytes += frame.payload.len();
                    self.ahead.insert(seq, frame);
                }
                // Else the frame is dropped unacknowledged: the other end resends it.
            }
            _ => received.control = Some(frame),
        }
        received
    }

    fn acknowledged(&mut self, sequence_number: i64, now: Instant) {
        if let Some(sent) = self.unacked.remove(&sequence_number) {
            self.unacked_bytes -= sent.bytes.len();
            // Karn: only frames sent once give a clean round-trip sample.
            if sent.resends == 0 {
                self.rtt
                    .sample(now.saturating_duration_since(sent.last_sent));
            }
        }
    }

    /// The oldest unacknowledged frame, to send again once its timeout has passed (only the
    /// head of the queue, as the AWS plugin and agent do: the other end acknowledges
    /// what it buffered ahead, so the head is what is missing); an error once it was resent
    /// [`MAX_RESENDS`] times.
    pub fn due(&mut self, now: Instant) -> Result<Option<Vec<u8>>, GaveUp> {
        let timeout = self.rtt.timeout();
        let Some((&sequence_number, head)) = self.unacked.iter_mut().next() else {
            return Ok(None);
        };
        if now.saturating_duration_since(head.last_sent) < timeout {
            return Ok(None);
        }
        if head.resends >= MAX_RESENDS {
            return Err(GaveUp { sequence_number });
        }
        head.last_sent = now;
        head.resends += 1;
        Ok(Some(head.bytes.clone()))
    }

    /// Every unacknowledged frame, oldest first (after a reconnect).
    pub fn outstanding(&mut self, now: Instant) -> Vec<Vec<u8>> {
        self.unacked
            .values_mut()
            .map(|sent| {
                sent.last_sent = now;
                sent.resends += 1;
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
    fn resends_the_head_of_the_queue_until_acknowledged_then_gives_up() {
        let start = Instant::now();
        let mut agent = Stream::new(MessageType::OutputStreamData);
        let first = agent.send(PayloadType::Output, b"x".to_vec(), start);
        let second = agent.send(PayloadType::Output, b"y".to_vec(), start);
        assert_eq!(Frame::decode(&first).unwrap().sequence_number, 0);
        assert_eq!(agent.due(start + Duration::from_millis(50)), Ok(None));
        let rto = agent.retransmission_timeout();
        assert!((MIN_RTO..=MAX_RTO).contains(&rto));
        // Both are overdue; only the head goes again.
        assert_eq!(agent.due(start + rto), Ok(Some(first.clone())));
        assert_eq!(
            agent.due(start + rto),
            Ok(None),
            "not again before its timeout"
        );
        // The other end acknowledges the second (buffered ahead of the gap): the head
        // is still the first.
        let mut client = Stream::new(MessageType::InputStreamData);
        let ack = client.receive(Frame::decode(&second).unwrap(), start);
        agent.receive(Frame::decode(&ack.replies[0]).unwrap(), start);
        assert_eq!(agent.unacknowledged(), 1, "only frame 1 was acknowledged");
        let mut at = start + rto;
        for _ in 1..MAX_RESENDS {
            at += MAX_RTO;
            assert_eq!(agent.due(at), Ok(Some(first.clone())));
        }
        at += MAX_RTO;
        assert_eq!(agent.due(at), Err(GaveUp { sequence_number: 0 }));
    }

    #[test]
    fn both_buffers_are_bounded_in_bytes() {
        let now = Instant::now();
        let big = vec![b'z'; 1 << 20];
        let mut agent = Stream::new(MessageType::OutputStreamData);
        let mut sent = 0;
        while agent.has_room() {
            agent.send(PayloadType::Output, big.clone(), now);
            sent += 1;
        }
        assert_eq!(sent, BUFFER_BYTES >> 20, "the sender holds back once full");
        // Ahead of a gap: frames beyond the limit are dropped unacknowledged.
        let mut client = Stream::new(MessageType::InputStreamData);
        let mut acked = 0;
        for seq in 1..=(sent + 2) {
            let frame = Frame::new(
                MessageType::OutputStreamData,
                i64::try_from(seq).unwrap(),
                0,
                PayloadType::Output,
                big.clone(),
            );
            acked += client.receive(frame, now).replies.len();
        }
        assert_eq!(acked, sent, "held ahead up to the limit, no further");
        // Filling the gap delivers everything held, and makes room again.
        let gap = client.receive(data(0, "a"), now);
        assert_eq!(gap.delivered.len(), sent + 1);
        assert_eq!(client.ahead_bytes, 0);
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
