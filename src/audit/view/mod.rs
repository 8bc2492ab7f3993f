//! Read-side views of an audit log for people: a run selected from a log, its records
//! summarised, the `audit show` timeline and JSON document, and the chain-of-custody
//! report in Markdown or HTML.

mod event;
mod facts;
mod file;
mod html;
mod json;
mod markdown;
mod report;
mod timeline;

pub use event::Event;
pub use facts::{RecordPin, RunFacts, TargetFacts};
pub use file::{AuditFile, LoggedRecord, RunListing, RunView, SelectError, Verdict};
pub use html::html;
pub use json::ShowDocument;
pub use markdown::markdown;
pub use report::{Block, Cell, Document, ReportContext, Section, build as build_report};
pub use timeline::render_show;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;
