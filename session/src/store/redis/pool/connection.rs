//! The connection handed to callers: a `redis` connection that reports its health.

use std::{
    fmt,
    sync::{atomic::Ordering, Arc},
};

use ::redis::{
    aio::{ConnectionLike, MultiplexedConnection},
    Cmd, Pipeline, RedisFuture, Value,
};

use super::health::Health;

#[derive(Clone)]
pub(super) enum Inner {
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

/// A connection of a [`RedisPool`](super::RedisPool); run commands on it with the `redis` crate.
///
/// Clones share one connection (and with it, the pool's other callers). Commands that fail
/// for a connection-level reason mark it, and the pool replaces it. See [`RedisPool::get`](super::RedisPool::get).
#[derive(Clone)]
pub struct RedisConnection {
    pub(super) inner: Inner,
    pub(super) health: Arc<Health>,
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
