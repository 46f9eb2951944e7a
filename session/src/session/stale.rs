//! Stored values that no longer decode as a typed field's type (written by an older release of
//! the application): dropping them from this request, and removing them from the store even
//! when the response is a 5xx, so that one stale value fails at most one request.

use super::{
    commit::{load_failed, TokenUpdate},
    state::SessionState,
    Session,
};
use crate::SaveError;

impl Session {
    /// Drops `key`, whose stored JSON text `json` is stale: this request reads it as absent, and
    /// the removal is written with the next save (or by [`commit_stale`](Self::commit_stale)).
    /// A value changed since it was read is left alone.
    pub(crate) fn drop_stale(&self, key: &str, json: &str) {
        let mut state = self.state();
        if state.entries.get(key).is_some_and(|v| **v == *json) {
            state.entries.remove(key);
            state.changes.insert(key.to_owned());
        }
        state.stale.insert(key.to_owned(), json.to_owned());
    }

    /// Records that `key` holds the stale JSON text `json`, which this request keeps (the field
    /// reports an error): it is removed from the store only if the response is a 5xx.
    pub(crate) fn note_stale(&self, key: &str, json: &str) {
        self.state().stale.insert(key.to_owned(), json.to_owned());
    }

    /// Whether this request found a stale value under `key`.
    pub(crate) fn found_stale(&self, key: &str) -> bool {
        self.state().stale.contains_key(key)
    }

    /// The save of a request that answered with a 5xx: its own changes are discarded (no save
    /// for a failed handler), but the stale values it found are removed from the store if they
    /// are still what it read, so that the next request does not fail the same way.
    pub(crate) async fn commit_stale(&self) -> Result<TokenUpdate, SaveError> {
        let stale = {
            let mut state = self.state();
            if state.stale.is_empty() {
                return Ok(TokenUpdate::Keep);
            }
            let stale = std::mem::take(&mut state.stale);
            // Back to what the store holds: the handler's changes are not kept.
            *state = SessionState::new(state.born);
            stale
        };
        let keys: Vec<&str> = stale.keys().map(String::as_str).collect();
        self.load_keys(&keys).await.map_err(load_failed)?;
        for (key, json) in &stale {
            self.drop_stale(key, json);
        }
        self.state().stale.clear();
        self.commit().await
    }
}
