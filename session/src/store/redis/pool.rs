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

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use ::redis::{
    aio::{ConnectionLike, MultiplexedConnection},
    AsyncConnectionConfig, Client, Cmd, IntoConnectionInfo, Pipeline, ProtocolVersion, PushKind,
    RedisError, RedisFuture, RedisResult, Value,
};

use crate::StoreError;

#[cfg(feature = "deadpool-redis")]
mod deadpool;
mod keepalive;
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
/// holding a connection of its own. Getting a connection costs no command (see the module
/// source for how liveness is proved instead of deadpool-redis's `PING` per checkout);
/// connections are opened on first use and replaced when they drop, and send TCP keepalive
/// probes after a minute idle. Clones share the same connections.
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

enum Source {
    Url(String),
    #[cfg(feature = "deadpool-redis")]
    DeadpoolRedis(deadpool_redis::Pool),
    #[cfg(feature = "redis-cluster")]
    Cluster(Vec<String>),
}

/// Builds a [`RedisPool`]; see each setting for its default.
#[must_use]
pub struct RedisPoolBuilder {
    source: Source,
    tls: tls::Tls,
    connect_timeout: Duration,
    response_timeout: Duration,
    idle_check: Duration,
    connections: usize,
}

impl fmt::Debug for RedisPoolBuilder {
    // The source may hold a password: show only its kind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Url(_) => "url",
            #[cfg(feature = "deadpool-redis")]
            Source::DeadpoolRedis(_) => "deadpool-redis pool",
            #[cfg(feature = "redis-cluster")]
            Source::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisPoolBuilder")
            .field("source", &source)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("idle_check", &self.idle_check)
            .field("connections", &self.connections)
            .finish()
    }
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

    /// A builder for connections to the Redis at `url`.
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

    /// A builder for connections to the Redis Cluster reachable at any of `nodes`.
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

    /// A connection for your own commands, shared with the store and every other caller.
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

    /// The longest a store call may take: the connect timeout plus twice the response timeout
    /// (opening a connection, one command, and a script reload).
    #[must_use]
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl RedisPoolBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            tls: tls::Tls::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            idle_check: DEFAULT_IDLE_CHECK,
            connections: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// How long opening a connection may take (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long Redis may take to answer a command (default 1 s).
    /// A Redis that stops answering fails requests after this, with [`StoreError::Timeout`].
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Connections idle longer than this are `PING`ed before reuse (default
    /// 30 s), so one silently dropped by the network fails no request.
    pub fn idle_check(mut self, after: Duration) -> Self {
        self.idle_check = after;
        self
    }

    /// How many connections to keep (default: one per available core, actix's default number
    /// of workers; at least one). Each carries any number of concurrent commands. Threads are
    /// given connections in turn on their first call, so with at least as many connections as
    /// worker threads every worker has its own, and its commands never wait on another
    /// thread's driver task.
    pub fn connections(mut self, count: usize) -> Self {
        self.connections = count.max(1);
        self
    }

    /// Builds the pool. No connection is opened yet.
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] for an unparsable URL, [`RedisConfigError::NoNodes`] for a
    /// cluster without URLs.
    pub fn build(self) -> Result<RedisPool, RedisConfigError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout));
        let factory = match self.source {
            Source::Url(url) => {
                let info = url
                    .as_str()
                    .into_connection_info()
                    .map_err(RedisConfigError::Url)?;
                let info = info
                    .clone()
                    .set_tcp_settings(keepalive::on(info.tcp_settings()));
                let resp3 = info.clone().set_redis_settings(
                    info.redis_settings()
                        .clone()
                        .set_protocol(ProtocolVersion::RESP3),
                );
                Factory::Single(Box::new(Single {
                    resp3: self.tls.client(resp3).map_err(RedisConfigError::Url)?,
                    resp2: self.tls.client(info).map_err(RedisConfigError::Url)?,
                    resp3_refused: AtomicBool::new(false),
                    config,
                }))
            }
            #[cfg(feature = "deadpool-redis")]
            Source::DeadpoolRedis(pool) => Factory::DeadpoolRedis(pool),
            #[cfg(feature = "redis-cluster")]
            Source::Cluster(nodes) => {
                if nodes.is_empty() {
                    return Err(RedisConfigError::NoNodes);
                }
                let infos = nodes
                    .iter()
                    .map(|url| url.as_str().into_connection_info())
                    .collect::<RedisResult<Vec<_>>>()
                    .map_err(RedisConfigError::Url)?;
                let client = (self.tls)
                    .cluster(::redis::cluster::ClusterClientBuilder::new(infos))
                    .tcp_settings(keepalive::on(&Default::default()))
                    .connection_timeout(self.connect_timeout)
                    .response_timeout(self.response_timeout)
                    // Room for one redirection or retry, within the store's deadline.
                    .overall_response_timeout(Some(2 * self.response_timeout))
                    .build()
                    .map_err(RedisConfigError::Url)?;
                Factory::Cluster(Box::new(client))
            }
        };
        let cluster = factory.is_cluster();
        let shared = Shared {
            factory,
            slots: (0..self.connections).map(|_| Slot::default()).collect(),
            id: {
                static POOLS: AtomicUsize = AtomicUsize::new(0);
                POOLS.fetch_add(1, Ordering::Relaxed)
            },
            next: AtomicUsize::new(0),
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            idle_check: self.idle_check,
            clock: Arc::new(Clock::default()),
        };
        Ok(RedisPool {
            shared: Arc::new(shared),
            deadline: self.connect_timeout + 2 * self.response_timeout,
            cluster,
        })
    }
}

/// Milliseconds since the pool started, plus one (zero means never), shared by its connections.
#[derive(Debug)]
struct Clock {
    epoch: Instant,
    last_failure: AtomicU64,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            last_failure: AtomicU64::new(0),
        }
    }
}

impl Clock {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }
}

/// Connections to one Redis.
struct Single {
    resp3: Client,
    resp2: Client,
    /// The server does not speak RESP3 (Redis before 6): connect with RESP2, unwatched.
    resp3_refused: AtomicBool,
    config: AsyncConnectionConfig,
}

enum Factory {
    Single(Box<Single>),
    #[cfg(feature = "deadpool-redis")]
    DeadpoolRedis(deadpool_redis::Pool),
    #[cfg(feature = "redis-cluster")]
    Cluster(Box<::redis::cluster::ClusterClient>),
}

impl Factory {
    fn is_cluster(&self) -> bool {
        #[cfg(feature = "redis-cluster")]
        if let Factory::Cluster(_) = self {
            return true;
        }
        false
    }
}

/// What every clone of one connection knows of its health.
#[derive(Debug)]
struct Health {
    /// `redis` tells when the connection drops (RESP3 push channel).
    watched: bool,
    /// Dropped, or a command failed for a connection-level reason: replace it. Never unset.
    broken: AtomicBool,
    /// [`Clock::now`] of the last command that got an answer.
    last_ok: AtomicU64,
    clock: Arc<Clock>,
}

impl Health {
    fn new(watched: bool, clock: &Arc<Clock>) -> Arc<Self> {
        Arc::new(Self {
            watched,
            broken: AtomicBool::new(false),
            last_ok: AtomicU64::new(clock.now()),
            clock: clock.clone(),
        })
    }

    fn note<T>(&self, result: &RedisResult<T>) {
        match result {
            Err(err) if is_connection_error(err) => {
                self.broken.store(true, Ordering::Relaxed);
                self.clock
                    .last_failure
                    .fetch_max(self.clock.now(), Ordering::Relaxed);
            }
            // An answer, even an error one: the connection is fine.
            _ => {
                self.last_ok.fetch_max(self.clock.now(), Ordering::Relaxed);
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
enum State {
    Ready,
    /// Idle for long, or unwatched and not proven since a failure: `PING` it first.
    Unproven,
    Lost,
}

/// One of the pool's connections, opened on first use and replaced when lost.
#[derive(Default)]
struct Slot {
    conn: RwLock<Option<RedisConnection>>,
    /// Held while checking or replacing the connection, so that one call does it.
    turn: tokio::sync::Mutex<()>,
}

impl Slot {
    fn current(&self) -> Option<RedisConnection> {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, conn: RedisConnection) {
        *self.conn.write().unwrap_or_else(PoisonError::into_inner) = Some(conn);
    }
}

struct Shared {
    factory: Factory,
    slots: Box<[Slot]>,
    /// Tells this pool apart in each thread's slot assignments.
    id: usize,
    /// The slot the next new thread gets.
    next: AtomicUsize,
    connect_timeout: Duration,
    response_timeout: Duration,
    idle_check: Duration,
    clock: Arc<Clock>,
}

impl Shared {
    /// The calling thread's slot: threads are given slots in turn on their first call, so with
    /// at least as many connections as worker threads each worker has its own. A connection's
    /// driver task runs on the thread that opened it, so a worker's commands and answers then
    /// never cross threads.
    fn pick(&self) -> &Slot {
        match &*self.slots {
            [only] => only,
            slots => &slots[self.thread_slot() % slots.len()],
        }
    }

    fn thread_slot(&self) -> usize {
        thread_local! {
            /// (pool id, slot) for each pool this thread has used.
            static ASSIGNED: std::cell::RefCell<Vec<(usize, usize)>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        ASSIGNED.with_borrow_mut(|assigned| {
            if let Some(&(_, slot)) = assigned.iter().find(|(pool, _)| *pool == self.id) {
                return slot;
            }
            let slot = self.next.fetch_add(1, Ordering::Relaxed);
            assigned.push((self.id, slot));
            slot
        })
    }

    fn state(&self, health: &Health) -> State {
        if health.broken.load(Ordering::Relaxed) {
            return State::Lost;
        }
        let last_ok = health.last_ok.load(Ordering::Relaxed);
        let idle = Duration::from_millis(self.clock.now().saturating_sub(last_ok));
        let suspect = !health.watched && self.clock.last_failure.load(Ordering::Relaxed) >= last_ok;
        if idle >= self.idle_check || suspect {
            State::Unproven
        } else {
            State::Ready
        }
    }

    /// The slow path of [`RedisPool::get`]: proves or replaces the slot's connection.
    async fn restore(&self, slot: &Slot) -> Result<RedisConnection, StoreError> {
        let _turn = slot.turn.lock().await;
        // Another call may have done it while this one waited for its turn.
        if let Some(mut conn) = slot.current() {
            match self.state(&conn.health) {
                State::Ready => return Ok(conn),
                State::Unproven => {
                    let ping = ::redis::cmd("PING");
                    let pong = ping.query_async::<String>(&mut conn);
                    match tokio::time::timeout(self.response_timeout, pong).await {
                        Ok(Ok(_)) => return Ok(conn),
                        Ok(Err(_)) => {}
                        Err(_) => conn.health.broken.store(true, Ordering::Relaxed),
                    }
                }
                State::Lost => {}
            }
        }
        let conn = match tokio::time::timeout(self.connect_timeout, self.connect()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(err)) => return Err(redis_error(err)),
            Err(_) => return Err(StoreError::Timeout),
        };
        slot.set(conn.clone());
        Ok(conn)
    }

    async fn connect(&self) -> RedisResult<RedisConnection> {
        match &self.factory {
            Factory::Single(single) => self.connect_single(single).await,
            #[cfg(feature = "deadpool-redis")]
            Factory::DeadpoolRedis(pool) => self.connect_deadpool(pool).await,
            #[cfg(feature = "redis-cluster")]
            Factory::Cluster(client) => Ok(RedisConnection {
                inner: Inner::Cluster(client.get_async_connection().await?),
                health: Health::new(false, &self.clock),
            }),
        }
    }

    async fn connect_single(&self, single: &Single) -> RedisResult<RedisConnection> {
        let Single {
            resp3,
            resp2,
            resp3_refused,
            config,
        } = single;
        if !resp3_refused.load(Ordering::Relaxed) {
            let health = Health::new(true, &self.clock);
            let watch = health.clone();
            let config = config
                .clone()
                .set_push_sender(move |info: ::redis::PushInfo| {
                    if info.kind == PushKind::Disconnection {
                        watch.broken.store(true, Ordering::Relaxed);
                    }
                    Ok::<(), std::convert::Infallible>(())
                });
            match resp3
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(conn) => {
                    return Ok(RedisConnection {
                        inner: Inner::Single(conn),
                        health,
                    })
                }
                Err(err) if err.kind() == ::redis::ErrorKind::RESP3NotSupported => {
                    tracing::info!(
                        "Redis does not speak RESP3; dropped connections are found on use"
                    );
                    resp3_refused.store(true, Ordering::Relaxed);
                }
                Err(err) => return Err(err),
            }
        }
        let conn = resp2
            .get_multiplexed_async_connection_with_config(config)
            .await?;
        Ok(RedisConnection {
            inner: Inner::Single(conn),
            health: Health::new(false, &self.clock),
        })
    }
}

#[derive(Clone)]
enum Inner {
    Single(MultiplexedConnection),
    #[cfg(feature = "redis-cluster")]
    Cluster(::redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Inner {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Inner::Single(c) => c.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            Inner::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Inner::Single(c) => c.req_packed_commands(cmd, offset, count),
            #[cfg(feature = "redis-cluster")]
            Inner::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Inner::Single(c) => c.get_db(),
            #[cfg(feature = "redis-cluster")]
            Inner::Cluster(c) => c.get_db(),
        }
    }
}

/// A connection of a [`RedisPool`]; run commands on it with the `redis` crate.
///
/// Clones share one connection (and with it, the pool's other callers). Commands that fail
/// for a connection-level reason mark it, and the pool replaces it. See [`RedisPool::get`].
#[derive(Clone)]
pub struct RedisConnection {
    inner: Inner,
    health: Arc<Health>,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnection")
            .field("broken", &self.health.broken.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let health = &self.health;
        let reply = self.inner.req_packed_command(cmd);
        Box::pin(async move {
            let result = reply.await;
            health.note(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let health = &self.health;
        let reply = self.inner.req_packed_commands(cmd, offset, count);
        Box::pin(async move {
            let result = reply.await;
            health.note(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
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
