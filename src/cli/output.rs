//! Printing a command's result on stdout: text as it is, or one JSON document; a closed
//! pipe (`breakglass list | head`) is not an error.

use std::io::Write;

use crate::app::Error;

/// Writes to stdout; a closed pipe (`breakglass list | head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output(err)),
        _ => Ok(()),
    }
}

/// Pretty JSON plus a trailing newline, on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Output(std::io::Error::other(e)))?;
    text.push('\n');
    print_stdout(&text)
}
