//! The native client as a [`Remote`]: the data channel of `crate::datachannel`.

use super::terminal::{Remote, RemoteEvent};
use crate::datachannel::client::{Channel, ChannelEvent};
use crate::datachannel::payload::Size;

pub struct Native(pub Channel);

impl Remote for Native {
    fn input(&mut self, bytes: &[u8]) {
        self.0.input(bytes);
    }

    fn resize(&mut self, cols: u16, rows: u16) {
        self.0.resize(Size {
            cols: u32::from(cols),
            rows: u32::from(rows),
        });
    }

    async fn next(&mut self) -> Option<RemoteEvent> {
        loop {
            return Some(match self.0.next().await? {
                ChannelEvent::Output(bytes) => RemoteEvent::Output(bytes),
                ChannelEvent::Ready { .. } | ChannelEvent::Flag(_) => continue,
                ChannelEvent::Reconnecting { attempt } => RemoteEvent::Notice(format!(
                    "the connection dropped; resuming the session (attempt {attempt})…"
                )),
                ChannelEvent::Reconnected => RemoteEvent::Notice("resumed".into()),
                ChannelEvent::Closed { message } => RemoteEvent::Closed(message),
                ChannelEvent::Failed(message) => RemoteEvent::Failed(message),
            });
        }
    }
}
