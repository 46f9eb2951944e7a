//! A user's sessions in the SQLite store: the `user_id` column, kept by every save and
//! renewal from the change set (see [`user_change`](super::super::user_change)), indexed, and
//! added with a backfill to a table made by an earlier version.

use sqlx::Row as _;

use super::Inner;
use crate::{
    store::{
        sql::{now_ms, sql_error, user_rows, within, UserStatements},
        SignedIn, UserSession, USER_KEY,
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

impl Inner {
    /// Adds the `user_id` column to a table an earlier version made, fills it in for the
    /// sessions signed in there, and creates its index. Safe when several processes do it at
    /// once: one adds the column (the others' `duplicate column` is ignored), and each row is
    /// filled in only if its record is still the one read.
    pub(super) async fn migrate_user_column(&self) -> Result<(), StoreError> {
        let sql = &self.users;
        let has: i64 = sqlx::query_scalar(&sql.has_column)
            .fetch_one(&self.writer)
            .await
            .map_err(sql_error)?;
        if has == 0 {
            match sqlx::query(&sql.add_column).execute(&self.writer).await {
                Ok(_) => self.backfill().await?,
                Err(sqlx::Error::Database(db)) if db.message().contains("duplicate column") => {}
                Err(err) => return Err(sql_error(err)),
            }
        }
        sqlx::query(&sql.index)
            .execute(&self.writer)
            .await
            .map(drop)
            .map_err(sql_error)
    }

    async fn backfill(&self) -> Result<(), StoreError> {
        let rows = sqlx::query(&self.users.signed_in)
            .fetch_all(&self.writer)
            .await
            .map_err(sql_error)?;
        for row in rows {
            let (id, record): (String, String) = (
                row.try_get(0).map_err(sql_error)?,
                row.try_get(1).map_err(sql_error)?,
            );
            let Ok(signed_in) = serde_json::from_str::<SignedIn>(&record) else {
                continue;
            };
            sqlx::query(&self.users.backfill)
                .bind(signed_in.user)
                .bind(id)
                .bind(record)
                .execute(&self.writer)
                .await
                .map_err(sql_error)?;
        }
        Ok(())
    }

    /// The live sessions of `user`.
    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        within(self.timeout, async {
            self.schema().await?;
            let rows = sqlx::query(&self.users.list)
                .bind(user)
                .bind(now_ms())
                .fetch_all(&self.pool)
                .await
                .map_err(sql_error)?;
            user_rows(user, rows)
        })
        .await
    }

    /// Deletes `user`'s live rows (only `id`'s, given one); answers how many.
    pub(super) async fn end(&self, user: &str, id: Option<&SessionId>) -> Result<u64, StoreError> {
        within(self.timeout, async {
            self.schema().await?;
            let done = sqlx::query(&self.users.end)
                .bind(user)
                .bind(now_ms())
                .bind(id.map(SessionId::as_str))
                .execute(&self.writer)
                .await;
            Ok(done.map_err(sql_error)?.rows_affected())
        })
        .await
    }
}
