//! Sweeping the user sets: the sets of users who never come back.
//!
//! Every operation on a user's set drops the members whose sessions are gone, but a set is only
//! touched when its user signs in, lists or logs out everywhere: a user who never returns would
//! leave a set of dead ids (at most the cap on a user's sessions) behind for good. A set has no
//! TTL of its own, because a session's TTL moves on with every write or refresh, which never
//! touch the set (requests that do not sign in pay nothing): no TTL given at sign-in bounds a
//! session that is still used. [`Prune::prune`] is the sweep instead: it walks the user
//! sets with `SCAN` (on every master of a cluster) and runs on each the check the operations
//! run, so a set whose sessions have all ended leaves Redis at the next sweep.

use ::redis::cmd;

use super::{
    pool::{redis_error, Node},
    users::{now_millis, SCRIPT_BATCH},
    RedisConnection, RedisStore,
};
use crate::{
    store::{Prune, PruneReport},
    StoreError,
};

/// Sweeps the index of users' sessions: every user set (`{prefix}user:*`, found with
/// `SCAN … TYPE zset`, on each master of a cluster) drops the members whose session has ended
/// and re-scores the others (at most 256 per set per sweep, the most expired first), and Redis
/// deletes a set whose last member leaves ([`PruneReport::index_entries`] counts the members
/// dropped). Sessions themselves need no pruning: Redis expires them.
///
/// Each step (one `SCAN` page, one set) is a call of its own within the pool's deadline, so a
/// sweep of a large keyspace takes as many steps as it needs without holding Redis: an error
/// ends the sweep, and the next one starts over. The ACL user needs `+scan` (and on a cluster
/// `+cluster|slots`) for it; nothing else does.
///
/// ```no_run
/// use std::time::Duration;
/// use actix_typed_session::store::{start_pruning, Prune, RedisStore};
///
/// # #[actix_web::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::open("redis://127.0.0.1:6379")?;
/// let dropped = store.prune().await?.index_entries;
/// let _pruner = start_pruning(&store, Duration::from_secs(60 * 60))?; // or on a schedule
/// # Ok(()) }
/// ```
///
/// Its errors: [`StoreError::Unavailable`] or [`StoreError::Timeout`] from any step.
impl Prune for RedisStore {
    async fn prune(&self) -> Result<PruneReport, StoreError> {
        let pattern = [&*escape_glob(&self.prefix), "user:*"].concat();
        let masters = self
            .with_conn(|mut conn| async move { conn.masters().await.map_err(redis_error) })
            .await?;
        let nodes: Vec<Option<&Node>> = if masters.is_empty() {
            vec![None]
        } else {
            masters.iter().map(Some).collect()
        };
        let mut dropped = 0;
        for node in nodes {
            let mut cursor = 0u64;
            loop {
                let (next, sets) = self
                    .with_conn(|conn| scan(conn, node, cursor, &pattern))
                    .await?;
                for set in sets {
                    dropped += self.prune_set(&set).await?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(PruneReport {
            index_entries: usize::try_from(dropped).unwrap_or(usize::MAX),
            ..PruneReport::default()
        })
    }
}

impl RedisStore {
    /// Checks the expired members of one user set; answers how many it dropped.
    async fn prune_set(&self, index: &str) -> Result<u64, StoreError> {
        let now = now_millis();
        let cluster = self.pool.is_cluster();
        self.with_conn(|mut conn| async move {
            if !cluster {
                let (dropped, _) = self.recheck_script(&mut conn, index, now, None).await?;
                return Ok(dropped);
            }
            let due: Vec<String> = cmd("ZRANGEBYSCORE")
                .arg(index)
                .arg("-inf")
                .arg(now)
                .arg("LIMIT")
                .arg(0)
                .arg(SCRIPT_BATCH)
                .query_async(&mut conn)
                .await
                .map_err(redis_error)?;
            self.recheck_members(&mut conn, index, due, now).await
        })
        .await
    }
}

/// One `SCAN` page of user sets on `node` (or the one server): the next cursor and the keys.
async fn scan(
    mut conn: RedisConnection,
    node: Option<&Node>,
    cursor: u64,
    pattern: &str,
) -> Result<(u64, Vec<String>), StoreError> {
    let page = cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(SCRIPT_BATCH)
        .arg("TYPE")
        .arg("zset")
        .clone();
    let reply = conn.query_on(node, &page).await.map_err(redis_error)?;
    ::redis::from_redis_value::<(u64, Vec<String>)>(reply)
        .map_err(|err| StoreError::unavailable(::redis::RedisError::from(err)))
}

/// `text` with the glob characters of a `SCAN MATCH` pattern escaped.
fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_glob;

    #[test]
    fn glob_characters_of_the_prefix_match_only_themselves() {
        assert_eq!(escape_glob("session:"), "session:");
        assert_eq!(escape_glob(r"a*b?[c]\d"), r"a\*b\?\[c\]\\d");
    }
}
