//! What the pool knows of each connection's health, without asking Redis.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

use ::redis::{RedisError, RedisResult};

/// Milliseconds since the pool started, plus one (zero means never), shared by its connections.
#[derive(Debug)]
pub(super) struct Uptime {
    epoch: Instant,
    /// [`Uptime::now`] of the last connection-level failure of any connection.
    pub(super) last_failure: AtomicU64,
}

impl Default for Uptime {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            last_failure: AtomicU64::new(0),
        }
    }
}

impl Uptime {
    pub(super) fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }
}

/// What every clone of one connection knows of its health.
#[derive(Debug)]
pub(super) struct Health {
    /// `redis` tells when the connection drops (RESP3 push channel).
    pub(super) watched: bool,
    /// Dropped, or a command failed for a connection-level reason: replace it. Never unset.
    pub(super) broken: AtomicBool,
    /// [`Uptime::now`] of the last command that got an answer.
    pub(super) last_ok: AtomicU64,
    uptime: Arc<Uptime>,
}

impl Health {
    pub(super) fn new(watched: bool, uptime: &Arc<Uptime>) -> Arc<Self> {
        Arc::new(Self {
            watched,
            broken: AtomicBool::new(false),
            last_ok: AtomicU64::new(uptime.now()),
            uptime: uptime.clone(),
        })
    }

    pub(super) fn note<T>(&self, result: &RedisResult<T>) {
        match result {
            Err(err) if is_connection_error(err) => {
                self.broken.store(true, Ordering::Relaxed);
                self.uptime
                    .last_failure
                    .fetch_max(self.uptime.now(), Ordering::Relaxed);
            }
            // An answer, even an error one: the connection is fine.
            _ => {
                self.last_ok.fetch_max(self.uptime.now(), Ordering::Relaxed);
            }
        }
    }
}

/// The error says the connection, not the command, failed.
fn is_connection_error(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_unrecoverable_error()
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum State {
    Ready,
    /// Idle for long, or unwatched and not proven since a failure: `PING` it first.
    Unproven,
    Lost,
}
