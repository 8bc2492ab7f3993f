//! The responder's terminal going away: SIGHUP (the terminal or the SSH connection closed),
//! SIGTERM (asked to stop), or a terminal that reports a hang-up without either signal
//! arriving (a process whose session leader ignores SIGHUP — crossterm's reader would then
//! spin on the dead terminal for ever). Once seen anywhere, the whole process knows it.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{Signal, SignalKind, signal};

static HUNG_UP: AtomicBool = AtomicBool::new(false);

/// Whether this process has seen its terminal go away.
pub fn happened() -> bool {
    HUNG_UP.load(Ordering::SeqCst)
}

/// SIGHUP and SIGTERM, as a future.
pub struct Hangup {
    hup: Option<Signal>,
    term: Option<Signal>,
}

impl Hangup {
    /// Starts listening. Listening replaces the signals' default (ending the process): every
    /// holder must end when [`Hangup::recv`] returns.
    pub fn listen() -> Hangup {
        Hangup {
            hup: signal(SignalKind::hangup()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Returns when either signal arrives (never, if neither could be listened to).
    pub async fn recv(&mut self) {
        tokio::select! {
            Some(()) = async { self.hup.as_mut()?.recv().await } => {}
            Some(()) = async { self.term.as_mut()?.recv().await } => {}
            else => std::future::pending().await,
        }
        HUNG_UP.store(true, Ordering::SeqCst);
    }
}

/// Whether standard input is a terminal that has hung up: poll(2) reports a hang-up or an
/// error on it. Nothing is read (no keystroke is taken). Only meaningful when standard input
/// was a terminal to begin with.
pub fn terminal_gone() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = std::io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::empty())];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let gone = poll(&mut fds, Some(&now)).is_ok_and(|_| {
        fds[0]
            .revents()
            .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
    });
    if gone {
        HUNG_UP.store(true, Ordering::SeqCst);
    }
    gone
}
