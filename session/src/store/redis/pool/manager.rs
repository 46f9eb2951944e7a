//! The other side of the pool's A/B (see the README's benchmarks): the same per-thread slots,
//! each holding one redis-rs [`ConnectionManager`] instead of a connection whose health the pool
//! tracks itself. The manager reconnects by itself: on RESP3's disconnect notice and on
//! connection-level errors, retrying with backoff in the background. It sends no `PING`.
//!
//! Only for connections to one Redis by URL; a cluster or a deadpool-redis pool keeps the
//! pool's own connections.

use std::{sync::PoisonError, time::Duration};

use ::redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    Client,
};

use super::{
    redis_error, Factory, Health, Inner, RedisConnection, RedisPoolBuilder, Shared, Single, Slot,
};
use crate::StoreError;

/// Reconnect attempts after the first, before a manager gives up until its next command.
const RETRIES: usize = 4;

/// How each thread's [`ConnectionManager`] connects.
pub(super) struct Manager {
    /// Speaks RESP3, so that a dropped connection is replaced at once, even while idle.
    client: Client,
    config: ConnectionManagerConfig,
}

impl Manager {
    /// `factory` as managed connections when the builder asks for them and `factory` connects
    /// to one Redis by URL; otherwise `factory` unchanged.
    ///
    /// The manager times out connecting and commands as the pool does. Its backoff between
    /// reconnect attempts grows from a tenth to a quarter of the connect timeout (jitter may
    /// double each delay), over [`RETRIES`] retries: a restart that quick is bridged, and a call
    /// made while Redis is down waits for that chain rather than failing at once. After that the
    /// manager keeps the last error until a command asks again, which starts a new chain.
    pub(super) fn instead_of(
        factory: Factory,
        on: bool,
        connect: Duration,
        response: Duration,
    ) -> Factory {
        match factory {
            Factory::Single(single) if on => {
                let Single { resp3, .. } = *single;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(connect))
                    .set_response_timeout(Some(response))
                    .set_min_delay(connect / 10)
                    .set_max_delay(connect / 4)
                    .set_exponent_base(2.0)
                    .set_number_of_retries(RETRIES);
                Factory::Manager(Box::new(Manager {
                    client: resp3,
                    config,
                }))
            }
            other => other,
        }
    }
}

impl RedisPoolBuilder {
    /// Experimental: one redis-rs `ConnectionManager` per slot (per worker thread, as
    /// [`connections`](Self::connections) assigns them) instead of the pool's own connections,
    /// for single-node URLs. Reconnecting, backoff and drop detection are then redis-rs's; the
    /// [`idle_check`](Self::idle_check) does not apply (nothing is `PING`ed), and a Redis that
    /// does not speak RESP3 (before 6) is not supported. Off by default.
    #[doc(hidden)]
    pub fn connection_manager(mut self, on: bool) -> Self {
        self.manager = on;
        self
    }
}

impl Shared {
    /// The slot's manager, made on the slot's first use (making one connects nothing: the
    /// manager connects on its first command). Commands on it report their own errors, so the
    /// pool neither checks nor replaces it.
    pub(super) fn managed(
        &self,
        manager: &Manager,
        slot: &Slot,
    ) -> Result<RedisConnection, StoreError> {
        if let Some(conn) = slot.current() {
            return Ok(conn);
        }
        let mut current = slot.conn.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(conn) = &*current {
            return Ok(conn.clone());
        }
        let client = manager.client.clone();
        let inner = ConnectionManager::new_lazy_with_config(client, manager.config.clone())
            .map_err(redis_error)?;
        let conn = RedisConnection {
            inner: Inner::Manager(inner),
            // Unused: managed connections skip the pool's health notes.
            health: Health::new(true, &self.clock),
        };
        *current = Some(conn.clone());
        Ok(conn)
    }
}
