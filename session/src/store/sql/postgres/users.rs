//! A user's sessions in the PostgreSQL store: the `user_id` column, kept by every save and
//! renewal from the change set (see [`user_change`](super::super::user_change)), indexed, and
//! added with a backfill to a table made by an earlier version.

use sqlx::{PgConnection, Postgres, Row as _, Transaction};

use super::{on_clock, statement, Inner};
use crate::{
    store::{
        sql::{listed, sql_error, within, UserStatements},
        UserBinding, UserSession, USER_KEY,
    },
    SessionId, StoreError,
};

/// The user statements in this dialect.
pub(super) fn statements(t: &str, clocked: bool) -> UserStatements {
    let record = format!("data->>'{USER_KEY}'");
    UserStatements {
        has_column: "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = \
             to_regclass($1) AND attname = 'user_id' AND NOT attisdropped)"
            .to_owned(),
        add_column: format!("ALTER TABLE {t} ADD COLUMN IF NOT EXISTS user_id TEXT"),
        signed_in: format!("SELECT id, {record} FROM {t} WHERE {record} IS NOT NULL"),
        // $1 ids, $2 their users.
        backfill: format!(
            "UPDATE {t} SET user_id = u.user_id \
             FROM unnest($1::text[], $2::text[]) AS u(id, user_id) WHERE {t}.id = u.id"
        ),
        index: format!(
            "CREATE INDEX IF NOT EXISTS {t}_user_id ON {t} (user_id) WHERE user_id IS NOT NULL"
        ),
        list: on_clock(
            format!(
                "SELECT id, {record}, (extract(epoch FROM expires_at) * 1000)::int8 FROM {t} \
                 WHERE user_id = $1 AND expires_at > now()"
            ),
            clocked,
        ),
        // $1 user, $2 the one id or NULL for all.
        end: on_clock(
            format!(
                "DELETE FROM {t} WHERE user_id = $1 AND expires_at > now() \
                 AND ($2::text IS NULL OR id = $2)"
            ),
            clocked,
        ),
    }
}

impl Inner {
    /// Adds the `user_id` column to a table an earlier version made, fills it in for the
    /// sessions signed in there, and creates its index; in the schema transaction, under its
    /// advisory lock (the `ALTER TABLE` also holds off every other statement on the table
    /// until the backfill commits).
    pub(super) async fn migrate_user_column(
        &self,
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<(), StoreError> {
        let sql = &self.users;
        let conn: &mut PgConnection = tx;
        let has: bool = sqlx::query_scalar(statement(sql.has_column.as_str()))
            .bind(&self.table)
            .fetch_one(&mut *conn)
            .await
            .map_err(sql_error)?;
        if !has {
            sqlx::query(statement(sql.add_column.as_str()))
                .execute(&mut *conn)
                .await
                .map_err(sql_error)?;
            let rows = sqlx::query(statement(sql.signed_in.as_str()))
                .fetch_all(&mut *conn)
                .await
                .map_err(sql_error)?;
            let (mut ids, mut users) = (Vec::new(), Vec::new());
            for row in rows {
                let id: String = row.try_get(0).map_err(sql_error)?;
                let record: String = row.try_get(1).map_err(sql_error)?;
                if let Some(signed_in) = UserBinding::decode(&record) {
                    ids.push(id);
                    users.push(signed_in.user());
                }
            }
            sqlx::query(statement(sql.backfill.as_str()))
                .bind(ids)
                .bind(users)
                .execute(&mut *conn)
                .await
                .map_err(sql_error)?;
        }
        sqlx::query(statement(sql.index.as_str()))
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(sql_error)
    }

    /// The live sessions of `user`.
    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        within(self.timeout, async {
            self.schema().await?;
            let rows: Vec<(String, Option<String>, i64)> = self
                .at_now_as(sqlx::query_as(statement(self.users.list.as_str())).bind(user))
                .fetch_all(&self.pool)
                .await
                .map_err(sql_error)?;
            Ok(listed(user, rows))
        })
        .await
    }

    /// Deletes `user`'s live rows (only `id`'s, given one); answers how many.
    pub(super) async fn end(&self, user: &str, id: Option<&SessionId>) -> Result<u64, StoreError> {
        let deletion = self.at_now(
            sqlx::query(statement(self.users.end.as_str()))
                .bind(user)
                .bind(id.map(SessionId::as_str)),
        );
        within(self.timeout, async {
            self.schema().await?;
            let done = deletion.execute(&self.pool).await.map_err(sql_error)?;
            Ok(done.rows_affected())
        })
        .await
    }
}
