//! A user's sessions in the SQLite store: the `user_id` column, kept by every save and
//! renewal from the change set (see [`user_change`](super::super::user_change)), indexed, and
//! added with a backfill to a table made by an earlier version.

use sqlx::Row as _;

use super::{Inner, SqliteStore};
use crate::{
    store::{
        sql::{now_ms, sql_error, user_rows, within},
        SignedIn, UserSession, USER_KEY,
    },
    SessionId, StoreError,
};

/// The statements of the user methods and of the migration, made once for the table.
pub(super) struct Statements {
    has_column: String,
    add_column: String,
    signed_in: String,
    backfill: String,
    index: String,
    list: String,
    end_one: String,
    end_all: String,
}

impl Statements {
    pub(super) fn new(t: &str) -> Self {
        // The JSON text under USER_KEY, NULL for a corrupt row (json_extract would fail on it).
        let record = format!(
            "CASE WHEN json_valid(data) AND json_type(data) = 'object' \
             THEN json_extract(data, '$.\"{USER_KEY}\"') END"
        );
        Self {
            has_column: format!(
                "SELECT count(*) FROM pragma_table_info('{t}') WHERE name = 'user_id'"
            ),
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
            // ?1 user, ?2 now, ?3 id.
            end_one: format!("DELETE FROM {t} WHERE id = ?3 AND user_id = ?1 AND expires_at > ?2"),
            end_all: format!("DELETE FROM {t} WHERE user_id = ?1 AND expires_at > ?2"),
        }
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

    /// Runs the user statement `sql` with the user, now and `id` (if any), within the timeout.
    async fn end(&self, sql: &str, user: &str, id: Option<&SessionId>) -> Result<u64, StoreError> {
        within(self.timeout, async {
            self.schema().await?;
            let query = sqlx::query(sql).bind(user).bind(now_ms());
            let query = match id {
                Some(id) => query.bind(id.as_str()),
                None => query,
            };
            let done = query.execute(&self.writer).await.map_err(sql_error)?;
            Ok(done.rows_affected())
        })
        .await
    }
}

/// The user methods of [`SqliteStore`]; the trait impl in `sqlite.rs` forwards here.
impl SqliteStore {
    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let inner = &*self.inner;
        within(inner.timeout, async {
            inner.schema().await?;
            let rows = sqlx::query(&inner.users.list)
                .bind(user)
                .bind(now_ms())
                .fetch_all(&inner.pool)
                .await
                .map_err(sql_error)?;
            user_rows(user, rows)
        })
        .await
    }

    pub(super) async fn end_user(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        Ok(inner.end(&inner.users.end_one, user, Some(id)).await? > 0)
    }

    pub(super) async fn end_all(&self, user: &str) -> Result<usize, StoreError> {
        let inner = &*self.inner;
        let ended = inner.end(&inner.users.end_all, user, None).await?;
        Ok(usize::try_from(ended).unwrap_or(usize::MAX))
    }
}
