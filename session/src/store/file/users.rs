//! A user's sessions in the file store: an index directory per user, beside the sessions.
//!
//! `{dir}/{prefix}users/{digest}/` holds one empty file per session the user signed in, named
//! by the session's id (`digest` is 128 bits of SHA-256 over the user's canonical form, so any
//! user id makes a safe name). Listing reads that directory, then each session file it names:
//! the work is the user's sessions, not the store's. An entry is added after its session is
//! written (a sign-in writes, then indexes), so a listing never misses a signed-in session, and
//! it is checked, never trusted: each row re-reads its session file, and an entry whose session
//! is gone (expired, ended, renewed away, signed out) is removed by the listing, the end or the
//! prune that finds it so. A prune also removes the directories of users with no entry left,
//! so the index is swept with the sessions. Each deletion re-checks the session file under its
//! stripe lock, so a session renewed or signed in as someone else meanwhile is left alone.
//!
//! "Last used" is the file's modification time (every write and refresh rewrites it); the
//! expiry is that time plus the TTL recorded at sign-in (and by `Session::set_ttl`).

use std::{
    fs, io,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use super::{create_private_dir, FileStore, Inner, Stored};
use crate::{
    store::{UserBinding, UserSession, USER_KEY},
    SessionId, StoreError,
};

/// The index's directory, after the store's prefix.
const USERS_DIR: &str = "users";

impl Inner {
    /// The directory of every user's index.
    pub(super) fn users_dir(&self) -> PathBuf {
        self.dir.join(format!("{}{USERS_DIR}", self.prefix))
    }

    /// The index directory of `user`.
    fn user_dir(&self, user: &str) -> PathBuf {
        let name = crate::id::digest128(&[b"file-store-user\0", user.as_bytes()]);
        self.users_dir().join(name)
    }

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
        let Some(record) = UserBinding::decode(json) else {
            return Ok(None);
        };
        let expires = modified + record.ttl();
        Ok(UserSession::of(user, id.clone(), record, expires))
    }

    /// Adds session `id` to `user`'s index; answers how many entries the index holds.
    fn index(&self, user: &str, id: &SessionId) -> Result<usize, StoreError> {
        let dir = self.user_dir(user);
        let mut tries = 0;
        loop {
            create_private_dir(&dir).map_err(StoreError::unavailable)?;
            let entry = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(dir.join(id.as_str()));
            match entry {
                Ok(_) => break,
                // A prune removed the empty directory in between: make it again.
                Err(err) if err.kind() == io::ErrorKind::NotFound && tries < 3 => tries += 1,
                Err(err) => return Err(StoreError::unavailable(err)),
            }
        }
        if self.durable {
            // The entry, and the user's directory if it is new.
            for made in [&dir, &self.users_dir()] {
                fs::File::open(made)
                    .and_then(|made| made.sync_all())
                    .map_err(StoreError::unavailable)?;
            }
        }
        Ok(Self::index_entries(&dir)?.len())
    }

    /// The session ids in the index directory `dir` (none when it does not exist).
    pub(super) fn index_entries(dir: &Path) -> Result<Vec<SessionId>, StoreError> {
        let listing = match fs::read_dir(dir) {
            Ok(listing) => listing,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(StoreError::unavailable(err)),
        };
        Ok(listing
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                SessionId::try_from(name.to_str()?).ok()
            })
            .collect())
    }

    /// Takes session `id` off the index directory `dir`; a missing entry is fine.
    pub(super) fn unindex(dir: &Path, id: &SessionId) -> Result<(), StoreError> {
        match fs::remove_file(dir.join(id.as_str())) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(StoreError::unavailable(err)),
            _ => Ok(()),
        }
    }

    fn list(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let dir = self.user_dir(user);
        let mut rows = Vec::new();
        for id in Self::index_entries(&dir)? {
            match self.user_row(user, &id, &self.path(&id))? {
                Some(row) => rows.push(row),
                None => Self::unindex(&dir, &id)?,
            }
        }
        Ok(rows)
    }

    /// Deletes session `id` if, under its lock, it is still live and signed in as `user`, and
    /// takes it off the user's index directory `dir` either way.
    fn end_if_users(&self, user: &str, dir: &Path, id: &SessionId) -> Result<bool, StoreError> {
        let ended = self.locked(id, || {
            let path = self.path(id);
            if self.user_row(user, id, &path)?.is_none() {
                return Ok(false);
            }
            self.remove(&path).map(|()| true)
        })?;
        Self::unindex(dir, id)?;
        Ok(ended)
    }
}

impl FileStore {
    pub(super) async fn index_user(&self, user: &str, id: &SessionId) -> Result<usize, StoreError> {
        let (user, id) = (user.to_owned(), id.clone());
        self.blocking(move |inner| inner.index(&user, &id)).await
    }

    pub(super) async fn list_user(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        let user = user.to_owned();
        self.blocking(move |inner| inner.list(&user)).await
    }

    pub(super) async fn end_user(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        let (user, id) = (user.to_owned(), id.clone());
        self.blocking(move |inner| inner.end_if_users(&user, &inner.user_dir(&user), &id))
            .await
    }

    pub(super) async fn end_all(&self, user: &str) -> Result<usize, StoreError> {
        let user = user.to_owned();
        self.blocking(move |inner| {
            let (mut ended, dir) = (0, inner.user_dir(&user));
            for id in Inner::index_entries(&dir)? {
                ended += usize::from(inner.end_if_users(&user, &dir, &id)?);
            }
            Ok(ended)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::store::{ChangeSet, Prune as _, SessionStore};

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
            let indexed = store.index_user_session("ada", &id, Duration::from_secs(600));
            assert_eq!(indexed.await.unwrap(), Some(1));
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

    /// The user's index directory holds their sessions only, drops entries whose session is
    /// gone when a listing finds them, and is swept with its last session by a prune.
    #[test]
    fn the_index_holds_the_users_sessions_and_is_swept_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        let long = Duration::from_secs(600);
        let entries = |user: &str| {
            let inner = &store.inner;
            Inner::index_entries(&inner.user_dir(user)).unwrap().len()
        };
        actix_web::rt::System::new().block_on(async {
            let sign_in = |user: &'static str| {
                let store = store.clone();
                async move {
                    let id = SessionId::generate();
                    let auth = format!(r#"{{"user":"{user}","at":1,"ttl":600}}"#);
                    let changes = ChangeSet::create().upsert(USER_KEY, auth);
                    store.save(&id, &changes, long).await.unwrap();
                    let count = store.index_user_session(user, &id, long).await.unwrap();
                    (id, count)
                }
            };
            let (first, one) = sign_in("ada").await;
            let (second, two) = sign_in("ada").await;
            let (_, bobs) = sign_in("bob").await;
            assert_eq!((one, two, bobs), (Some(1), Some(2), Some(1)));
            assert_eq!((entries("ada"), entries("bob")), (2, 1));

            // Signed out (the session deleted; the index is not touched), then listed.
            store.delete(&first).await.unwrap();
            assert_eq!(entries("ada"), 2);
            let rows = store.user_sessions("ada").await.unwrap();
            assert_eq!(rows.iter().map(|r| &r.id).collect::<Vec<_>>(), [&second]);
            assert_eq!(entries("ada"), 1, "the listing dropped the ended session");

            // Expired, then pruned: the entry and Ada's directory go; Bob's stays.
            store
                .save(&second, &ChangeSet::update(), Duration::ZERO)
                .await
                .unwrap();
            let report = store.prune().await.unwrap();
            assert_eq!((report.expired, report.index_entries), (1, 1), "{report:?}");
            assert!(!store.inner.user_dir("ada").exists());
            assert_eq!(entries("bob"), 1);
            assert_eq!(store.user_sessions("bob").await.unwrap().len(), 1);
            // Ada signs in again: her directory comes back.
            assert_eq!(sign_in("ada").await.1, Some(1));
        });
    }
}
