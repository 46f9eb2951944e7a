//! A user's sessions in the file store: found by scanning the directory, not kept in an index.
//!
//! A scan reads every session file, so listing and ending cost time in proportion to all
//! sessions in the directory (fine for the thousands one machine's file store holds; use
//! Redis beyond). In exchange there is no second record to keep in step with the sessions: a
//! session is listed exactly while its file is live and signed in as the user, across every
//! process sharing the directory, and a sign-in racing a log-out-everywhere can leave no live
//! session unlisted. Each deletion re-checks the file under its stripe lock, so a session
//! renewed or signed in as someone else meanwhile is left alone.
//!
//! "Last used" is the file's modification time (every write and refresh rewrites it); the
//! expiry is that time plus the TTL recorded at sign-in (and by `Session::set_ttl`).

use std::{fs, path::Path, time::Duration};

use super::{FileStore, Inner, Stored};
use crate::{
    store::{Binding, UserSession, USER_KEY},
    SessionId, StoreError,
};

impl Inner {
    /// The row of the session file at `path` if it is live and signed in as `user`.
    fn user_row(
        &self,
        user: &str,
        id: &SessionId,
        path: &Path,
    ) -> Result<Option<UserSession>, StoreError> {
        let Stored::Live(entries) = self.read(path)? else {
            return Ok(None);
        };
        let Some(json) = entries.get(USER_KEY) else {
            return Ok(None);
        };
        let Ok(modified) = fs::symlink_metadata(path).and_then(|meta| meta.modified()) else {
            return Ok(None); // removed since the read
        };
        let Ok(record) = serde_json::from_str::<Binding>(json) else {
            return Ok(None);
        };
        let expires = modified + Duration::from_secs(record.ttl);
        Ok(UserSession::from_stored(user, id.clone(), json, expires))
    }

    fn scan_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let mut rows = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(StoreError::unavailable)? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|name| self.session_of(name)) else {
                continue;
            };
            if let Some(row) = self.user_row(user, &id, &self.path(&id))? {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// Deletes session `id` if, under its lock, it is still live and signed in as `user`.
    fn end_if_users(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        self.locked(id, || {
            let path = self.path(id);
            if self.user_row(user, id, &path)?.is_none() {
                return Ok(false);
            }
            self.remove(&path).map(|()| true)
        })
    }
}

impl FileStore {
    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let user = user.to_owned();
        self.blocking(move |inner| inner.scan_user(&user)).await
    }

    pub(super) async fn end_user(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        let (user, id) = (user.to_owned(), id.clone());
        self.blocking(move |inner| inner.end_if_users(&user, &id))
            .await
    }

    pub(super) async fn end_all(&self, user: &str) -> Result<usize, StoreError> {
        let user = user.to_owned();
        self.blocking(move |inner| {
            let mut ended = 0;
            for row in inner.scan_user(&user)? {
                ended += usize::from(inner.end_if_users(&user, &row.id)?);
            }
            Ok(ended)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::store::{ChangeSet, SessionStore};

    #[test]
    fn rows_carry_the_files_write_time_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        let id = SessionId::generate();
        let auth = r#"{"user":"ada","at":1,"ttl":600}"#;
        let before = SystemTime::now() - Duration::from_secs(2);
        actix_web::rt::System::new().block_on(async {
            let changes = ChangeSet::create().upsert(USER_KEY, auth);
            store
                .save(&id, &changes, Duration::from_secs(600))
                .await
                .unwrap();
            let rows = store.user_sessions("ada").await.unwrap();
            assert_eq!(rows.len(), 1);
            assert!(rows[0].last_used >= before, "{rows:?}");
            assert_eq!(
                rows[0].expires,
                rows[0].last_used + Duration::from_secs(600)
            );
            assert!(store.user_sessions("bob").await.unwrap().is_empty());
        });
    }
}
