//! The SQL stores: [`SqliteStore`] (feature `sqlite`, on rusqlite) and [`PostgresStore`]
//! (feature `postgres`, on sqlx), and what they share: table-name checks, error mapping, deadlines, pruning.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::{
    collections::HashMap,
    future::Future,
    time::{Duration, UNIX_EPOCH},
};

#[cfg(feature = "postgres")]
pub use self::postgres::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "sqlite")]
pub use self::sqlite::{SqliteStore, SqliteStoreBuilder};
use super::{ChangeSet, Entries, Keys, SaveOutcome, UserChange, UserSession};
use crate::{SessionId, StoreError};

/// The table the SQL stores use unless told otherwise.
pub(crate) const DEFAULT_TABLE: &str = "sessions";

/// How long one store call may take, waiting for a connection included, unless told otherwise.
pub(crate) const DEFAULT_SQL_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest table name accepted: PostgreSQL truncates identifiers past 63 bytes, and the
/// index name adds a suffix.
const MAX_TABLE_CHARS: usize = 48;

/// A SQL store could not be configured.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use actix_typed_session::store::{SqlConfigError, SqliteStore};
///
/// let err = SqliteStore::builder("s.db").table("bobby; DROP TABLE students").build();
/// assert!(matches!(err, Err(SqlConfigError::InvalidTable { .. })));
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlConfigError {
    /// The table name is not a plain SQL identifier. It is spliced into statements, so only
    /// identifier characters are allowed.
    #[error(
        "invalid session table name {table:?}: use 1 to {MAX_TABLE_CHARS} ASCII letters, digits \
         or `_`, not starting with a digit"
    )]
    InvalidTable {
        /// The name given.
        table: String,
    },
    /// The database URL could not be parsed.
    #[cfg(feature = "postgres")]
    #[error("invalid database URL")]
    Url(#[source] sqlx::Error),
}

/// Checks that `table` can be spliced into SQL as it is.
fn check_table(table: &str) -> Result<(), SqlConfigError> {
    let mut bytes = table.bytes();
    let valid = table.len() <= MAX_TABLE_CHARS
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(SqlConfigError::InvalidTable {
            table: table.to_owned(),
        })
    }
}

#[cfg(feature = "postgres")]
/// Maps a sqlx error onto the store's error kinds.
fn sql_error(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::PoolTimedOut => StoreError::Timeout,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::corrupt(err),
        sqlx::Error::Database(db) if is_busy(db.as_ref()) => StoreError::Timeout,
        _ => StoreError::unavailable(err),
    }
}

#[cfg(feature = "postgres")]
/// An error that means "waited too long": PostgreSQL's `query_canceled` (a
/// `statement_timeout`) and lock timeouts.
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.code()
        .is_some_and(|code| matches!(&*code, "57014" | "55P03"))
}

/// Runs `work` within `deadline`, as [`StoreError::Timeout`] past it.
async fn within<T>(
    deadline: Duration,
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or(Err(StoreError::Timeout))
}

/// The outcome of a write guarded by "the session is live": no row touched means it was not.
fn written(rows_affected: u64) -> SaveOutcome {
    if rows_affected == 0 {
        SaveOutcome::Gone
    } else {
        SaveOutcome::Saved
    }
}

/// A TTL in whole milliseconds, saturating.
fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// Decodes a stored session: a JSON object mapping each key to its value's JSON text.
fn decode(text: &str) -> Result<Entries, StoreError> {
    serde_json::from_str(text).map_err(StoreError::corrupt)
}

/// Encodes a whole session for storage (see [`decode`]).
fn encode(entries: &Entries) -> Result<String, StoreError> {
    serde_json::to_string(entries).map_err(|err| StoreError::Other(err.into()))
}

/// The whole session a creating change set makes from nothing.
fn created(changes: &ChangeSet) -> Entries {
    let mut entries = Entries::new();
    changes.apply_to(&mut entries);
    entries
}

#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
/// The upserted keys as a JSON object of JSON texts (the right side of a merge).
fn upserts(changes: &ChangeSet) -> Result<String, StoreError> {
    let map: HashMap<&str, &str> = changes
        .upserts()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&map).map_err(|err| StoreError::Other(err.into()))
}

/// The statements of a SQL store's user methods and of its `user_id` migration, made once
/// for its table (each store's `users.rs` writes them in its dialect).
struct UserStatements {
    /// Whether the table has the `user_id` column.
    has_column: String,
    add_column: String,
    /// `(id, JSON text under USER_KEY)` of the rows whose user to fill in.
    signed_in: String,
    backfill: String,
    index: String,
    /// `(id, JSON text under USER_KEY, expiry in Unix ms)` of a user's live rows.
    list: String,
    /// Deletes a user's live rows, or only the one of an id when one is given.
    end: String,
}

/// What a change set makes of the session's `user_id` column: `Some(user)` when it signs a
/// user in or out (`Some(None)`: no user), `None` when it leaves the column as it is.
fn user_change(changes: &ChangeSet) -> Option<Option<String>> {
    match changes.user() {
        UserChange::SignedIn(bound) => Some(Some(bound.user())),
        UserChange::SignedOut => Some(None),
        _ => None,
    }
}

/// The `user_id` of the session a change set creates from nothing (a renewal's new row).
fn created_user(changes: &ChangeSet) -> Option<String> {
    user_change(changes).flatten()
}

/// A user's listed rows, each `(id, the JSON text under USER_KEY, expiry in Unix ms)`; rows
/// that do not bind `user` (or whose id this crate would not have written) are left out.
fn listed(user: &str, rows: Vec<(String, Option<String>, i64)>) -> Vec<UserSession> {
    let mut listed = Vec::with_capacity(rows.len());
    for (id, record, expires_ms) in rows {
        let (Ok(id), Some(record), Ok(ms)) =
            (SessionId::try_from(id), record, u64::try_from(expires_ms))
        else {
            continue;
        };
        let expires = UNIX_EPOCH + Duration::from_millis(ms);
        listed.extend(UserSession::from_stored(user, id, &record, expires));
    }
    listed
}

#[cfg(feature = "sqlite")]
/// A change set as a JSON merge patch (RFC 7396, SQLite's `json_patch`): upserted keys map to
/// their JSON text as a string, removed keys to `null`.
fn patch(changes: &ChangeSet) -> Result<String, StoreError> {
    let mut map: HashMap<&str, Option<&str>> = HashMap::new();
    for key in changes.removals() {
        map.insert(key, None);
    }
    for (key, value) in changes.upserts() {
        map.insert(key, Some(value));
    }
    serde_json::to_string(&map).map_err(|err| StoreError::Other(err.into()))
}

/// The keys a partial load asks for, or `None` for all.
fn only(keys: Keys<'_>) -> Option<&[String]> {
    match keys {
        Keys::All => None,
        Keys::Only(keys) => Some(keys),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for good in [
            "sessions",
            "_s",
            "app_sessions_2",
            &"a".repeat(MAX_TABLE_CHARS),
        ] {
            assert!(check_table(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "2sessions",
            "a b",
            "s;drop table x",
            "\"s\"",
            "public.sessions",
            "sessiöns",
            &"a".repeat(MAX_TABLE_CHARS + 1),
        ] {
            assert!(
                matches!(check_table(bad), Err(SqlConfigError::InvalidTable { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn huge_ttls_saturate() {
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
        assert_eq!(millis(Duration::MAX), i64::MAX);
    }
}
