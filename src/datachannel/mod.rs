//! The Session Manager data channel: the binary frame codec, its JSON payloads and the
//! reliability layer (sequence numbers, acknowledgements, resends, reordering). The native
//! client (`breakglass session`) and the game-day simulator's agent both speak it; the wire
//! format is described in docs/sessions.md.

pub mod client;
pub mod connect;
pub mod crypto;
pub mod forward;
pub mod frame;
pub mod payload;
pub mod stream;

pub use frame::{Frame, FrameError, MessageType, PayloadType};
pub use stream::{Received, Stream};
