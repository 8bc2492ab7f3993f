//! The command-line front end: parse, dispatch, and map errors to exit codes with hints.

mod args;
mod audit;
mod demo;
mod dispatch;
mod list;
mod logging;
mod login;
mod output;
mod playbook;
mod progress;
mod resume;
mod run;
mod session;

pub use args::{
    AuditCommand, AuditReportArgs, AuditShowArgs, AuditVerifyArgs, Cli, Command, DemoArgs,
    ForwardArgs, GlobalArgs, ListArgs, LoginArgs, LogoutArgs, PlaybookCommand, ReportFormat,
    ResumeArgs, RunArgs, RunOptions, SessionArgs,
};
pub use dispatch::{main, report};
pub use list::render_table;
pub use playbook::describe as describe_playbook;
pub use progress::{progress_line, render_plan};
