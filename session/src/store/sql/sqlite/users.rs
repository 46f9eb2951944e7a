//! A user's sessions in the SQLite store: the `user_id` column, kept by every save and
//! renewal from the change set (see [`user_change`](super::super::user_change)), indexed, and
//! added with a backfill to a table made by an earlier version.

use rusqlite::{params, Connection, ErrorCode};

use super::{db::sqlite_error, Inner};
use crate::{
    store::{
        sql::{listed, UserStatements},
        UserBinding, UserSession, USER_KEY,
    },
    SessionId, StoreError,
};

/// The user statements in this dialect.
pub(super) fn statements(t: &str) -> UserStatements {
    // The JSON text under USER_KEY, NULL for a corrupt row (json_extract would fail on it).
    let record = format!(
        "CASE WHEN json_valid(data) AND json_type(data) = 'object' \
         THEN json_extract(data, '$.\"{USER_KEY}\"') END"
    );
    UserStatements {
        has_column: format!("SELECT count(*) FROM pragma_table_info('{t}') WHERE name = 'user_id'"),
        add_column: format!("ALTER TABLE {t} ADD COLUMN user_id TEXT"),
        signed_in: format!(
            "SELECT id, record FROM (SELECT id, {record} AS record FROM {t} \
             WHERE user_id IS NULL) WHERE record IS NOT NULL"
        ),
        // ?1 user, ?2 id, ?3 the record the user was read from (unchanged since).
        backfill: format!(
            "UPDATE {t} SET user_id = ?1 WHERE id = ?2 AND user_id IS NULL AND {record} = ?3"
        ),
        index: format!(
            "CREATE INDEX IF NOT EXISTS {t}_user_id ON {t} (user_id) WHERE user_id IS NOT NULL"
        ),
        // ?1 user, ?2 now (Unix ms).
        list: format!(
            "SELECT id, {record}, expires_at FROM {t} WHERE user_id = ?1 AND expires_at > ?2"
        ),
        // ?1 user, ?2 now, ?3 the one id or NULL for all.
        end: format!(
            "DELETE FROM {t} WHERE user_id = ?1 AND expires_at > ?2 AND (?3 IS NULL OR id = ?3)"
        ),
    }
}

/// Adds the `user_id` column to a table an earlier version made, fills it in for the sessions
/// signed in there, and creates its index. Safe when several processes do it at once: one adds
/// the column (the others' `duplicate column` is ignored), and each row is filled in only if
/// its record is still the one read.
pub(super) fn migrate_user_column(
    conn: &Connection,
    sql: &UserStatements,
) -> Result<(), StoreError> {
    let has: i64 = conn
        .query_row(&sql.has_column, [], |row| row.get(0))
        .map_err(sqlite_error)?;
    if has == 0 {
        match conn.execute(&sql.add_column, []) {
            Ok(_) => backfill(conn, sql)?,
            Err(rusqlite::Error::SqliteFailure(failure, Some(message)))
                if failure.code == ErrorCode::Unknown && message.contains("duplicate column") => {}
            Err(err) => return Err(sqlite_error(err)),
        }
    }
    conn.execute(&sql.index, []).map(drop).map_err(sqlite_error)
}

fn backfill(conn: &Connection, sql: &UserStatements) -> Result<(), StoreError> {
    let rows: Vec<(String, String)> = conn
        .prepare(&sql.signed_in)
        .and_then(|mut signed_in| {
            signed_in
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(sqlite_error)?;
    for (id, record) in rows {
        let Some(signed_in) = UserBinding::decode(&record) else {
            continue;
        };
        conn.execute(&sql.backfill, params![signed_in.user(), id, record])
            .map_err(sqlite_error)?;
    }
    Ok(())
}

impl Inner {
    /// The live sessions of `user`.
    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let (user, now) = (user.to_owned(), self.now_ms());
        self.db
            .read(move |conn, db| {
                let rows: Vec<(String, Option<String>, i64)> = conn
                    .prepare_cached(&db.users.list)
                    .and_then(|mut list| {
                        list.query_map(params![user, now], |row| {
                            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                        })?
                        .collect()
                    })
                    .map_err(sqlite_error)?;
                Ok(listed(&user, rows))
            })
            .await
    }

    /// Deletes `user`'s live rows (only `id`'s, given one); answers how many.
    pub(super) async fn end(&self, user: &str, id: Option<&SessionId>) -> Result<u64, StoreError> {
        let (user, id) = (user.to_owned(), id.map(|id| id.as_str().to_owned()));
        let now = self.now_ms();
        self.db
            .write(move |conn, db| {
                let ended = conn
                    .prepare_cached(&db.users.end)
                    .and_then(|mut end| end.execute(params![user, now, id]))
                    .map_err(sqlite_error)?;
                Ok(ended as u64)
            })
            .await
    }
}
