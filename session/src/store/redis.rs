//! The Redis store: one hash per session, every change set one atomic script call.

mod layout;
mod pool;
mod prune;
mod scripts;
mod users;

use std::{future::Future, sync::Arc, time::Duration};

use ::redis::{cmd, Value};

pub use self::pool::{RedisConfigError, RedisConnection, RedisPool, RedisPoolBuilder};
use self::{
    layout::{decode_all, decode_only, only_fields},
    pool::redis_error,
    scripts::Target,
};
use super::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore, UserSession};
use crate::{SessionId, StoreError};

/// The key prefix of [`RedisStore::new`]: a session lives under `session:{id}`.
pub(crate) const DEFAULT_KEY_PREFIX: &str = "session:";

/// Sessions in Redis (or a Redis Cluster with the `redis-cluster` feature), shared by every
/// process that uses the same Redis and key prefix.
///
/// Each session is one Redis hash under `{prefix}{id}` (prefix `session:` unless
/// [`RedisStoreBuilder::prefix`] says otherwise), one field per session key, expiring with the
/// session. A request that does not use its session sends no command, a read one, a change
/// two (the read, then one atomic script that writes only the changed fields and resets the
/// TTL). A write never brings back a session that another request purged, and concurrent
/// requests that change different keys both keep their change. A user's sessions (see
/// [`Session::sign_in`](crate::Session::sign_in)) are listed in a sorted set per user,
/// `{prefix}user:{user}`; [`start_pruning`](super::start_pruning) sweeps away the sets
/// of users who never come back.
///
/// A Redis that is down or stops answering fails only the requests that need it, within
/// [`RedisPool::deadline`], with [`StoreError::Unavailable`] or [`StoreError::Timeout`] (an
/// opaque 503); the pool reconnects by itself. A key holding something other than a session
/// hash is [`StoreError::Corrupt`]: the request gets a fresh session.
///
/// **Redis Cluster**: `RedisStore::open_cluster` (or `RedisPool::cluster`) runs the same store
/// on a cluster, following resharding and failovers; while a replica takes over, requests that
/// need its sessions get a 503, then work again. Writes not yet replicated when a master dies
/// are lost (Redis replicates asynchronously). **TLS**: with `redis-rustls`, `rediss://` URLs
/// connect over TLS, trusting the system's roots or your own CA
/// (`RedisPoolBuilder::tls_root_certificates`).
///
/// **ACLs**: every key starts with the prefix, and serving requests needs no administrative
/// command, `KEYS`, `SCAN` or `EVAL` ([`prune`](super::Prune::prune), the optional sweep of
/// users' lists, needs `SCAN`). An ACL user for the default prefix (tested with the default user
/// switched off):
///
/// ```text
/// ACL SETUSER sessions on >password ~session:* resetchannels -@all +evalsha +script|load +hgetall +hmget +hget +hset +hdel +exists +pexpire +pttl +del +zadd +zrange +zrangebyscore +zrem +zscore +zcard +ping
/// ```
///
/// Add `+select` for a database other than 0, on a cluster `+cluster|slots +asking`, and
/// `+scan` for [`prune`](super::Prune::prune).
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use actix_typed_session::{store::RedisStore, SessionMiddleware};
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let store = RedisStore::open("redis://127.0.0.1:6379")?;
///     let key = Key::generate(); // load a fixed key in production
///     HttpServer::new(move || {
///         App::new().wrap(SessionMiddleware::new(store.clone(), key.clone()))
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RedisStore {
    pool: RedisPool,
    prefix: Arc<str>,
}

/// Builds a [`RedisStore`].
#[derive(Debug)]
#[must_use]
pub struct RedisStoreBuilder {
    pool: RedisPool,
    prefix: String,
}

impl RedisStoreBuilder {
    /// Sets the prefix of every session key (default `session:`). Give each app its own
    /// prefix when several share one Redis.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Builds the store.
    pub fn build(self) -> RedisStore {
        RedisStore {
            pool: self.pool,
            prefix: self.prefix.into(),
        }
    }
}

impl RedisStore {
    /// Creates a store on the Redis at `url`, with the default pool settings and key prefix.
    ///
    /// ```no_run
    /// let store = actix_typed_session::store::RedisStore::open("redis://127.0.0.1:6379")?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] when the URL cannot be parsed. Nothing is connected yet.
    pub fn open(url: &str) -> Result<Self, RedisConfigError> {
        Ok(Self::new(RedisPool::new(url)?))
    }

    /// Creates a store on the Redis Cluster reachable at any of `nodes`, with the default settings.
    ///
    /// ```no_run
    /// let store = actix_typed_session::store::RedisStore::open_cluster([
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    ///     "redis://10.0.0.3:6379",
    /// ])?;
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RedisConfigError::Url`] when a URL cannot be parsed, [`RedisConfigError::NoNodes`]
    /// without URLs.
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn open_cluster<I>(nodes: I) -> Result<Self, RedisConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Ok(Self::new(RedisPool::cluster(nodes)?))
    }

    /// Creates a store on `pool`, with the default key prefix.
    ///
    /// ```no_run
    /// use actix_typed_session::store::{RedisPool, RedisStore};
    ///
    /// let pool = RedisPool::new("redis://127.0.0.1:6379")?;
    /// let store = RedisStore::new(pool.clone()); // the app keeps using `pool` too
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    pub fn new(pool: RedisPool) -> Self {
        Self::builder(pool).build()
    }

    /// Creates a builder for a store on `pool`.
    ///
    /// ```no_run
    /// use actix_typed_session::store::{RedisPool, RedisStore};
    ///
    /// let store = RedisStore::builder(RedisPool::new("redis://127.0.0.1:6379")?)
    ///     .prefix("shop:session:")
    ///     .build();
    /// # Ok::<(), actix_typed_session::store::RedisConfigError>(())
    /// ```
    pub fn builder(pool: RedisPool) -> RedisStoreBuilder {
        RedisStoreBuilder {
            pool,
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
        }
    }

    /// Returns the pool the store runs on.
    #[must_use]
    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    /// Returns the Redis key of session `id`.
    ///
    /// ```no_run
    /// # let store = actix_typed_session::store::RedisStore::open("redis://127.0.0.1:6379").unwrap();
    /// let id = actix_typed_session::SessionId::generate();
    /// assert_eq!(store.key(&id), format!("session:{id}"));
    /// ```
    #[must_use]
    pub fn key(&self, id: &SessionId) -> String {
        [&*self.prefix, id.as_str()].concat()
    }

    /// Runs `work` on a pooled connection within the pool's deadline.
    async fn with_conn<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(RedisConnection) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        // Boxed: the `redis` crate's script futures are large in debug builds, and callers
        // nest several store calls in one future. (Getting a connection is small: a clone.)
        let run = Box::pin(async { work(self.pool.get().await?).await });
        tokio::time::timeout(self.pool.deadline(), run)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }
}

impl SessionStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        let key = self.key(id);
        self.with_conn(|mut conn| async move {
            let reply = match (keys, refresh) {
                (Keys::All, None) => cmd("HGETALL").arg(&key).query_async(&mut conn).await,
                (Keys::Only(names), None) => {
                    let mut hmget = cmd("HMGET");
                    hmget.arg(&key);
                    for field in only_fields(names) {
                        hmget.arg(field.as_ref());
                    }
                    hmget.query_async(&mut conn).await
                }
                (Keys::All, Some(ttl)) => {
                    scripts::load_refresh(&key, [], ttl)
                        .invoke_async(&mut conn)
                        .await
                }
                (Keys::Only(names), Some(ttl)) => {
                    scripts::load_refresh(&key, only_fields(names), ttl)
                        .invoke_async(&mut conn)
                        .await
                }
            };
            let reply: Value = reply.map_err(redis_error)?;
            match keys {
                Keys::All => decode_all(reply),
                Keys::Only(names) => decode_only(names, reply),
            }
        })
        .await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let key = self.key(id);
        let target = if changes.is_new() {
            Target::Create
        } else {
            Target::Update
        };
        self.with_conn(|mut conn| async move {
            let written: i64 = scripts::apply(&key, target, changes, ttl)
                .invoke_async(&mut conn)
                .await
                .map_err(redis_error)?;
            Ok(if written == 1 {
                SaveOutcome::Saved
            } else {
                SaveOutcome::Gone
            })
        })
        .await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        let key = self.key(id);
        self.with_conn(|mut conn| async move {
            let set: i64 = cmd("PEXPIRE")
                .arg(&key)
                .arg(scripts::millis(ttl))
                .query_async(&mut conn)
                .await
                .map_err(redis_error)?;
            Ok(set == 1)
        })
        .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let key = self.key(id);
        self.with_conn(|mut conn| async move {
            cmd("DEL")
                .arg(&key)
                .query_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(redis_error)
        })
        .await
    }

    /// Moves the session in one script call; on a cluster, where the two keys live in
    /// different slots, deletes the old key first and writes the new one only if the old one
    /// existed (two round trips; a failure in between loses the session rather than keeping
    /// two). Either way, renewing a session that no longer exists writes nothing.
    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let (old_key, new_key) = (self.key(old), self.key(new));
        let cluster = self.pool.is_cluster();
        self.with_conn(|mut conn| async move {
            let moved: i64 = if cluster {
                let existed: i64 = cmd("DEL")
                    .arg(&old_key)
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_error)?;
                if existed == 0 {
                    0
                } else {
                    scripts::apply(&new_key, Target::Create, changes, ttl)
                        .invoke_async(&mut conn)
                        .await
                        .map_err(redis_error)?
                }
            } else {
                scripts::apply(&new_key, Target::MoveFrom(&old_key), changes, ttl)
                    .invoke_async(&mut conn)
                    .await
                    .map_err(redis_error)?
            };
            Ok(if moved == 0 {
                SaveOutcome::Gone
            } else {
                SaveOutcome::Saved
            })
        })
        .await
    }

    async fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<usize>, StoreError> {
        self.index_user(user, id, ttl).await.map(Some)
    }

    async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        self.list_user(user).await
    }

    async fn end_user_session(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        Ok(self.end_users(user, Some(id)).await? > 0)
    }

    async fn end_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        self.end_users(user, None).await
    }
}
