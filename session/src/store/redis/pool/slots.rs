//! The pool's fixed set of connections: which thread uses which, and opening or proving
//! one when it is needed.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::Duration,
};

use ::redis::{AsyncConnectionConfig, Client, PushKind, RedisResult};

use super::{
    connection::{Inner, RedisConnection},
    health::{Health, State, Uptime},
    redis_error,
};
use crate::StoreError;

/// Connections to one Redis.
pub(super) struct Single {
    pub(super) resp3: Client,
    pub(super) resp2: Client,
    /// The server does not speak RESP3 (Redis before 6): connect with RESP2, unwatched.
    pub(super) resp3_refused: AtomicBool,
    pub(super) config: AsyncConnectionConfig,
}

pub(super) enum Factory {
    Single(Box<Single>),
    #[cfg(feature = "deadpool-redis")]
    DeadpoolRedis(deadpool_redis::Pool),
    #[cfg(feature = "redis-cluster")]
    Cluster(Box<::redis::cluster::ClusterClient>),
}

impl Factory {
    pub(super) fn is_cluster(&self) -> bool {
        #[cfg(feature = "redis-cluster")]
        if let Factory::Cluster(_) = self {
            return true;
        }
        false
    }
}

/// One of the pool's connections, opened on first use and replaced when lost.
#[derive(Default)]
pub(super) struct Slot {
    conn: RwLock<Option<RedisConnection>>,
    /// Held while checking or replacing the connection, so that one call does it.
    turn: tokio::sync::Mutex<()>,
}

impl Slot {
    pub(super) fn current(&self) -> Option<RedisConnection> {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, conn: RedisConnection) {
        *self.conn.write().unwrap_or_else(PoisonError::into_inner) = Some(conn);
    }
}

pub(super) struct Shared {
    pub(super) factory: Factory,
    pub(super) slots: Box<[Slot]>,
    /// Tells this pool apart in each thread's slot assignments.
    pub(super) id: usize,
    /// The slot the next new thread gets.
    pub(super) next: AtomicUsize,
    pub(super) connect_timeout: Duration,
    pub(super) response_timeout: Duration,
    pub(super) idle_check: Duration,
    pub(super) uptime: Arc<Uptime>,
}

impl Shared {
    /// The calling thread's slot: threads are given slots in turn on their first call, so with
    /// at least as many connections as worker threads each worker has its own. A connection's
    /// driver task runs on the thread that opened it, so a worker's commands and answers then
    /// never cross threads.
    pub(super) fn pick(&self) -> &Slot {
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

    pub(super) fn state(&self, health: &Health) -> State {
        if health.broken.load(Ordering::Relaxed) {
            return State::Lost;
        }
        let last_ok = health.last_ok.load(Ordering::Relaxed);
        let idle = Duration::from_millis(self.uptime.now().saturating_sub(last_ok));
        let suspect =
            !health.watched && self.uptime.last_failure.load(Ordering::Relaxed) >= last_ok;
        if idle >= self.idle_check || suspect {
            State::Unproven
        } else {
            State::Ready
        }
    }

    /// The slow path of [`RedisPool::get`]: proves or replaces the slot's connection.
    pub(super) async fn restore(&self, slot: &Slot) -> Result<RedisConnection, StoreError> {
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
                health: Health::new(false, &self.uptime),
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
            let health = Health::new(true, &self.uptime);
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
            health: Health::new(false, &self.uptime),
        })
    }
}
