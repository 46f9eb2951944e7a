//! Connections to Redis: a deadpool pool whose checkouts cost no round trip.
//!
//! deadpool-redis's own manager sends `UNWATCH` and `PING` on every checkout to prove the
//! connection alive: two extra commands per request, more than the store's whole budget for a
//! read. This manager proves liveness without talking to Redis:
//! - connections to one Redis speak RESP3, so `redis` reports the moment a connection drops
//!   (its push channel gets a disconnection event, even while idle); a dropped connection is
//!   discarded at checkout, so a restarted Redis costs no failed request;
//! - a command that fails for a connection-level reason (I/O error, timeout) marks its
//!   connection broken, and it is discarded at checkout;
//! - only a connection idle for longer than the idle check (default 30 s; silent drops by
//!   NATs and load balancers happen after minutes) or, when its drops cannot be watched
//!   (RESP2 servers, cluster connections, connections from a deadpool-redis pool), one that
//!   has not succeeded since another connection failed, is `PING`ed first.
//!
//! The pool hands out the most recently used connection first (LIFO), so under light traffic
//! one connection stays warm instead of every connection going idle in turn.

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use ::redis::{
    aio::{ConnectionLike, MultiplexedConnection},
    AsyncConnectionConfig, Client, Cmd, IntoConnectionInfo, Pipeline, ProtocolVersion, PushKind,
    RedisError, RedisFuture, RedisResult, Value,
};
use deadpool::managed::{self, Metrics, Object, QueueMode, RecycleError, RecycleResult};

use crate::StoreError;

/// Default for [`RedisPoolBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default for [`RedisPoolBuilder::response_timeout`].
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Default for [`RedisPoolBuilder::idle_check`].
pub const DEFAULT_IDLE_CHECK: Duration = Duration::from_secs(30);

/// A pool of Redis connections for [`RedisStore`](super::RedisStore), which your app may share.
///
/// Built on `deadpool` with its own manager: checking a connection out costs no command (see
/// the module source for how liveness is proved instead of deadpool-redis's `PING` per
/// checkout). Clones share the same connections. [`get`](Self::get) gives a connection for your
/// own commands.
///
/// ```no_run
/// use std::time::Duration;
/// use session::store::{RedisPool, RedisStore};
///
/// # fn main() -> Result<(), session::store::RedisConfigError> {
/// let pool = RedisPool::builder("redis://127.0.0.1:6379")
///     .response_timeout(Duration::from_millis(250))
///     .max_size(32)
///     .build()?;
/// let store = RedisStore::new(pool.clone());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisPool {
    pool: managed::Pool<Manager>,
    deadline: Duration,
    cluster: bool,
}

impl fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPool")
            .field("status", &self.pool.status())
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
    /// The pool could not be built.
    #[error("could not build the Redis connection pool")]
    Pool(#[source] managed::BuildError),
}

enum Source {
    Url(String),
    DeadpoolRedis(deadpool_redis::Pool),
    #[cfg(feature = "redis-cluster")]
    Cluster(Vec<String>),
}

/// Builds a [`RedisPool`]; see each setting for its default.
#[must_use]
pub struct RedisPoolBuilder {
    source: Source,
    connect_timeout: Duration,
    response_timeout: Duration,
    idle_check: Duration,
    max_size: Option<usize>,
}

impl fmt::Debug for RedisPoolBuilder {
    // The source may hold a password: show only its kind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Url(_) => "url",
            Source::DeadpoolRedis(_) => "deadpool-redis pool",
            #[cfg(feature = "redis-cluster")]
            Source::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisPoolBuilder")
            .field("source", &source)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("idle_check", &self.idle_check)
            .field("max_size", &self.max_size)
            .finish()
    }
}

impl RedisPool {
    /// A pool of connections to the Redis at `url` (`redis://[user:password@]host[:port][/db]`,
    /// or `rediss://` if the `redis` crate's TLS features are on), with the defaults of
    /// [`RedisPoolBuilder`]. No connection is made until one is needed.
    ///
    /// ```no_run
    /// let pool = session::store::RedisPool::new("redis://127.0.0.1:6379")?;
    /// # Ok::<(), session::store::RedisConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] when the URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self, RedisConfigError> {
        Self::builder(url).build()
    }

    /// A builder for a pool of connections to the Redis at `url`.
    ///
    /// ```no_run
    /// let pool = session::store::RedisPool::builder("redis://127.0.0.1:6379")
    ///     .max_size(8)
    ///     .build()?;
    /// # Ok::<(), session::store::RedisConfigError>(())
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisPoolBuilder {
        RedisPoolBuilder::new(Source::Url(url.into()))
    }

    /// A builder that takes its connections from your own deadpool-redis pool.
    ///
    /// Each connection is taken out of `pool` once (costing that pool's `PING`) and then kept by
    /// this pool, so requests pay no `PING`; `pool` creates replacements as needed. Those
    /// connections speak whatever protocol `pool` chose, so with RESP2 a dropped connection is
    /// only noticed when a command fails on it: after a Redis restart, the first request then
    /// fails and the other connections are `PING`ed before reuse.
    ///
    /// ```no_run
    /// let theirs = deadpool_redis::Config::from_url("redis://127.0.0.1:6379")
    ///     .create_pool(Some(deadpool_redis::Runtime::Tokio1))
    ///     .unwrap();
    /// let pool = session::store::RedisPool::from_deadpool_redis(theirs).build()?;
    /// # Ok::<(), session::store::RedisConfigError>(())
    /// ```
    pub fn from_deadpool_redis(pool: deadpool_redis::Pool) -> RedisPoolBuilder {
        RedisPoolBuilder::new(Source::DeadpoolRedis(pool))
    }

    /// A pool of connections to the Redis Cluster reachable at any of `nodes` (node URLs), with
    /// the defaults of [`RedisPoolBuilder`].
    ///
    /// ```no_run
    /// let pool = session::store::RedisPool::cluster(["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"])?;
    /// # Ok::<(), session::store::RedisConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] when a URL cannot be parsed, [`RedisConfigError::NoNodes`]
    /// without URLs.
    #[cfg(feature = "redis-cluster")]
    pub fn cluster<I>(nodes: I) -> Result<Self, RedisConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self::cluster_builder(nodes).build()
    }

    /// A builder for a pool of connections to the Redis Cluster reachable at any of `nodes`.
    ///
    /// Each pooled connection follows the cluster's slot map itself: `MOVED`/`ASK` redirections
    /// and failovers are handled by the `redis` crate's cluster client.
    ///
    /// ```no_run
    /// let pool = session::store::RedisPool::cluster_builder(["redis://10.0.0.1:6379"])
    ///     .max_size(4)
    ///     .build()?;
    /// # Ok::<(), session::store::RedisConfigError>(())
    /// ```
    #[cfg(feature = "redis-cluster")]
    pub fn cluster_builder<I>(nodes: I) -> RedisPoolBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        RedisPoolBuilder::new(Source::Cluster(nodes.into_iter().map(Into::into).collect()))
    }

    /// A connection for your own commands; it goes back to the pool when dropped.
    ///
    /// Checkouts do not reset connection state (that is what costs deadpool-redis its
    /// `UNWATCH`): do not leave a `WATCH`, a `SELECT`ed database or a subscription behind.
    ///
    /// ```no_run
    /// # async fn f(pool: session::store::RedisPool) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut conn = pool.get().await?;
    /// let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Timeout`] or [`StoreError::Unavailable`] when no connection can be had.
    pub async fn get(&self) -> Result<RedisConnection, StoreError> {
        self.pool
            .get()
            .await
            .map(RedisConnection)
            .map_err(pool_error)
    }

    /// True for a pool of connections to a Redis Cluster.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The longest a store call may take: the connect timeout plus twice the response timeout
    /// (a checkout that creates a connection, one command, and a script reload).
    #[must_use]
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl RedisPoolBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            idle_check: DEFAULT_IDLE_CHECK,
            max_size: None,
        }
    }

    /// How long opening a connection may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long Redis may take to answer a command (default [`DEFAULT_RESPONSE_TIMEOUT`]).
    /// A Redis that stops answering fails requests after this, with [`StoreError::Timeout`].
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Connections idle longer than this are `PING`ed before reuse (default
    /// [`DEFAULT_IDLE_CHECK`]), so one silently dropped by the network fails no request.
    pub fn idle_check(mut self, after: Duration) -> Self {
        self.idle_check = after;
        self
    }

    /// The most connections kept open (default: deadpool's, four per CPU). Each is
    /// multiplexed, but held by one store call at a time.
    pub fn max_size(mut self, max: usize) -> Self {
        self.max_size = Some(max.max(1));
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
                let resp3 = info.clone().set_redis_settings(
                    info.redis_settings()
                        .clone()
                        .set_protocol(ProtocolVersion::RESP3),
                );
                Factory::Single(Box::new(Single {
                    resp3: Client::open(resp3).map_err(RedisConfigError::Url)?,
                    resp2: Client::open(info).map_err(RedisConfigError::Url)?,
                    resp3_refused: AtomicBool::new(false),
                    config,
                }))
            }
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
                let client = ::redis::cluster::ClusterClientBuilder::new(infos)
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
        let manager = Manager {
            factory,
            idle_check: self.idle_check,
            clock: Arc::new(Clock::default()),
        };
        let mut builder = managed::Pool::builder(manager)
            .runtime(deadpool::Runtime::Tokio1)
            .queue_mode(QueueMode::Lifo)
            .create_timeout(Some(self.connect_timeout))
            .recycle_timeout(Some(self.response_timeout));
        if let Some(max) = self.max_size {
            builder = builder.max_size(max);
        }
        Ok(RedisPool {
            pool: builder.build().map_err(RedisConfigError::Pool)?,
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

struct Manager {
    factory: Factory,
    idle_check: Duration,
    clock: Arc<Clock>,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("idle_check", &self.idle_check)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

enum Inner {
    Single(MultiplexedConnection),
    #[cfg(feature = "redis-cluster")]
    Cluster(::redis::cluster_async::ClusterConnection),
}

/// A pooled connection and what is known of its health.
struct Conn {
    inner: Inner,
    /// Set by `redis` when the connection drops; `None` when drops cannot be watched.
    dropped: Option<Arc<AtomicBool>>,
    broken: bool,
    /// [`Clock::now`] of the last command that got an answer.
    last_ok: u64,
    clock: Arc<Clock>,
}

impl Conn {
    fn new(inner: Inner, dropped: Option<Arc<AtomicBool>>, clock: Arc<Clock>) -> Self {
        Self {
            inner,
            dropped,
            broken: false,
            last_ok: clock.now(),
            clock,
        }
    }

    fn note<T>(&mut self, result: &RedisResult<T>) {
        match result {
            Ok(_) => self.last_ok = self.clock.now(),
            Err(err) if is_connection_error(err) => {
                self.broken = true;
                self.clock
                    .last_failure
                    .fetch_max(self.clock.now(), Ordering::Relaxed);
            }
            // The server answered (with an error): the connection is fine.
            Err(_) => self.last_ok = self.clock.now(),
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

impl Manager {
    async fn connect_single(&self, single: &Single) -> RedisResult<Conn> {
        let Single {
            resp3,
            resp2,
            resp3_refused,
            config,
        } = single;
        if !resp3_refused.load(Ordering::Relaxed) {
            let dropped = Arc::new(AtomicBool::new(false));
            let flag = dropped.clone();
            let config = config
                .clone()
                .set_push_sender(move |info: ::redis::PushInfo| {
                    if info.kind == PushKind::Disconnection {
                        flag.store(true, Ordering::Relaxed);
                    }
                    Ok::<(), std::convert::Infallible>(())
                });
            match resp3
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(conn) => {
                    return Ok(Conn::new(
                        Inner::Single(conn),
                        Some(dropped),
                        self.clock.clone(),
                    ))
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
        Ok(Conn::new(Inner::Single(conn), None, self.clock.clone()))
    }
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = RedisError;

    async fn create(&self) -> Result<Conn, RedisError> {
        match &self.factory {
            Factory::Single(single) => self.connect_single(single).await,
            Factory::DeadpoolRedis(pool) => {
                let conn = pool.get().await.map_err(|err| match err {
                    deadpool_redis::PoolError::Backend(err) => err,
                    // Keep the pool's error as the source of an I/O error.
                    other => RedisError::from(std::io::Error::other(other)),
                })?;
                let conn = deadpool_redis::Connection::take(conn);
                Ok(Conn::new(Inner::Single(conn), None, self.clock.clone()))
            }
            #[cfg(feature = "redis-cluster")]
            Factory::Cluster(client) => {
                let conn = client.get_async_connection().await?;
                Ok(Conn::new(Inner::Cluster(conn), None, self.clock.clone()))
            }
        }
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<RedisError> {
        if conn.broken
            || conn
                .dropped
                .as_ref()
                .is_some_and(|d| d.load(Ordering::Relaxed))
        {
            return Err(RecycleError::message("the connection was lost"));
        }
        let idle = Duration::from_millis(self.clock.now().saturating_sub(conn.last_ok));
        let suspect = conn.dropped.is_none()
            && self.clock.last_failure.load(Ordering::Relaxed) >= conn.last_ok;
        if idle >= self.idle_check || suspect {
            let result = ::redis::cmd("PING")
                .query_async::<String>(&mut conn.inner)
                .await;
            conn.note(&result);
            result?;
        }
        Ok(())
    }
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

/// A connection checked out of a [`RedisPool`]; run commands on it with the `redis` crate.
///
/// Commands that fail for a connection-level reason mark it, and it is discarded instead of
/// reused. See [`RedisPool::get`].
pub struct RedisConnection(Object<Manager>);

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnection")
            .field("broken", &self.0.broken)
            .finish_non_exhaustive()
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let conn = &mut *self.0;
            let result = conn.inner.req_packed_command(cmd).await;
            conn.note(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let conn = &mut *self.0;
            let result = conn.inner.req_packed_commands(cmd, offset, count).await;
            conn.note(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.0.inner.get_db()
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

fn pool_error(err: managed::PoolError<RedisError>) -> StoreError {
    match err {
        managed::PoolError::Timeout(_) => StoreError::Timeout,
        managed::PoolError::Backend(err) => redis_error(err),
        other => StoreError::unavailable(other),
    }
}
