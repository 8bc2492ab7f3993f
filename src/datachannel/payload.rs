//! The JSON payloads of data-channel frames: the open frame, acknowledgements, the
//! handshake, terminal size and channel_closed. Field names are the service's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::frame::{ACK_FLAGS, Frame, MessageType, PayloadType};

/// The first (text) frame a client sends on a new or resumed connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OpenDataChannel {
    pub message_schema_version: String,
    pub request_id: String,
    pub token_value: String,
    pub client_id: String,
    pub client_version: String,
}

/// The body of an `acknowledge` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    #[serde(rename = "AcknowledgedMessageType")]
    pub message_type: String,
    #[serde(rename = "AcknowledgedMessageId")]
    pub message_id: String,
    #[serde(rename = "AcknowledgedMessageSequenceNumber")]
    pub sequence_number: i64,
    #[serde(rename = "IsSequentialMessage")]
    pub is_sequential: bool,
}

impl Acknowledge {
    /// The acknowledgement frame for a received stream-data frame.
    pub fn frame_for(received: &Frame) -> Frame {
        let body = Acknowledge {
            message_type: received.message_type.as_str().to_owned(),
            message_id: received.message_id.to_string(),
            sequence_number: received.sequence_number,
            is_sequential: true,
        };
        Frame::new(
            MessageType::Acknowledge,
            0,
            ACK_FLAGS,
            PayloadType::None,
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }
}

/// One action the agent asks the client to take during the handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestedClientAction {
    /// `SessionType` or `KMSEncryption`.
    pub action_type: String,
    #[serde(default)]
    pub action_parameters: Value,
}

/// Agent → client, first stream-data frame of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HandshakeRequest {
    pub agent_version: String,
    #[serde(default)]
    pub requested_client_actions: Vec<RequestedClientAction>,
}

/// 1 success, 2 failed, 3 unsupported.
pub const ACTION_SUCCESS: u32 = 1;
pub const ACTION_FAILED: u32 = 2;
pub const ACTION_UNSUPPORTED: u32 = 3;

/// How the client handled one requested action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessedClientAction {
    pub action_type: String,
    pub action_status: u32,
    #[serde(default)]
    pub action_result: Value,
    #[serde(default)]
    pub error: String,
}

/// Client → agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HandshakeResponse {
    pub client_version: String,
    pub processed_client_actions: Vec<ProcessedClientAction>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Agent → client: the session is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HandshakeComplete {
    /// Nanoseconds, as the agent reports it.
    #[serde(default)]
    pub handshake_time_to_complete: i64,
    #[serde(default)]
    pub customer_message: String,
}

/// The flags of a port session (payload type `Flag`, a big-endian u32).
pub mod flag {
    /// Client → agent: the local connection closed (basic forwarding; the agent closes its
    /// connection to the port and dials again on the next data).
    pub const DISCONNECT_TO_PORT: u32 = 1;
    /// Client → agent: end the session.
    pub const TERMINATE_SESSION: u32 = 2;
    /// Agent → client: the agent could not connect to the port.
    pub const CONNECT_TO_PORT_ERROR: u32 = 3;
}

/// The terminal size, sent on start and on every resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub cols: u32,
    pub rows: u32,
}

/// The body of a `channel_closed` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ChannelClosed {
    pub message_id: String,
    pub created_date: String,
    pub destination_id: String,
    pub session_id: String,
    pub message_type: String,
    pub schema_version: i64,
    pub output: String,
}
