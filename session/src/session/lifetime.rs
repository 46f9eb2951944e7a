//! When a session was created and when it expires, as far as this request knows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Session;
use crate::SessionError;

impl Session {
    /// Returns when the session was created: kept across renewals, "remember me" and sign-ins that
    /// keep the session (see [`sign_in`](Self::sign_in)). A new session (no cookie, one whose
    /// session is gone, the one that replaces a purged session, or the clean session a sign-in
    /// over another user's starts) was created by this request. Whole seconds, by the middleware's clock.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached(); // a new session
    /// let age = session.created_at()?.elapsed().unwrap_or_default();
    /// if age > std::time::Duration::from_secs(3600) {
    ///     // ask for the password again before a sensitive change
    /// }
    /// assert!(age < std::time::Duration::from_secs(60));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Unloaded`] before the session is loaded (a handle from
    /// [`SessionExt`](crate::SessionExt) without [`load`](Self::load); extracted sessions,
    /// typed ones included, are loaded).
    pub fn created_at(&self) -> Result<SystemTime, SessionError> {
        let shared = self
            .0
            .shared
            .as_ref()
            .ok_or(SessionError::MissingMiddleware)?;
        let incoming = self.incoming();
        let state = self.state();
        if incoming.is_some() && state.exists.is_none() && !state.is_fresh() {
            return Err(SessionError::Unloaded);
        }
        let created = state.meta(incoming, shared.config.ttl).created;
        Ok(UNIX_EPOCH + Duration::from_secs(created))
    }

    /// Returns when the session expires if this request's response saves or refreshes it: now plus
    /// its TTL (its own, from [`set_ttl`](Self::set_ttl), or the configured one), capped by the
    /// maximum lifetime. That is exact for a new, changed, renewed or refreshed session (every
    /// accessed one under [`TtlRefresh::OnAccess`](crate::TtlRefresh)); a session only read
    /// under the default [`TtlRefresh::OnUpdate`](crate::TtlRefresh) keeps the expiry of its
    /// last write, which the cookie does not carry, so this is then the latest it can be.
    /// Whole seconds, by the middleware's clock.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached(); // a new session, TTL one day
    /// let expires = session.expires_at()?;
    /// let left = expires.duration_since(std::time::SystemTime::now()).unwrap_or_default();
    /// assert!(left > std::time::Duration::from_secs(23 * 3600));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// As [`created_at`](Self::created_at).
    pub fn expires_at(&self) -> Result<SystemTime, SessionError> {
        let shared = self
            .0
            .shared
            .as_ref()
            .ok_or(SessionError::MissingMiddleware)?;
        self.created_at()?;
        let now = shared.config.clock.unix_secs();
        let ttl = self
            .state()
            .effective_ttl(self.incoming(), &shared.config, now);
        Ok(UNIX_EPOCH + Duration::from_secs(now) + ttl)
    }
}
