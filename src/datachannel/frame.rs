//! The binary frame of the Session Manager data channel ("ClientMessage"): a fixed
//! 120-byte big-endian header followed by the payload. Layout and field meanings are in
//! docs/sessions.md; both the native client and the sandbox agent use this codec.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The value of the header-length field (the payload length field starts here).
pub const HEADER_LENGTH: u32 = 116;
/// Offset of the payload.
const PAYLOAD_OFFSET: usize = HEADER_LENGTH as usize + 4;
const MESSAGE_TYPE_LEN: usize = 32;

/// Flags of an acknowledgement frame.
pub const ACK_FLAGS: u64 = 3;

/// The kind of frame, a space-padded ASCII name on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    InputStreamData,
    OutputStreamData,
    Acknowledge,
    ChannelClosed,
    StartPublication,
    PausePublication,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::InputStreamData => "input_stream_data",
            MessageType::OutputStreamData => "output_stream_data",
            MessageType::Acknowledge => "acknowledge",
            MessageType::ChannelClosed => "channel_closed",
            MessageType::StartPublication => "start_publication",
            MessageType::PausePublication => "pause_publication",
        }
    }

    fn parse(name: &str) -> Option<MessageType> {
        [
            MessageType::InputStreamData,
            MessageType::OutputStreamData,
            MessageType::Acknowledge,
            MessageType::ChannelClosed,
            MessageType::StartPublication,
            MessageType::PausePublication,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }

    /// Stream data is numbered, acknowledged and resent; control frames are not.
    pub fn is_stream_data(self) -> bool {
        matches!(
            self,
            MessageType::InputStreamData | MessageType::OutputStreamData
        )
    }
}

/// What the payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// Acknowledgements and control frames carry no payload type.
    None,
    Output,
    Error,
    /// Terminal size, `{"cols","rows"}`.
    Size,
    Parameter,
    HandshakeRequest,
    HandshakeResponse,
    HandshakeComplete,
    EncChallengeRequest,
    EncChallengeResponse,
    /// A 4-byte flag (port sessions: disconnect, terminate, connect error).
    Flag,
    StdErr,
    ExitCode,
    /// A type this build does not know (kept, so the frame can still be acknowledged).
    Other(u32),
}

impl PayloadType {
    pub fn code(self) -> u32 {
        match self {
            PayloadType::None => 0,
            PayloadType::Output => 1,
            PayloadType::Error => 2,
            PayloadType::Size => 3,
            PayloadType::Parameter => 4,
            PayloadType::HandshakeRequest => 5,
            PayloadType::HandshakeResponse => 6,
            PayloadType::HandshakeComplete => 7,
            PayloadType::EncChallengeRequest => 8,
            PayloadType::EncChallengeResponse => 9,
            PayloadType::Flag => 10,
            PayloadType::StdErr => 11,
            PayloadType::ExitCode => 12,
            PayloadType::Other(code) => code,
        }
    }

    pub fn from_code(code: u32) -> PayloadType {
        match code {
            0 => PayloadType::None,
            1 => PayloadType::Output,
            2 => PayloadType::Error,
            3 => PayloadType::Size,
            4 => PayloadType::Parameter,
            5 => PayloadType::HandshakeRequest,
            6 => PayloadType::HandshakeResponse,
            7 => PayloadType::HandshakeComplete,
            8 => PayloadType::EncChallengeRequest,
            9 => PayloadType::EncChallengeResponse,
            10 => PayloadType::Flag,
            11 => PayloadType::StdErr,
            12 => PayloadType::ExitCode,
            other => PayloadType::Other(other),
        }
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub message_type: MessageType,
    pub schema_version: u32,
    /// Milliseconds since the epoch.
    pub created_ms: u64,
    pub sequence_number: i64,
    pub flags: u64,
    pub message_id: Uuid,
    pub payload_type: PayloadType,
    pub payload: Vec<u8>,
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {0} bytes is shorter than the {PAYLOAD_OFFSET}-byte header")]
    Short(usize),
    #[error("header length {0} is not {HEADER_LENGTH}")]
    HeaderLength(u32),
    #[error("unknown message type {0:?}")]
    MessageType(String),
    #[error("payload length {declared} does not match the {actual} bytes present")]
    PayloadLength { declared: u32, actual: usize },
    #[error("payload digest does not match its SHA-256")]
    Digest,
}

impl Frame {
    /// A new frame stamped now with a fresh message id.
    pub fn new(
        message_type: MessageType,
        sequence_number: i64,
        flags: u64,
        payload_type: PayloadType,
        payload: Vec<u8>,
    ) -> Frame {
        Frame {
            message_type,
            schema_version: 1,
            created_ms: u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0),
            sequence_number,
            flags,
            message_id: Uuid::new_v4(),
            payload_type,
            payload,
        }
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PAYLOAD_OFFSET + self.payload.len());
        out.extend_from_slice(&HEADER_LENGTH.to_be_bytes());
        let mut name = [b' '; MESSAGE_TYPE_LEN];
        let type_name = self.message_type.as_str().as_bytes();
        name[..type_name.len()].copy_from_slice(type_name);
        out.extend_from_slice(&name);
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&uuid_to_wire(self.message_id));
        out.extend_from_slice(&Sha256::digest(&self.payload));
        out.extend_from_slice(&self.payload_type.code().to_be_bytes());
        let length = u32::try_from(self.payload.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Parses wire bytes, checking the lengths and (for a non-empty payload) the digest.
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        if bytes.len() < PAYLOAD_OFFSET {
            return Err(FrameError::Short(bytes.len()));
        }
        let u32_at = |at: usize| u32::from_be_bytes(array(&bytes[at..at + 4]));
        let u64_at = |at: usize| u64::from_be_bytes(array(&bytes[at..at + 8]));
        let header_length = u32_at(0);
        if header_length != HEADER_LENGTH {
            return Err(FrameError::HeaderLength(header_length));
        }
        let name = String::from_utf8_lossy(&bytes[4..4 + MESSAGE_TYPE_LEN])
            .trim_matches(|c: char| c == ' ' || c == '\0')
            .to_owned();
        let message_type = MessageType::parse(&name).ok_or(FrameError::MessageType(name))?;
        let declared = u32_at(116);
        let payload = &bytes[PAYLOAD_OFFSET..];
        if usize::try_from(declared).ok() != Some(payload.len()) {
            return Err(FrameError::PayloadLength {
                declared,
                actual: payload.len(),
            });
        }
        if !payload.is_empty() && Sha256::digest(payload).as_slice() != &bytes[80..112] {
            return Err(FrameError::Digest);
        }
        Ok(Frame {
            message_type,
            schema_version: u32_at(36),
            created_ms: u64_at(40),
            sequence_number: i64::from_be_bytes(array(&bytes[48..56])),
            flags: u64_at(56),
            message_id: uuid_from_wire(&bytes[64..80]),
            payload_type: PayloadType::from_code(u32_at(112)),
            payload: payload.to_vec(),
        })
    }
}

fn array<const N: usize>(slice: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(slice);
    out
}

/// The message id on the wire: the UUID's low 8 bytes first, then its high 8.
fn uuid_to_wire(id: Uuid) -> [u8; 16] {
    let bytes = id.as_bytes();
    let mut out = [0; 16];
    out[..8].copy_from_slice(&bytes[8..]);
    out[8..].copy_from_slice(&bytes[..8]);
    out
}

fn uuid_from_wire(wire: &[u8]) -> Uuid {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&wire[8..16]);
    bytes[8..].copy_from_slice(&wire[..8]);
    Uuid::from_bytes(bytes)
}
