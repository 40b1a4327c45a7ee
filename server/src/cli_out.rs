//! What the command-line tools print. A tool's report is made whole first and written once its
//! work is done: a report that cannot be written (standard output closed, as by `| head` or
//! `| :`) is an error that says what was done, never a panic, so a seller does not take a
//! refund that was made for one that failed, nor lose a secret shown once without knowing.

use std::io::Write as _;

/// Adds a line to a command's report (a `String`), which [`emit`] writes.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use say;

/// Writes a command's report to standard output. `done`: what the command did, when it
/// changed something (and how to get what the report would have shown), for the error
/// returned when the report cannot be written.
pub(crate) fn emit(out: &str, done: Option<String>) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()).map_err(|e| match done {
        Some(done) => format!("{done}, but this could not be written to standard output ({e})"),
        None => format!("could not write to standard output ({e})"),
    })
}
