//! What the cockpit's event loop draws on and reads keys from: the real terminal
//! (crossterm's event stream, ratatui's alternate screen), or — in tests — ratatui's
//! `TestBackend` fed from a channel, with every drawn screen published as text.

use std::future::Future;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use tokio::sync::{mpsc, watch};

/// A screen and a source of terminal events.
pub trait Console {
    type Backend: Backend;

    fn terminal(&mut self) -> &mut Terminal<Self::Backend>;

    /// The next terminal event; `None` when input has ended.
    fn next_event(&mut self) -> impl Future<Output = Option<std::io::Result<Event>>>;

    /// After each frame (a test console publishes it).
    fn drawn(&mut self) {}

    /// Gives the terminal to a shell: keys are no longer read, the screen and mode restored.
    fn suspend(&mut self);

    /// Takes the terminal back after [`Console::suspend`].
    fn resume(&mut self);

    /// Whether the terminal has gone away (hung up) without a signal saying so.
    fn hung_up(&self) -> bool {
        false
    }
}

/// The process's terminal, in raw mode on the alternate screen while the cockpit runs.
pub struct TerminalConsole {
    terminal: ratatui::DefaultTerminal,
    events: Option<EventStream>,
    /// Whether standard input was a terminal when the cockpit started.
    tty: bool,
}

impl TerminalConsole {
    /// Enters raw mode and the alternate screen; ratatui's panic hook restores the
    /// terminal before a panic message. [`TerminalConsole::restore`] leaves.
    pub fn enter() -> TerminalConsole {
        use std::io::IsTerminal;
        TerminalConsole {
            terminal: ratatui::init(),
            events: Some(EventStream::new()),
            tty: std::io::stdin().is_terminal(),
        }
    }

    /// Leaves raw mode and the alternate screen.
    pub fn restore(self) {
        ratatui::restore();
    }
}

impl Console for TerminalConsole {
    type Backend = ratatui::backend::CrosstermBackend<std::io::Stdout>;

    fn terminal(&mut self) -> &mut Terminal<Self::Backend> {
        &mut self.terminal
    }

    async fn next_event(&mut self) -> Option<std::io::Result<Event>> {
        self.events
            .get_or_insert_with(EventStream::new)
            .next()
            .await
    }

    fn suspend(&mut self) {
        self.events = None;
        ratatui::restore();
    }

    fn resume(&mut self) {
        self.terminal = ratatui::init();
        let _ = self.terminal.clear();
        self.events = Some(EventStream::new());
    }

    fn hung_up(&self) -> bool {
        self.tty && crate::shell::hangup::terminal_gone()
    }
}

/// A console for tests: events come from [`TestConsole::new`]'s sender, and every frame
/// drawn is published as its lines of text.
pub struct TestConsole {
    terminal: Terminal<TestBackend>,
    events: mpsc::UnboundedReceiver<Event>,
    frames: watch::Sender<String>,
}

impl TestConsole {
    /// A `width`×`height` screen, the sender that types into it, and the frames drawn.
    pub fn new(
        width: u16,
        height: u16,
    ) -> (
        TestConsole,
        mpsc::UnboundedSender<Event>,
        watch::Receiver<String>,
    ) {
        let (keys, events) = mpsc::unbounded_channel();
        let (frames, screen) = watch::channel(String::new());
        let terminal = match Terminal::new(TestBackend::new(width, height)) {
            Ok(terminal) => terminal,
            Err(never) => match never {},
        };
        (
            TestConsole {
                terminal,
                events,
                frames,
            },
            keys,
            screen,
        )
    }
}

impl Console for TestConsole {
    type Backend = TestBackend;

    fn terminal(&mut self) -> &mut Terminal<TestBackend> {
        &mut self.terminal
    }

    async fn next_event(&mut self) -> Option<std::io::Result<Event>> {
        self.events.recv().await.map(Ok)
    }

    fn drawn(&mut self) {
        let buffer = self.terminal.backend().buffer();
        let width = usize::from(buffer.area.width.max(1));
        let cells: Vec<&str> = buffer.content.iter().map(|c| c.symbol()).collect();
        let text: Vec<String> = cells.chunks(width).map(|row| row.concat()).collect();
        self.frames.send_replace(text.join("\n"));
    }

    fn suspend(&mut self) {}

    fn resume(&mut self) {}
}
