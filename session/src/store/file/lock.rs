//! The file store's locks: 64 lock files shared by every process on the directory, each
//! taken with a deadline so that a hung lock holder fails requests instead of stalling them.

use std::{
    fs::File,
    io,
    path::Path,
    sync::{Condvar, Mutex, PoisonError},
    thread,
    time::{Duration, Instant},
};

use rustix::{
    fs::{FlockOperation, Mode, OFlags},
    io::Errno,
};

use crate::{SessionId, StoreError};

/// Sessions are spread over this many lock files by the first character of their id (one of 64
/// base64 characters). All processes on a directory must agree on this mapping.
pub(super) const LOCK_STRIPES: usize = 64;

/// The longest pause between two tries of a lock file another process holds.
const MAX_POLL_PAUSE: Duration = Duration::from_millis(10);

/// One lock file, and the turn-taking of this process's threads on it (`flock` locks belong
/// to the open file, which all threads share, so it cannot keep them apart).
pub(super) struct Stripe {
    file: File,
    /// True while a thread of this process holds the stripe.
    taken: Mutex<bool>,
    freed: Condvar,
}

/// A held stripe; dropping it releases the lock file and wakes a waiting thread.
pub(super) struct Held<'a> {
    stripe: &'a Stripe,
    flocked: bool,
}

impl Stripe {
    /// Opens (creating it 0600 if missing) the lock file at `path`, which must be a regular
    /// file and not a symlink.
    pub(super) fn open(path: &Path) -> io::Result<Self> {
        let flags =
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = File::from(rustix::fs::open(path, flags, Mode::RUSR | Mode::WUSR)?);
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the lock file is not a regular file",
            ));
        }
        Ok(Self {
            file,
            taken: Mutex::new(false),
            freed: Condvar::new(),
        })
    }

    /// Takes the stripe, first from this process's other threads, then from other processes,
    /// giving up with [`StoreError::Timeout`] at `deadline`.
    fn lock(&self, deadline: Instant) -> Result<Held<'_>, StoreError> {
        // A panic while holding a stripe cannot leave a file half-written, so poison is moot.
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        while *taken {
            let left = time_left(deadline)?;
            taken = self
                .freed
                .wait_timeout(taken, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *taken = true;
        drop(taken);
        let mut held = Held {
            stripe: self,
            flocked: false,
        };
        // `flock` cannot wait with a deadline, so try without blocking and pause in between.
        let mut pause = Duration::from_micros(50);
        loop {
            match rustix::fs::flock(&self.file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {
                    held.flocked = true;
                    return Ok(held);
                }
                Err(Errno::WOULDBLOCK | Errno::INTR) => {}
                Err(err) => return Err(StoreError::unavailable(io::Error::from(err))),
            }
            thread::sleep(pause.min(time_left(deadline)?));
            pause = (pause * 2).min(MAX_POLL_PAUSE);
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.flocked {
            // Closing is not an option (the file is shared); an unlock of a held lock on an
            // open file does not fail.
            let _ = rustix::fs::flock(&self.stripe.file, FlockOperation::Unlock);
        }
        *self
            .stripe
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = false;
        self.stripe.freed.notify_one();
    }
}

/// Takes the stripes of all `ids` (each once, lowest first, so that two callers wanting the
/// same two stripes cannot each hold one and wait for the other), within `timeout` in all.
pub(super) fn lock_all<'a>(
    stripes: &'a [Stripe],
    ids: &[&SessionId],
    timeout: Duration,
) -> Result<Vec<Held<'a>>, StoreError> {
    let deadline = Instant::now() + timeout;
    let mut wanted: Vec<usize> = ids.iter().map(|id| stripe(id)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted
        .into_iter()
        .map(|index| stripes[index].lock(deadline))
        .collect()
}

fn time_left(deadline: Instant) -> Result<Duration, StoreError> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(StoreError::Timeout),
    }
}

/// The lock stripe of `id`: the base64 value of its first character, uniform over 0..64.
pub(super) fn stripe(id: &SessionId) -> usize {
    let first = id.as_str().as_bytes()[0];
    let value = match first {
        b'A'..=b'Z' => first - b'A',
        b'a'..=b'z' => first - b'a' + 26,
        b'0'..=b'9' => first - b'0' + 52,
        b'-' => 62,
        _ => 63,
    };
    usize::from(value) % LOCK_STRIPES
}
