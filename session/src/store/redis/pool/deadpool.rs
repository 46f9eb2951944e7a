//! A [`RedisPool`] on connections taken from your own deadpool-redis pool (feature
//! `deadpool-redis`).

use ::redis::{RedisError, RedisResult};

use super::{
    builder::Source, connection::Inner, health::Health, slots::Shared, RedisConnection, RedisPool,
    RedisPoolBuilder,
};

impl RedisPool {
    /// Creates a builder that takes its connections from your own deadpool-redis pool.
    ///
    /// Each connection is taken out of `pool` once (costing that pool's `PING`) and then kept
    /// and shared by this pool, so requests pay no `PING`; `pool` creates replacements as
    /// needed. Those connections speak whatever protocol `pool` chose, so with RESP2 a dropped
    /// connection is only noticed when a command fails on it: after a Redis restart, the first
    /// request then fails and the other connections are `PING`ed before reuse. How they
    /// connect (URL, TLS, TCP keepalive) is `pool`'s configuration.
    ///
    /// ```no_run
    /// let theirs = deadpool_redis::Config::from_url("redis://127.0.0.1:6379")
    ///     .create_pool(Some(deadpool_redis::Runtime::Tokio1))
    ///     .unwrap();
    /// let pool = actix_typed_session::store::RedisPool::from_deadpool_redis(theirs).build()?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "deadpool-redis")))]
    pub fn from_deadpool_redis(pool: deadpool_redis::Pool) -> RedisPoolBuilder {
        RedisPoolBuilder::new(Source::DeadpoolRedis(pool))
    }
}

impl Shared {
    /// Takes a connection out of `pool` for good.
    pub(super) async fn connect_deadpool(
        &self,
        pool: &deadpool_redis::Pool,
    ) -> RedisResult<RedisConnection> {
        let conn = pool.get().await.map_err(|err| match err {
            deadpool_redis::PoolError::Backend(err) => err,
            // Keep the pool's error as the source of an I/O error.
            other => RedisError::from(std::io::Error::other(other)),
        })?;
        let conn = deadpool_redis::Connection::take(conn);
        Ok(RedisConnection {
            inner: Inner::Single(conn),
            health: Health::new(false, &self.uptime),
        })
    }
}
