//! The actix-session bridge's side of a session: the first load of a request that carries an
//! old app's cookie and no valid cookie of ours imports the old session as a new one.

use super::Session;
use crate::{ActixSessionImport, SessionError, IDENTITY_USER_KEY};

impl Session {
    /// Imports the request's actix-session cookie, once (under the load lock). An old cookie
    /// that does not verify, or whose session is gone, leaves a fresh session; either way the
    /// response removes it.
    ///
    /// # Errors
    /// [`SessionError::Load`] when the old store is unavailable: the old cookie is kept, so
    /// that the next request tries again.
    pub(super) async fn import_old(&self, import: &ActixSessionImport) -> Result<(), SessionError> {
        if self.state().old_cookie_done {
            return Ok(());
        }
        let imported = import
            .import(&self.0.old_tokens)
            .await
            .map_err(SessionError::Load)?;
        let user = {
            let mut state = self.state();
            state.old_cookie_done = true;
            state.exists = Some(false);
            let Some(entries) = imported else {
                return Ok(());
            };
            let user = entries
                .get(IDENTITY_USER_KEY)
                .and_then(|json| serde_json::from_str::<String>(json).ok());
            for (key, value) in entries {
                // Keys of this crate's are never an old session's to set.
                if SessionError::check_reserved(&key).is_err() {
                    tracing::debug!(key, "not imported: the key is reserved");
                    continue;
                }
                // What this request wrote before its first load wins, as over a stored session.
                if !state.knows(&key) && !state.cleared {
                    state.changes.insert(key.clone());
                    state.entries.insert(key, value.into());
                }
            }
            user
        };
        tracing::info!(
            signed_in = user.is_some(),
            "imported an actix-session session"
        );
        match user {
            Some(user) => self.sign_in(user),
            None => Ok(()),
        }
    }

    /// The `Set-Cookie` text removing the request's actix-session cookie, once the load dealt
    /// with it.
    /// Nothing when the old cookie has our cookie's name: our `Set-Cookie` replaces it, and a
    /// removal after it would remove ours.
    pub(crate) fn old_cookie_removal(&self) -> Option<String> {
        let shared = self.0.shared.as_ref()?;
        let import = shared.import.as_ref()?;
        let same = import.named(&shared.config.cookie_name);
        (self.state().old_cookie_done && !same).then(|| import.removal())
    }
}
