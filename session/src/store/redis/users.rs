//! A user's sessions in Redis: a sorted set per user, `{prefix}user:{user}`, of session ids
//! scored by their expiry (Unix milliseconds) as last seen.
//!
//! A session's TTL moves on with every write or refresh, which never touch the set (requests
//! that do not sign in pay nothing), so a score is a lower bound of the real expiry. Members
//! whose score has passed are therefore *checked*, never dropped blindly: gone sessions leave
//! the set, live ones are re-scored with their real expiry. That happens on every operation on
//! the set, so it holds the user's live sessions plus those dead since the user's last sign-in,
//! listing or log-out-everywhere, and never grows without bound. The set has no TTL of its own
//! (a refreshed session may outlive any TTL given at sign-in); Redis deletes it when its last
//! member leaves, and [`Prune::prune`](crate::store::Prune::prune) sweeps the sets of users who never come back.
//!
//! On one Redis server each operation is one script call, one round trip, atomic, for a set of
//! up to 256 members (the cap on a user's sessions keeps it there): the scripts read and delete
//! the session keys named by the set. No call looks at more members than that, so a bigger set
//! never holds Redis for long: listing reads the members once and looks at them 256 per call,
//! and log out everywhere ends the newest 256 per call until none is left, so an attempt cut
//! off by the deadline has ended whole batches, newest first, and a retry goes on from there. On a Redis Cluster the set and each
//! session live in different slots, so no script may touch both: operations run as several
//! single-slot commands (listed on [`RedisStore`](super::RedisStore)), each atomic on its own,
//! in an order that keeps the one promise that matters: a session is listed before anything can
//! miss it (a sign-in writes the session, then lists it), and a log-out-everywhere deletes every
//! session it read from the set before taking them off it, batch by batch (newest first), so an
//! attempt cut off by the deadline has made progress that a retry continues.

use std::{
    sync::LazyLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ::redis::{cmd, Script, Value};
use futures_util::{StreamExt as _, TryStreamExt as _};

use super::{pool::redis_error, scripts::millis, RedisConnection, RedisStore};
use crate::{
    store::{UserSession, USER_KEY},
    SessionId, StoreError,
};

/// Re-scores or drops the members of `KEYS[1]` whose score is at most `ARGV[2]` (now, ms), at
/// most `ARGV[5]` of them (the rest wait for the next call), then adds `ARGV[3]` scored
/// `ARGV[4]` (unless `ARGV[3]` is empty: a prune), and answers how many members it dropped and
/// the set's size. Session keys are `ARGV[1]` followed by a member.
const ADD: &str = r"
local index, prefix, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local dropped = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, ARGV[5])) do
  local left = redis.call('PTTL', prefix .. id)
  if left == -2 then
    redis.call('ZREM', index, id)
    dropped = dropped + 1
  elseif left >= 0 then
    redis.call('ZADD', index, now + left, id)
  end
end
if ARGV[3] ~= '' then
  redis.call('ZADD', index, ARGV[4], ARGV[3])
end
return {dropped, redis.call('ZCARD', index)}
";

/// Lists members of `KEYS[1]` as flat triples `id, PTTL, user field`, dropping those whose
/// session is gone (or no longer signed in) and re-scoring the others. `ARGV`: prefix, now
/// (ms), the user field, the most members one call may look at (`batch`), then the members to
/// look at. Without members it looks at the whole set, unless that holds more than `batch`:
/// then it answers `false` alone, and the caller pages through a snapshot of the members.
const LIST: &str = r"
local index, prefix, now, field = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ids = {}
if #ARGV > 4 then
  for i = 5, #ARGV do
    if redis.call('ZSCORE', index, ARGV[i]) then
      ids[#ids + 1] = ARGV[i]
    end
  end
elseif redis.call('ZCARD', index) > tonumber(ARGV[4]) then
  return {false}
else
  ids = redis.call('ZRANGE', index, 0, -1)
end
local out = {}
for _, id in ipairs(ids) do
  local key = prefix .. id
  local left = redis.call('PTTL', key)
  local user = false
  if left ~= -2 then
    user = redis.call('HGET', key, field)
  end
  if user then
    if left >= 0 then
      redis.call('ZADD', index, now + left, id)
    end
    out[#out + 1] = id
    out[#out + 1] = left
    out[#out + 1] = user
  else
    redis.call('ZREM', index, id)
  end
end
return out
";

/// Ends the members `ARGV[3..]` of `KEYS[1]`, or without any the newest `ARGV[2]` (the highest
/// scores): deletes their sessions and takes them off the set. Returns how many sessions were
/// deleted and how many members the set has left.
const END: &str = r"
local index, prefix = KEYS[1], ARGV[1]
local ids = {}
if #ARGV > 2 then
  for i = 3, #ARGV do
    if redis.call('ZSCORE', index, ARGV[i]) then
      ids[#ids + 1] = ARGV[i]
    end
  end
else
  ids = redis.call('ZRANGE', index, -tonumber(ARGV[2]), -1)
end
local ended = 0
for _, id in ipairs(ids) do
  ended = ended + redis.call('DEL', prefix .. id)
  redis.call('ZREM', index, id)
end
return {ended, redis.call('ZCARD', index)}
";

static ADD_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(ADD));
static LIST_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(LIST));
static END_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(END));

/// On a cluster, how many per-session commands of one listing or log-out-everywhere are in
/// flight at once (a user's set may hold thousands of ids: one after another, they would not
/// fit in the store's timeout).
const CLUSTER_FANOUT: usize = 256;

/// On one server, the most members one script call looks at: a user with thousands of sessions
/// is listed and ended in several calls, none of which holds Redis (and its other clients) for
/// long.
pub(super) const SCRIPT_BATCH: usize = 256;

pub(super) fn now_millis() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX)
}

/// Appends the rows of a LIST reply (flat triples `id, PTTL, user field`) to `rows`.
fn triples(flat: Vec<Value>, rows: &mut Vec<(String, i64, String)>) {
    let mut it = flat.into_iter();
    while let (Some(id), Some(left), Some(user)) = (it.next(), it.next(), it.next()) {
        let Value::Int(left) = left else { continue };
        if let (Some(id), Some(user)) = (text(id), text(user)) {
            rows.push((id, left, user));
        }
    }
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(s) => Some(s),
        _ => None,
    }
}

impl RedisStore {
    /// The key of `user`'s set.
    fn user_key(&self, user: &str) -> String {
        [&*self.prefix, "user:", user].concat()
    }

    async fn query<T: ::redis::FromRedisValue>(
        conn: &mut RedisConnection,
        command: &::redis::Cmd,
    ) -> Result<T, StoreError> {
        command.query_async(conn).await.map_err(redis_error)
    }

    /// On a cluster: the PTTL of a session, and its user field.
    async fn probe(
        conn: &mut RedisConnection,
        key: &str,
    ) -> Result<(i64, Option<String>), StoreError> {
        let left: i64 = Self::query(conn, cmd("PTTL").arg(key)).await?;
        if left == -2 {
            return Ok((left, None));
        }
        let user: Option<String> = Self::query(conn, cmd("HGET").arg(key).arg(USER_KEY)).await?;
        Ok((left, user))
    }

    pub(super) async fn index_user(
        &self,
        user: &str,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<usize, StoreError> {
        let index = self.user_key(user);
        let now = now_millis();
        let expires = now.saturating_add(millis(ttl));
        let cluster = self.pool.is_cluster();
        self.with_conn(|mut conn| async move {
            if !cluster {
                let (_, listed) = self
                    .recheck_script(&mut conn, &index, now, Some((id, expires)))
                    .await?;
                return Ok(listed);
            }
            // One round trip adds and finds the members due for a check; checking them (rare:
            // each only once its recorded expiry has passed) costs more.
            let (_, due, listed): (i64, Vec<String>, usize) = ::redis::pipe()
                .cmd("ZADD")
                .arg(&index)
                .arg(expires)
                .arg(id.as_str())
                .cmd("ZRANGEBYSCORE")
                .arg(&index)
                .arg("-inf")
                .arg(now)
                .cmd("ZCARD")
                .arg(&index)
                .query_async(&mut conn)
                .await
                .map_err(redis_error)?;
            self.recheck_members(&mut conn, &index, due, now).await?;
            // Counted before the gone ones left: at worst one listing too many.
            Ok(listed)
        })
        .await
    }

    /// On one server: the ADD script on the set `index`, adding `add` (an id and its expiry in
    /// Unix ms) when given. Answers how many members it dropped and the set's size.
    pub(super) async fn recheck_script(
        &self,
        conn: &mut RedisConnection,
        index: &str,
        now: u64,
        add: Option<(&SessionId, u64)>,
    ) -> Result<(u64, usize), StoreError> {
        let (id, expires) = add.map_or(("", 0), |(id, expires)| (id.as_str(), expires));
        ADD_SCRIPT
            .key(index)
            .arg(&*self.prefix)
            .arg(now)
            .arg(id)
            .arg(expires)
            .arg(SCRIPT_BATCH)
            .invoke_async(conn)
            .await
            .map_err(redis_error)
    }

    /// On a cluster: drops the `due` members of `index` whose session is gone and re-scores the
    /// others with their real expiry. Answers how many it dropped.
    pub(super) async fn recheck_members(
        &self,
        conn: &mut RedisConnection,
        index: &str,
        due: Vec<String>,
        now: u64,
    ) -> Result<u64, StoreError> {
        let mut dropped = 0;
        for member in due {
            let left: i64 =
                Self::query(conn, cmd("PTTL").arg([&*self.prefix, &member].concat())).await?;
            let fix = if left == -2 {
                dropped += 1;
                cmd("ZREM").arg(index).arg(&member).clone()
            } else {
                let score = now.saturating_add(u64::try_from(left.max(0)).unwrap_or(0));
                cmd("ZADD").arg(index).arg(score).arg(&member).clone()
            };
            let _: i64 = Self::query(conn, &fix).await?;
        }
        Ok(dropped)
    }

    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let index = self.user_key(user);
        let now = now_millis();
        let cluster = self.pool.is_cluster();
        let rows: Vec<(String, i64, String)> = self
            .with_conn(|mut conn| async move {
                if !cluster {
                    return self.list_in_batches(&mut conn, &index, now).await;
                }
                let members: Vec<String> =
                    Self::query(&mut conn, cmd("ZRANGE").arg(&index).arg(0).arg(-1)).await?;
                let probed: Vec<(String, i64, Option<String>)> =
                    futures_util::stream::iter(members)
                        .map(|member| {
                            let (mut conn, key) = (conn.clone(), [&*self.prefix, &member].concat());
                            async move {
                                let (left, json) = Self::probe(&mut conn, &key).await?;
                                Ok::<_, StoreError>((member, left, json))
                            }
                        })
                        .buffer_unordered(CLUSTER_FANOUT)
                        .try_collect()
                        .await?;
                let mut rows = Vec::new();
                let mut gone = Vec::new();
                for (member, left, json) in probed {
                    match json {
                        Some(json) => rows.push((member, left, json)),
                        None => gone.push(member),
                    }
                }
                if !gone.is_empty() {
                    let _: i64 = Self::query(&mut conn, cmd("ZREM").arg(&index).arg(&gone)).await?;
                }
                Ok(rows)
            })
            .await?;
        let now = SystemTime::now();
        Ok(rows
            .into_iter()
            .filter_map(|(id, left, json)| {
                let id = SessionId::try_from(id.as_str()).ok()?;
                let left = Duration::from_millis(u64::try_from(left).unwrap_or(0));
                UserSession::from_stored(user, id, &json, now + left)
            })
            .collect())
    }

    /// On one server: the whole set in one script call when it is small, else a snapshot of its
    /// members looked at [`SCRIPT_BATCH`] at a time (members ended meanwhile are skipped).
    async fn list_in_batches(
        &self,
        conn: &mut RedisConnection,
        index: &str,
        now: u64,
    ) -> Result<Vec<(String, i64, String)>, StoreError> {
        let call = |members: &[String]| {
            let mut inv = LIST_SCRIPT.key(index);
            inv.arg(&*self.prefix)
                .arg(now)
                .arg(USER_KEY)
                .arg(SCRIPT_BATCH)
                .arg(members);
            inv
        };
        let flat: Vec<Value> = call(&[]).invoke_async(conn).await.map_err(redis_error)?;
        let mut rows = Vec::new();
        if !matches!(flat.first(), Some(Value::Nil)) {
            triples(flat, &mut rows);
            return Ok(rows);
        }
        let members: Vec<String> =
            Self::query(conn, cmd("ZRANGE").arg(index).arg(0).arg(-1)).await?;
        for batch in members.chunks(SCRIPT_BATCH) {
            let flat: Vec<Value> = call(batch).invoke_async(conn).await.map_err(redis_error)?;
            triples(flat, &mut rows);
        }
        Ok(rows)
    }

    /// Ends `only` (or every member when empty); returns how many sessions were deleted.
    pub(super) async fn end_users(
        &self,
        user: &str,
        only: Option<&SessionId>,
    ) -> Result<usize, StoreError> {
        let index = self.user_key(user);
        let cluster = self.pool.is_cluster();
        let ended: i64 = self
            .with_conn(|mut conn| async move {
                if !cluster {
                    // Newest first, a batch per call, each call atomic: an attempt cut off has
                    // ended whole batches, and a retry goes on from there.
                    let mut ended = 0;
                    loop {
                        let mut inv = END_SCRIPT.key(&index);
                        inv.arg(&*self.prefix).arg(SCRIPT_BATCH);
                        if let Some(id) = only {
                            inv.arg(id.as_str());
                        }
                        let (deleted, left): (i64, i64) =
                            inv.invoke_async(&mut conn).await.map_err(redis_error)?;
                        ended += deleted;
                        if only.is_some() || left == 0 {
                            return Ok(ended);
                        }
                    }
                }
                let mut members: Vec<String> = match only {
                    Some(id) => {
                        let score: Option<f64> =
                            Self::query(&mut conn, cmd("ZSCORE").arg(&index).arg(id.as_str()))
                                .await?;
                        score.map(|_| id.to_string()).into_iter().collect()
                    }
                    None => {
                        Self::query(&mut conn, cmd("ZRANGE").arg(&index).arg(0).arg(-1)).await?
                    }
                };
                // Newest first (the latest expiry): an attempt cut short has ended those.
                members.reverse();
                // Batch by batch, delete first, then unlist: a crash in between leaves listed
                // ids of gone sessions (pruned later), never live sessions off the list; and an
                // attempt the deadline cuts off has taken its finished batches off the set, so a
                // retry goes on from there instead of starting over (and never reaching the
                // last members).
                let mut ended = 0;
                for batch in members.chunks(CLUSTER_FANOUT) {
                    // Owned ids: a stream over borrowed ones makes the future not `Send`.
                    ended += futures_util::stream::iter(batch.to_vec())
                        .map(|member| {
                            let (mut conn, key) = (conn.clone(), [&*self.prefix, &member].concat());
                            async move { Self::query::<i64>(&mut conn, cmd("DEL").arg(&key)).await }
                        })
                        .buffer_unordered(CLUSTER_FANOUT)
                        .try_fold(0, |sum, deleted| async move { Ok(sum + deleted) })
                        .await?;
                    let _: i64 = Self::query(&mut conn, cmd("ZREM").arg(&index).arg(batch)).await?;
                }
                Ok(ended)
            })
            .await?;
        Ok(usize::try_from(ended).unwrap_or(0))
    }
}
