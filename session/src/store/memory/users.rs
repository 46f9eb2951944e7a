//! The memory store's list of each user's sessions.
//!
//! One map from user to session ids, behind one lock. Every operation on a user's list first
//! drops the ids whose session is gone (ended, expired or evicted), and so does the store's
//! sweep (every so many new sessions) for all users: the index holds the live signed-in
//! sessions (within the store's bounds) and those that died since the last sweep.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard},
};

use super::MemoryStore;
use crate::{
    store::{UserSession, USER_KEY},
    SessionId,
};

#[derive(Debug, Default)]
pub(super) struct UserIndex(Mutex<HashMap<String, HashSet<SessionId>>>);

impl UserIndex {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, HashSet<SessionId>>> {
        // The map is consistent after every statement; a panic elsewhere cannot break it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MemoryStore {
    /// The row of session `id` if it is live and signed in as `user`.
    fn user_row(&self, user: &str, id: &SessionId) -> Option<UserSession> {
        let (now, wall) = (self.inner.clock.instant(), self.inner.clock.now());
        self.with_live(id, |record| {
            let json = record.entries.get(USER_KEY)?;
            let expires = wall + record.expires_at.saturating_duration_since(now);
            UserSession::from_stored(user, id.clone(), json, expires)
        })
        .flatten()
    }

    /// Drops from every user's list the ids whose session is gone (ended, expired or evicted),
    /// and the users left with none. Runs with the store's sweep of expired sessions, so the
    /// index holds at most the live signed-in sessions and those dead since the last sweep,
    /// even for users who never come back.
    pub(super) fn sweep_users(&self) {
        let mut index = self.inner.users.lock();
        index.retain(|user, ids| {
            self.forget_gone(user, ids);
            !ids.is_empty()
        });
    }

    /// Drops from `ids` those whose session is no longer live and signed in as `user`.
    fn forget_gone(&self, user: &str, ids: &mut HashSet<SessionId>) {
        ids.retain(|id| self.user_row(user, id).is_some());
    }

    /// Lists `id` and answers how many live sessions `user` has listed now. Lock order: the
    /// index, then a session's shard (never the other way round).
    pub(super) fn index_user(&self, user: &str, id: &SessionId) -> usize {
        let mut index = self.inner.users.lock();
        let ids = index.entry(user.to_owned()).or_default();
        self.forget_gone(user, ids);
        ids.insert(id.clone());
        ids.len()
    }

    pub(super) fn list_user(&self, user: &str) -> Vec<UserSession> {
        let mut index = self.inner.users.lock();
        let Some(ids) = index.get_mut(user) else {
            return Vec::new();
        };
        let mut rows = Vec::with_capacity(ids.len());
        ids.retain(|id| match self.user_row(user, id) {
            Some(row) => {
                rows.push(row);
                true
            }
            None => false,
        });
        if ids.is_empty() {
            index.remove(user);
        }
        rows
    }

    pub(super) fn end_user(&self, user: &str, id: &SessionId) -> bool {
        let mut index = self.inner.users.lock();
        let Some(ids) = index.get_mut(user) else {
            return false;
        };
        if !ids.remove(id) {
            return false;
        }
        if ids.is_empty() {
            index.remove(user);
        }
        let live = self.user_row(user, id).is_some();
        if live {
            self.inner.cache.remove(id);
        }
        live
    }

    /// Holding the index lock, a sign-in's listing waits: its session (written before) is
    /// either among the ids taken here, or listed after.
    pub(super) fn end_all(&self, user: &str) -> usize {
        let mut index = self.inner.users.lock();
        let ids = index.remove(user).unwrap_or_default();
        ids.iter()
            .filter(|id| {
                // Only sessions still signed in as `user`: an id is no proof of ownership.
                let live = self.user_row(user, id).is_some();
                if live {
                    self.inner.cache.remove(*id);
                }
                live
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::store::{ChangeSet, SessionStore};

    /// Ids of dead sessions do not pile up in a user's list.
    #[actix_web::test]
    async fn a_users_list_forgets_dead_sessions_on_the_next_sign_in() {
        let store = MemoryStore::new();
        let auth = r#"{"user":"ada","at":1,"ttl":60}"#;
        for _ in 0..50 {
            let id = SessionId::generate();
            let changes = ChangeSet::create().upsert(USER_KEY, auth);
            store.save(&id, &changes, Duration::ZERO).await.unwrap();
            store.index_user("ada", &id);
        }
        let live = SessionId::generate();
        let changes = ChangeSet::create().upsert(USER_KEY, auth);
        store
            .save(&live, &changes, Duration::from_secs(60))
            .await
            .unwrap();
        store.index_user("ada", &live);
        assert_eq!(store.inner.users.lock()["ada"].len(), 1);
    }

    /// A user who never signs in, lists or logs out again does not keep an entry for sessions
    /// that are gone: the store's sweep takes them out.
    #[actix_web::test]
    async fn the_sweep_forgets_users_whose_sessions_are_gone() {
        let store = MemoryStore::new();
        let auth = |user: &str| format!(r#"{{"user":"{user}","at":1,"ttl":60}}"#);
        for (user, ttl) in [("ada", Duration::ZERO), ("grace", Duration::from_secs(60))] {
            let id = SessionId::generate();
            let changes = ChangeSet::create().upsert(USER_KEY, auth(user));
            store.save(&id, &changes, ttl).await.unwrap();
            store.index_user(user, &id);
        }
        let ended = SessionId::generate();
        let changes = ChangeSet::create().upsert(USER_KEY, auth("linus"));
        store
            .save(&ended, &changes, Duration::from_secs(60))
            .await
            .unwrap();
        store.index_user("linus", &ended);
        store.delete(&ended).await.unwrap();
        assert_eq!(store.inner.users.lock().len(), 3);

        assert_eq!(store.len(), 1, "len sweeps");
        let index = store.inner.users.lock();
        assert_eq!(index.keys().collect::<Vec<_>>(), ["grace"]);
        assert_eq!(index["grace"].len(), 1);
    }
}
