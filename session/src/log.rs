//! Logging helpers: causes go to `tracing`, never to the client.

use std::error::Error;

/// Logs `err` and its whole `source()` chain at error level.
pub(crate) fn error_chain(what: &str, err: &(dyn Error + 'static)) {
    tracing::error!(error = %chain(err), "{what}");
}

/// `err: cause: cause…` on one line.
pub(crate) fn chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}
