//! The row key: each row is found by an integer, the first 60 bits of its session id
//! ([`SessionId::leading_bits`]), SQLite's rowid, so a lookup walks one b-tree (an index on
//! the text id was a second one, and a save of a new session changed both). Every statement
//! also compares the whole id.

use rusqlite::{params, types::Value, Connection};

use super::{
    db::{self, sqlite_error},
    Statements,
};
use crate::{SessionId, StoreError};

/// Moves the rows of a table an earlier version made (`id TEXT PRIMARY KEY`, no `key`
/// column) into the current layout, in one transaction, and makes the `user_id` index again.
/// Safe when several processes open the file at once: the first moves the rows, the others
/// then find the `key` column. Rows under an id this crate would not have written (no request
/// could load them) are dropped; of two ids with the same key (a table of a million sessions
/// has such a pair with a chance of about one in two million), the first row read is kept.
pub(super) fn migrate(
    conn: &Connection,
    sql: &Statements,
    user_index: &str,
) -> Result<(), StoreError> {
    if has_key(conn, sql)? {
        return Ok(());
    }
    db::begin(conn)?;
    match move_rows(conn, sql, user_index) {
        Ok(()) => db::end(conn),
        Err(err) => {
            db::rollback(conn);
            Err(err)
        }
    }
}

fn has_key(conn: &Connection, sql: &Statements) -> Result<bool, StoreError> {
    conn.query_row(&sql.keys.has_key, [], |row| row.get::<_, i64>(0))
        .map(|columns| columns > 0)
        .map_err(sqlite_error)
}

fn move_rows(conn: &Connection, sql: &Statements, user_index: &str) -> Result<(), StoreError> {
    // Another process may have moved them while this one waited for the lock.
    if has_key(conn, sql)? {
        return Ok(());
    }
    let keys = &sql.keys;
    conn.execute_batch(&keys.set_aside).map_err(sqlite_error)?;
    {
        let mut insert = conn.prepare(&keys.insert).map_err(sqlite_error)?;
        let mut rows = conn.prepare(&keys.rows).map_err(sqlite_error)?;
        let mut rows = rows.query([]).map_err(sqlite_error)?;
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            let id: String = row.get(0).map_err(sqlite_error)?;
            let Ok(id) = SessionId::try_from(id) else {
                continue;
            };
            // Copied as they are, whatever their types.
            let (data, expires_at, user_id): (Value, Value, Value) = (
                row.get(1).map_err(sqlite_error)?,
                row.get(2).map_err(sqlite_error)?,
                row.get(3).map_err(sqlite_error)?,
            );
            insert
                .execute(params![
                    id.leading_bits(),
                    id.as_str(),
                    data,
                    expires_at,
                    user_id
                ])
                .map_err(sqlite_error)?;
        }
    }
    conn.execute_batch(&keys.drop).map_err(sqlite_error)?;
    conn.execute_batch(user_index).map_err(sqlite_error)
}
