//! Text for people: terminal-safe strings, error chains on one line, width-aware tables and
//! the output format.

mod chain;
mod format;
mod safe;
mod table;

pub use chain::{cause_chain, causes, error_chain};
pub use format::{OutputFormat, terminal_width};
pub use safe::printable;
pub use table::{Column, Table, truncate};
