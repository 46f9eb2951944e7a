//! The SQL the SQLite store sends, made once per table.

/// Every statement the store sends, made once for its table.
pub(super) struct Statements {
    pub(super) schema: String,
    pub(super) load: String,
    pub(super) load_only: String,
    pub(super) load_refresh: String,
    pub(super) load_only_refresh: String,
    pub(super) update: String,
    pub(super) create: String,
    pub(super) refresh: String,
    pub(super) delete: String,
    pub(super) renew_delete: String,
    pub(super) renew_insert: String,
    pub(super) prune: String,
    /// Moving the rows of a table an earlier version made (no `key` column) to this layout.
    pub(super) keys: KeyStatements,
}

/// The statements of [`super::keys::migrate`].
pub(super) struct KeyStatements {
    /// How many columns named `key` the table has.
    pub(super) has_key: String,
    /// Sets the old table aside (as `{t}_before_keys`) and makes the new one.
    pub(super) set_aside: String,
    /// `(id, data, expires_at, user_id)` of every row set aside.
    pub(super) rows: String,
    /// ?1 key, ?2 id, ?3 data, ?4 expires_at, ?5 user_id.
    pub(super) insert: String,
    pub(super) drop: String,
}

impl Statements {
    pub(super) fn new(t: &str) -> Self {
        // `?1` id, `?2` now (Unix ms); the rest per statement, the row key (the id's leading
        // bits, see `SessionId::leading_bits`) last. Every statement finds its row by the key
        // and checks the whole id: a row under the same key with another id is not this
        // session's. Rows with `expires_at <= now` are as good as absent.
        let only = |data: &str| {
            format!(
                "CASE WHEN NOT json_valid({data}) OR json_type({data}) <> 'object' THEN {data} \
                 ELSE (SELECT json_group_object(e.key, e.value) FROM json_each({data}) AS e \
                 WHERE e.key IN (SELECT value FROM json_each(?3))) END"
            )
        };
        let live = "id = ?1 AND expires_at > ?2";
        Self {
            schema: format!(
                "CREATE TABLE IF NOT EXISTS {t} (key INTEGER PRIMARY KEY, id TEXT NOT NULL, \
                 data TEXT NOT NULL, expires_at INTEGER NOT NULL, user_id TEXT); \
                 DROP INDEX IF EXISTS {t}_expires_at"
            ),
            load: format!("SELECT data FROM {t} WHERE key = ?3 AND {live}"),
            // ?3 keys.
            load_only: format!(
                "SELECT {} FROM {t} WHERE key = ?4 AND {live}",
                only(&format!("{t}.data"))
            ),
            // ?3 new expiry.
            load_refresh: format!(
                "UPDATE {t} SET expires_at = ?3 WHERE key = ?4 AND {live} RETURNING data"
            ),
            // ?3 keys, ?4 new expiry.
            load_only_refresh: format!(
                "UPDATE {t} SET expires_at = ?4 WHERE key = ?5 AND {live} RETURNING {}",
                only("data")
            ),
            // ?3 cleared, ?4 patch, ?5 new expiry, ?6 whether the user changes, ?7 the user.
            // Corrupt rows count as gone.
            update: format!(
                "UPDATE {t} SET data = json_patch(CASE WHEN ?3 THEN '{{}}' ELSE data END, ?4), \
                 expires_at = ?5, user_id = CASE WHEN ?6 THEN ?7 ELSE user_id END \
                 WHERE key = ?8 AND {live} AND json_valid(data)"
            ),
            // An expired or corrupt row under the id is replaced, a live one merged into; an
            // expired row of another id under the key is replaced, a live one left alone (no
            // row changes: the caller fails the save).
            create: format!(
                "INSERT INTO {t} (key, id, data, expires_at, user_id) \
                 VALUES (?8, ?1, json_patch('{{}}', ?4), ?5, ?7) \
                 ON CONFLICT (key) DO UPDATE SET id = excluded.id, \
                 data = json_patch(CASE WHEN ?3 OR expires_at <= ?2 OR NOT json_valid(data) \
                 THEN '{{}}' ELSE data END, ?4), \
                 expires_at = excluded.expires_at, user_id = CASE WHEN ?6 THEN ?7 \
                 WHEN ?3 OR expires_at <= ?2 OR NOT json_valid(data) THEN NULL ELSE user_id END \
                 WHERE {t}.id = excluded.id OR {t}.expires_at <= ?2"
            ),
            // ?3 new expiry.
            refresh: format!("UPDATE {t} SET expires_at = ?3 WHERE key = ?4 AND {live}"),
            delete: format!("DELETE FROM {t} WHERE key = ?2 AND id = ?1"),
            renew_delete: format!("DELETE FROM {t} WHERE key = ?3 AND {live}"),
            // ?1 new id, ?2 now, ?3 data, ?4 expiry, ?5 user; as `create` for a row already
            // under the key.
            renew_insert: format!(
                "INSERT INTO {t} (key, id, data, expires_at, user_id) \
                 VALUES (?6, ?1, ?3, ?4, ?5) \
                 ON CONFLICT (key) DO UPDATE SET id = excluded.id, data = excluded.data, \
                 expires_at = excluded.expires_at, user_id = excluded.user_id \
                 WHERE {t}.id = excluded.id OR {t}.expires_at <= ?2"
            ),
            prune: format!("DELETE FROM {t} WHERE expires_at <= ?1"),
            keys: KeyStatements {
                has_key: format!(
                    "SELECT count(*) FROM pragma_table_info('{t}') WHERE name = 'key'"
                ),
                set_aside: format!(
                    "DROP INDEX IF EXISTS {t}_user_id; ALTER TABLE {t} RENAME TO {t}_before_keys; \
                     CREATE TABLE {t} (key INTEGER PRIMARY KEY, id TEXT NOT NULL, \
                     data TEXT NOT NULL, expires_at INTEGER NOT NULL, user_id TEXT)"
                ),
                rows: format!("SELECT id, data, expires_at, user_id FROM {t}_before_keys"),
                insert: format!(
                    "INSERT INTO {t} (key, id, data, expires_at, user_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING"
                ),
                drop: format!("DROP TABLE {t}_before_keys"),
            },
        }
    }
}
