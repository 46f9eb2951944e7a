//! Building a pool: where its connections come from and its timeouts.

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use ::redis::{AsyncConnectionConfig, IntoConnectionInfo, ProtocolVersion};

use super::{
    health::Uptime,
    keepalive,
    slots::{Factory, Shared, Single, Slot},
    tls, RedisConfigError, RedisPool, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_CHECK,
    DEFAULT_RESPONSE_TIMEOUT,
};

pub(super) enum Source {
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
    pub(super) tls: tls::Tls,
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

impl RedisPoolBuilder {
    pub(super) fn new(source: Source) -> Self {
        Self {
            source,
            tls: tls::Tls::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            idle_check: DEFAULT_IDLE_CHECK,
            connections: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// Sets how long opening a connection may take (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how long Redis may take to answer a command (default 1 s).
    /// A Redis that stops answering fails requests after this, with [`StoreError::Timeout`](crate::StoreError::Timeout).
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

    /// Sets how many connections to keep (default: one per available core, actix's default number
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
                    .collect::<::redis::RedisResult<Vec<_>>>()
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
            uptime: Arc::new(Uptime::default()),
        };
        Ok(RedisPool {
            shared: Arc::new(shared),
            deadline: self.connect_timeout + 2 * self.response_timeout,
            cluster,
        })
    }
}
