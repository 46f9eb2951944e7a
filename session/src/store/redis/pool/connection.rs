//! The connection handed to callers: a `redis` connection that reports its health.

use std::{
    fmt,
    sync::{atomic::Ordering, Arc},
};

use ::redis::{
    aio::{ConnectionLike, MultiplexedConnection},
    Cmd, Pipeline, RedisFuture, RedisResult, Value,
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

/// A master of a Redis Cluster, by the address the cluster announces.
pub(crate) type Node = (String, u16);

impl RedisConnection {
    /// The masters of the cluster this connection serves, from `CLUSTER SLOTS`; on one server,
    /// none.
    pub(crate) async fn masters(&mut self) -> RedisResult<Vec<Node>> {
        match &mut self.inner {
            Inner::Single(_) => Ok(Vec::new()),
            #[cfg(feature = "redis-cluster")]
            Inner::Cluster(c) => {
                use ::redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
                let slots = Cmd::new().arg("CLUSTER").arg("SLOTS").clone();
                let reply = c
                    .route_command(
                        slots,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
                    )
                    .await;
                self.health.note(&reply);
                Ok(masters_of(reply?))
            }
        }
    }

    /// Runs `command` on `node` (a master [`masters`](Self::masters) named), or where the
    /// connection routes it when there is none.
    pub(crate) async fn query_on(
        &mut self,
        node: Option<&Node>,
        command: &Cmd,
    ) -> RedisResult<Value> {
        match (&mut self.inner, node) {
            #[cfg(feature = "redis-cluster")]
            (Inner::Cluster(c), Some((host, port))) => {
                use ::redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
                let to = SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                };
                let reply = c
                    .route_command(command.clone(), RoutingInfo::SingleNode(to))
                    .await;
                self.health.note(&reply);
                reply
            }
            _ => command.query_async(self).await,
        }
    }
}

/// The distinct masters of a `CLUSTER SLOTS` reply: each entry is `[start, end, [host, port,
/// …], replicas…]`.
#[cfg(feature = "redis-cluster")]
fn masters_of(reply: Value) -> Vec<Node> {
    let Value::Array(ranges) = reply else {
        return Vec::new();
    };
    let mut nodes: Vec<Node> = Vec::new();
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        let Some(Value::Array(master)) = parts.into_iter().nth(2) else {
            continue;
        };
        let mut master = master.into_iter();
        let (Some(host), Some(Value::Int(port))) = (master.next(), master.next()) else {
            continue;
        };
        let host = match host {
            Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Value::SimpleString(text) => text,
            _ => continue,
        };
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if !nodes.iter().any(|(h, p)| *h == host && *p == port) {
            nodes.push((host, port));
        }
    }
    nodes
}
