//! A session file's record: its expiry and data, read without locks or surprises.

use std::{
    fs::File,
    io::{self, Read as _},
    path::Path,
    time::Duration,
};

use rustix::{
    fs::{Mode, OFlags},
    io::Errno,
};
use serde::{Deserialize, Serialize};

use crate::{error::BoxError, store::Entries, StoreError};

/// The record in a session file.
#[derive(Serialize)]
pub(super) struct RecordOut<'a> {
    /// Unix milliseconds.
    pub(super) expires_at: u64,
    pub(super) data: &'a Entries,
}

#[derive(Deserialize)]
struct RecordIn {
    expires_at: u64,
    data: Entries,
}

/// What a session file holds, seen at one instant.
pub(super) enum Stored {
    Absent,
    Expired,
    /// Undecodable, or not a regular file.
    Corrupt(BoxError),
    Live(Entries),
}

/// Reads a session file. Never locks: files are only ever replaced whole, by rename.
///
/// Never follows a symlink and never waits on a FIFO (opened non-blocking, then refused as not
/// a regular file): whatever else sits under a session's name is no session.
pub(super) fn read(path: &Path, now_millis: u64) -> Result<Stored, StoreError> {
    let not_regular = || {
        Ok(Stored::Corrupt(
            "a session file's name is taken by something other than a regular file".into(),
        ))
    };
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let mut file = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(Errno::NOENT) => return Ok(Stored::Absent),
        // What O_NOFOLLOW answers for a symlink (EMLINK on some BSDs).
        Err(Errno::LOOP | Errno::MLINK) => return not_regular(),
        Err(err) => return Err(StoreError::unavailable(io::Error::from(err))),
    };
    let mut bytes = Vec::new();
    let read = file.metadata().and_then(|meta| {
        if meta.is_file() {
            file.read_to_end(&mut bytes).map(Some)
        } else {
            Ok(None)
        }
    });
    match read {
        Ok(Some(_)) => {}
        Ok(None) => return not_regular(),
        Err(err) => return Err(StoreError::unavailable(err)),
    }
    Ok(match serde_json::from_slice::<RecordIn>(&bytes) {
        Ok(record) if record.expires_at > now_millis => Stored::Live(record.data),
        Ok(_) => Stored::Expired,
        Err(err) => Stored::Corrupt(err.into()),
    })
}

/// Unix milliseconds `ttl` after `now_millis`.
pub(super) fn expires_at(now_millis: u64, ttl: Duration) -> u64 {
    let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    now_millis.saturating_add(ttl)
}
