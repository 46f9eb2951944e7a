//! The memory store's list of each user's sessions.
//!
//! One map from user to session ids, behind one lock. Every operation on a user's list first
//! drops the ids whose session is gone (ended, expired or evicted), so a list never holds more
//! than the user's live sessions plus those that died since the user's last sign-in, listing
//! or log-out-everywhere.

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

    /// Lock order: the index, then a session's shard (never the other way round).
    pub(super) fn index_user(&self, user: &str, id: &SessionId) {
        let mut index = self.inner.users.lock();
        let ids = index.entry(user.to_owned()).or_default();
        ids.retain(|known| self.user_row(user, known).is_some());
        ids.insert(id.clone());
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
}
