//! Connections to Redis: a few multiplexed connections, shared by every store call.
//!
//! A `redis` multiplexed connection (and a cluster connection) carries any number of commands
//! at once: clones share one socket and one driver task, which writes every queued command in
//! one go and reads the answers as they come. Holding a connection exclusively per call (as a
//! deadpool checkout does) throws that away: one command in flight per connection, a few
//! syscalls per command, and a 20 KiB checkout future. So the pool keeps a small fixed set of
//! connections (one per core by default: one per actix worker) and hands each thread clones of
//! its own one; getting one is a read lock and a few reference-count increments. A connection's
//! driver task runs on the thread that opened it, so a worker's commands never wait on another
//! worker's thread.
//!
//! Health travels with the clones, in one shared [`Health`] per connection, and liveness is
//! proved without talking to Redis (deadpool-redis `PING`s on every checkout: more than the
//! store's whole budget for a read):
//! - connections to one Redis speak RESP3, so `redis` reports the moment a connection drops
//!   (its push channel gets a disconnection event, even while idle); a dropped connection is
//!   replaced by the next call that picks it, so a restarted Redis costs no failed request;
//! - a command that fails for a connection-level reason (I/O error, timeout) marks its
//!   connection broken, and it is replaced the same way (calls still running on the old one
//!   finish on it; it closes with its last clone);
//! - only a connection idle for longer than the idle check (default 30 s; silent drops by
//!   NATs and load balancers happen after minutes) or, when its drops cannot be watched
//!   (RESP2 servers, cluster connections, connections from a deadpool-redis pool), one that
//!   has not succeeded since some connection failed, is `PING`ed first;
//! - the pool's own TCP connections send keepalive probes after a minute idle (see
//!   `pool/keepalive.rs`), so that idle ones are not dropped silently in the first place.
//!
//! Replacing or checking a connection is done by one call at a time per connection; the calls
//! that pick it meanwhile wait for that one's outcome instead of all connecting at once.

use std::{fmt, sync::Arc, time::Duration};

use ::redis::RedisError;

pub(crate) use self::connection::Node;
pub use self::{builder::RedisPoolBuilder, connection::RedisConnection};
use self::{builder::Source, health::State, slots::Shared};
use crate::StoreError;

mod builder;
mod connection;
#[cfg(feature = "deadpool-redis")]
mod deadpool;
mod health;
mod keepalive;
mod slots;
mod tls;

/// Default for [`RedisPoolBuilder::connect_timeout`].
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default for [`RedisPoolBuilder::response_timeout`].
pub(crate) const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Default for [`RedisPoolBuilder::idle_check`].
pub(crate) const DEFAULT_IDLE_CHECK: Duration = Duration::from_secs(30);

/// The Redis connections of a [`RedisStore`](super::RedisStore), which your app may share.
///
/// A few multiplexed connections (one per core by default) that every store call shares:
/// commands from concurrent requests are pipelined on one socket instead of each request
/// holding a connection of its own. Getting a connection costs no command (no `PING` per
/// checkout: a dropped connection is reported by Redis's RESP3 push channel or found by a
/// failed command, and only one idle for [`idle_check`](RedisPoolBuilder::idle_check) is
/// `PING`ed first); connections are opened on first use and replaced when they drop, and send
/// TCP keepalive probes after a minute idle. Clones share the same connections.
/// [`get`](Self::get) gives a connection for your own commands.
///
/// ```no_run
/// use std::time::Duration;
/// use actix_typed_session::store::{RedisPool, RedisStore};
///
/// # fn main() -> Result<(), actix_typed_session::store::RedisConfigError> {
/// let pool = RedisPool::builder("redis://127.0.0.1:6379")
///     .response_timeout(Duration::from_millis(250))
///     .connections(2)
///     .build()?;
/// let store = RedisStore::new(pool.clone());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisPool {
    shared: Arc<Shared>,
    deadline: Duration,
    cluster: bool,
}

impl fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let open = self
            .shared
            .slots
            .iter()
            .filter(|slot| slot.current().is_some())
            .count();
        f.debug_struct("RedisPool")
            .field("connections", &self.shared.slots.len())
            .field("open", &open)
            .field("deadline", &self.deadline)
            .field("cluster", &self.cluster)
            .finish()
    }
}

/// Building a [`RedisPool`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisConfigError {
    /// A Redis URL could not be parsed (the URL is not repeated here: it may hold a password).
    #[error("invalid Redis URL")]
    Url(#[source] RedisError),
    /// A cluster needs at least one node URL.
    #[error("a Redis Cluster needs at least one node URL")]
    NoNodes,
}

impl RedisPool {
    /// Connections to the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` for TLS with the `redis-rustls` feature), with the defaults of
    /// [`RedisPoolBuilder`]. No connection is made until one is needed.
    ///
    /// ```no_run
    /// let pool = actix_typed_session::store::RedisPool::new("redis://127.0.0.1:6379")?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] when the URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self, RedisConfigError> {
        Self::builder(url).build()
    }

    /// Creates a builder for connections to the Redis at `url`.
    ///
    /// ```no_run
    /// let pool = actix_typed_session::store::RedisPool::builder("redis://127.0.0.1:6379")
    ///     .connections(2)
    ///     .build()?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisPoolBuilder {
        RedisPoolBuilder::new(Source::Url(url.into()))
    }

    /// Connections to the Redis Cluster reachable at any of `nodes` (node URLs), with the
    /// defaults of [`RedisPoolBuilder`].
    ///
    /// ```no_run
    /// let pool = actix_typed_session::store::RedisPool::cluster(["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"])?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] when a URL cannot be parsed, [`RedisConfigError::NoNodes`]
    /// without URLs.
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn cluster<I>(nodes: I) -> Result<Self, RedisConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self::cluster_builder(nodes).build()
    }

    /// Creates a builder for connections to the Redis Cluster reachable at any of `nodes`.
    ///
    /// Each connection follows the cluster's slot map itself: `MOVED`/`ASK` redirections and
    /// failovers are handled by the `redis` crate's cluster client, which keeps one multiplexed
    /// connection per node.
    ///
    /// ```no_run
    /// let pool = actix_typed_session::store::RedisPool::cluster_builder(["redis://10.0.0.1:6379"])
    ///     .connections(2)
    ///     .build()?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn cluster_builder<I>(nodes: I) -> RedisPoolBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        RedisPoolBuilder::new(Source::Cluster(nodes.into_iter().map(Into::into).collect()))
    }

    /// Returns a connection for your own commands, shared with the store and every other caller.
    ///
    /// Commands from all clones are pipelined on one socket, so leave no state behind and
    /// block nothing: no `WATCH`, `SELECT`, `SUBSCRIBE` or blocking commands (`BLPOP`, …), which
    /// would affect or stall the other callers. `MULTI`/`EXEC` sent as one atomic pipeline
    /// (`redis::pipe().atomic()`) is fine.
    ///
    /// ```no_run
    /// # async fn f(pool: actix_typed_session::store::RedisPool) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut conn = pool.get().await?;
    /// let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Timeout`] or [`StoreError::Unavailable`] when no connection can be had.
    pub async fn get(&self) -> Result<RedisConnection, StoreError> {
        let slot = self.shared.pick();
        if let Some(conn) = slot.current() {
            if self.shared.state(&conn.health) == State::Ready {
                return Ok(conn);
            }
        }
        // Boxed: opening a connection is a large future, and the fast path above should not
        // make every caller's future that large.
        Box::pin(self.shared.restore(slot)).await
    }

    /// True for connections to a Redis Cluster.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// Returns the longest a store call may take: the connect timeout plus twice the response
    /// timeout (opening a connection, one command, and a script reload).
    #[must_use]
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

/// Maps a `redis` error onto the store's error variants.
pub(super) fn redis_error(err: RedisError) -> StoreError {
    if err.is_timeout() {
        return StoreError::Timeout;
    }
    // A session key holding something else than a hash: not ours, start afresh.
    if err.code() == Some("WRONGTYPE") {
        return StoreError::corrupt(err);
    }
    StoreError::unavailable(err)
}
