//! Session Manager shells (`breakglass session`, the TUI's shell key): the responder's
//! terminal attached to the native data-channel client or to the AWS plugin on a
//! pseudo-terminal, every session recorded as an asciicast transcript whose hash goes into
//! the audit trail. See docs/sessions.md.

pub mod hangup;
pub mod native;
pub mod plugin;
pub mod terminal;
pub mod transcript;

pub use terminal::{End, Remote, RemoteEvent, attach};
pub use transcript::{Sealed, Transcript};
