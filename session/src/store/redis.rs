//! The Redis store: one hash per session, every change set one atomic script call.

mod layout;
mod pool;
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
/// Each session is one Redis hash under `{prefix}{id}`, one field per session key holding its
/// JSON text, plus a marker field (a lone NUL byte) that keeps a session alive when all its
/// keys are removed; the hash's TTL is the session's. Round trips per store call:
///
/// | call | Redis commands sent |
/// |---|---|
/// | load | one: `HGETALL` or `HMGET` (with a TTL refresh: one script) |
/// | save | one script: writes only the changed fields, deletes removed ones, resets the TTL; writes nothing when an update finds the session gone |
/// | refresh / delete | one: `PEXPIRE` / `DEL` |
/// | renew | one script moving the session (on a cluster the two keys live in different slots: `DEL` then the save script, two) |
///
/// Through [`SessionMiddleware`](crate::SessionMiddleware) that makes: a request that does not
/// use the session 0 commands, one that reads it 1, one that changes it 2, renew 2 (3 on a
/// cluster), purge 2 at most. Scripts run with `EVALSHA`; they are loaded only when Redis does
/// not know them yet (after a restart, once).
///
/// A user's sessions (see [`Session::sign_in`](crate::Session::sign_in)) are listed in a sorted
/// set per user, `{prefix}user:{user}`, scored by expiry and pruned of ended and expired
/// sessions on each use. Signing in adds one round trip to the renewal (one script; on a
/// cluster one pipeline, plus a check of each member whose recorded expiry has passed), as does
/// renewing a signed-in session (its new id is listed the same way); listing
/// and ending are one script call each. On a cluster the set and the sessions live in
/// different slots, so those become one command per listed session (up to 64 in flight at
/// once, so thousands of sessions still fit in the deadline), each atomic on its own:
/// a sign-in writes the session before listing it, and ending deletes sessions before taking
/// them off the list, so a session is never live and unlisted, but a concurrent reader may see
/// a listed session already ended. Requests that do not sign in or out pay nothing for this.
///
/// Writes never resurrect a session: an update to a session that a concurrent request purged
/// (or that expired) writes nothing, and renewing a session that no longer exists writes
/// nothing either. Concurrent requests changing different keys both keep their change.
///
/// A Redis that is down or stops answering fails only the calls that need it, within
/// [`RedisPool::deadline`], with [`StoreError::Unavailable`] or [`StoreError::Timeout`]; the
/// pool reconnects by itself when Redis is back. A key that holds something other than a
/// session hash is [`StoreError::Corrupt`], so the middleware starts a fresh session.
///
/// # Redis Cluster
/// With the `redis-cluster` feature, `RedisStore::open_cluster` (or `RedisPool::cluster`)
/// runs the same store on a cluster: one session is one key, so one slot, and every script
/// touches only that key. `MOVED`/`ASK` redirections during resharding and the new topology
/// after a failover are followed by the `redis` crate's cluster client. While a dead master's
/// replica is being promoted, requests that need its sessions fail with a clean 503 (never
/// another session's data); they work again once the cluster has failed over, without
/// restarting the app. Writes Redis acknowledged but had not yet replicated when the master
/// died are lost: Redis replication is asynchronous.
///
/// # TLS
/// With the `redis-rustls` feature, `rediss://` URLs connect over TLS (rustls), trusting the
/// system's root certificates, or your own CA with `RedisPoolBuilder::tls_root_certificates`.
///
/// # Redis commands (for ACLs and managed Redis)
/// The store sends `EVALSHA` (its Lua scripts), `SCRIPT LOAD` (only for a script Redis does not
/// know yet: once after a restart), `HGETALL`, `HMGET`, `PEXPIRE`, `DEL`, and `PING` for
/// connections idle for a while. Connections open with `HELLO` (RESP3; `AUTH` instead when
/// Redis refuses it; neither needs a grant), `SELECT` for a database other than 0, and `CLIENT SETINFO`, whose refusal
/// is ignored. The scripts run `HGETALL`, `HMGET`, `HGET`, `HSET`, `HDEL`, `EXISTS`, `PEXPIRE`,
/// `PTTL`, `DEL`, `ZADD`, `ZRANGE`, `ZRANGEBYSCORE`, `ZREM` and `ZSCORE`, which ACLs check
/// as well; on a cluster the store sends those of them that list a user's sessions itself, and
/// the cluster client also needs `CLUSTER SLOTS` and `ASKING`. Every key starts with the
/// prefix. No `EVAL`, `KEYS`, `SCAN`, pub/sub or administrative command is used. An ACL user for
/// the default prefix (a test runs the store's acceptance suite as exactly this user, with the
/// default user switched off):
///
/// ```text
/// ACL SETUSER sessions on >password ~session:* resetchannels -@all +evalsha +script|load +hgetall +hmget +hget +hset +hdel +exists +pexpire +pttl +del +zadd +zrange +zrangebyscore +zrem +zscore +ping
/// ```
///
/// Connect as it with `redis://sessions:password@host:6379`; with a database other than 0 add
/// `+select`, on a cluster `+cluster|slots +asking` (tested too).
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
    /// The prefix of every session key (default `session:`). Give each app its own
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
    /// A store on the Redis at `url`, with the default pool settings and key prefix.
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

    /// A store on the Redis Cluster reachable at any of `nodes`, with the default settings.
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

    /// A store on `pool`, with the default key prefix.
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

    /// A builder for a store on `pool`.
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

    /// The pool the store runs on.
    #[must_use]
    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    /// The Redis key of session `id`.
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
    ) -> Result<(), StoreError> {
        self.index_user(user, id, ttl).await
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
