//! The lazy load: the cookie is verified on first need, and the session fetched from its
//! store by the first extraction (once per request, shared by every extractor).

use std::time::Duration;

use tracing::Instrument as _;

use super::{state::Bound, Backend, Session, Storage};
use crate::{
    config::TtlRefresh,
    cookie::{parse_server_cookie, CookieFacts, Incoming},
    observe::{self, Refusal},
    store::{Entries, Keys, MemoryStore, Values, USER_KEY},
    SessionError, StoreError,
};

impl Session {
    /// The verified session cookie. Verification waits for the first need (a load, a refresh
    /// policy, [`id`](Self::id), a write), so requests that never touch the session pay for no
    /// cryptography. It takes no lock of the session's, so it may run under the state lock.
    ///
    /// Of several cookies of the session's name, the first that verifies wins (a sealed one is
    /// opened at load).
    pub(super) fn incoming(&self) -> Option<&Incoming> {
        self.0
            .incoming
            .get_or_init(|| {
                let shared = self.0.shared.as_ref()?;
                let mut candidates = self.candidates(true);
                match &shared.storage {
                    Storage::Server(_) => {
                        candidates.find_map(|raw| parse_server_cookie(&shared.config, raw))
                    }
                    Storage::Cookie(_) => candidates.next().map(|_| Incoming::Sealed),
                }
            })
            .as_ref()
    }

    /// The tokens worth verifying: no honest client sends one over its carrier's limit, so
    /// those are refused (logged when `log`, the first time) before any crypto is spent on them.
    fn candidates(&self, log: bool) -> impl Iterator<Item = &str> {
        let limit = self.0.carrier.max_token_bytes();
        self.0.raw_tokens.iter().filter(move |raw| {
            let fits = raw.len() <= limit;
            if !fits && log {
                tracing::warn!(len = raw.len(), "session cookie rejected: oversized");
                observe::refused(Refusal::Oversized);
            }
            fits
        })
    }

    /// [`incoming`](Self::incoming) as far as it has run: `None` before verification.
    pub(super) fn verified(&self) -> Option<&Incoming> {
        self.0.incoming.get().and_then(Option::as_ref)
    }

    /// Loads the whole session, if not loaded yet. The [`Session`] extractor does this for you;
    /// call it on handles from [`SessionExt`](crate::SessionExt) (e.g. in your own middleware).
    ///
    /// ```
    /// use actix_typed_session::SessionExt as _;
    ///
    /// async fn user(req: actix_web::HttpRequest) -> Result<Option<u64>, actix_typed_session::SessionError> {
    ///     let session = req.get_session();
    ///     session.load().await?;
    ///     session.get("user_id")
    /// }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Load`] when the store fails. Undecodable or unknown sessions are not
    /// errors: they become a fresh, empty session; so does the [`Session::detached`] of a
    /// request that did not pass through the middleware.
    pub async fn load(&self) -> Result<(), SessionError> {
        self.ensure_loaded(Keys::All).await
    }

    /// Loads only `keys`, where the store can (one round trip fetching just those fields on
    /// Redis), and the signed-in user ([`USER_KEY`]) with them, so that [`user`](Self::user)
    /// and [`sign_in`](Self::sign_in) work on every loaded handle. Typed sessions use this; a
    /// later [`load`](Self::load) fetches the rest, keeping what this request already read or
    /// changed.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = actix_typed_session::Session::detached();
    /// session.load_keys(&["cart.items"]).await?;
    /// let items: Option<Vec<u32>> = session.get("cart.items")?;
    /// assert_eq!(items, None);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub async fn load_keys(&self, keys: &[&str]) -> Result<(), SessionError> {
        let user = (!keys.contains(&USER_KEY)).then_some(USER_KEY);
        let keys: Vec<String> = keys
            .iter()
            .copied()
            .chain(user)
            .map(str::to_owned)
            .collect();
        self.ensure_loaded(Keys::Only(&keys)).await
    }

    async fn ensure_loaded(&self, want: Keys<'_>) -> Result<(), SessionError> {
        let shared = self
            .0
            .shared
            .as_ref()
            .ok_or(SessionError::MissingMiddleware)?;
        let has_cookie = self.incoming().is_some();
        {
            let mut state = self.state();
            state.accessed = true;
            if state.covers(want) {
                return Ok(());
            }
        }
        let _loading = self.0.load_lock.lock().await;
        if !self.0.old_tokens.is_empty() {
            if let Some(import) = &shared.import {
                if !has_cookie {
                    return self.import_old(import).await;
                }
                self.state().old_cookie_done = true;
            }
        }
        let (missing, refresh) = {
            let mut state = self.state();
            if state.covers(want) {
                return Ok(());
            }
            if !has_cookie {
                state.exists = Some(false);
                return Ok(());
            }
            let missing: Option<Vec<String>> = match want {
                Keys::All => None,
                Keys::Only(keys) => {
                    Some(keys.iter().filter(|k| !state.knows(k)).cloned().collect())
                }
            };
            let refresh =
                (shared.config.refresh == TtlRefresh::OnAccess && !state.refreshed).then(|| {
                    state.effective_ttl(
                        self.verified(),
                        &shared.config,
                        shared.config.clock.unix_secs(),
                    )
                });
            (missing, refresh)
        };
        let keys = missing.as_deref().map_or(Keys::All, Keys::Only);
        let span = observe::load_span(shared.storage.kind());
        let loaded = self
            .fetch(shared, keys, refresh)
            .instrument(span.clone())
            .await;
        observe::record_outcome(&span, &loaded);
        let loaded = match loaded {
            Ok(Some(mut entries)) => {
                // The binding is decoded once, into the state's typed user.
                let bound = entries.remove(USER_KEY).map(|json| Bound::decode(&json));
                if !self.binding_holds(shared, bound.as_ref()).await? {
                    self.sign_out_stale();
                    return Ok(());
                }
                Ok(Some((entries, bound)))
            }
            Ok(None) => Ok(None),
            Err(err) => Err(err),
        };
        let mut state = self.state();
        match loaded {
            Ok(Some((entries, bound))) => {
                if !state.cleared {
                    for (key, value) in entries {
                        if !state.knows(&key) {
                            state.entries.insert(key, value);
                        }
                    }
                    if let Some(bound) = bound.filter(|_| !state.knows(USER_KEY)) {
                        state.user = bound;
                    }
                }
                state.exists = Some(true);
                state.refreshed |= refresh.is_some();
                // A sealed cookie is opened whole: nothing is left to load later.
                let complete = matches!(shared.storage, Storage::Cookie(_));
                state.mark_loaded(if complete { Keys::All } else { keys });
            }
            Ok(None) => {
                // A verified id whose session is gone. (The cookie store counts its own.)
                if matches!(shared.storage, Storage::Server(_)) {
                    observe::expired();
                }
                state.exists = Some(false);
            }
            Err(StoreError::Corrupt(err)) => {
                tracing::warn!(error = %crate::log::chain(&*err), "stored session is undecodable; starting a fresh session");
                state.exists = Some(false);
            }
            Err(err) => return Err(SessionError::Load(err)),
        }
        Ok(())
    }

    /// Whether the signed-in user of a loaded session (`bound`, if it has one) still holds, by
    /// the middleware's credential versions. A binding this request already knows is its own.
    async fn binding_holds(
        &self,
        shared: &Backend,
        bound: Option<&Bound>,
    ) -> Result<bool, SessionError> {
        if shared.config.epochs.is_none() {
            return Ok(true);
        }
        let Some(bound) = bound else {
            return Ok(true);
        };
        if self.state().knows(USER_KEY) {
            return Ok(true);
        }
        self.epoch_holds(&shared.config, bound).await
    }

    /// The loaded session's sign-in no longer holds: the request goes on with a fresh,
    /// anonymous session (keeping what it wrote before the load), and the commit deletes the
    /// stored one and its cookie.
    fn sign_out_stale(&self) {
        tracing::info!("session signed out: the user's credential version changed");
        observe::ended("epoch", 1);
        let mut state = self.state();
        state.exists = Some(true);
        state.purged = true;
        state.ended_elsewhere = true;
        state.cleared = false;
        state.ttl_set = None;
        state.renewed_to = None;
        let changes = state.changes.clone();
        state.entries.retain(|key, _| changes.contains(key));
        if !changes.contains(USER_KEY) {
            state.user = Bound::Nobody;
        }
    }

    async fn fetch(
        &self,
        shared: &Backend,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Values>, StoreError> {
        match (&shared.storage, self.verified()) {
            (Storage::Server(store), Some(Incoming::Id { id, .. })) => {
                // The built-in memory store shares its values instead of copying them.
                if let Some(memory) = store.as_any().downcast_ref::<MemoryStore>() {
                    let load = async { Ok::<_, StoreError>(memory.load_shared(id, keys, refresh)) };
                    return observe::store_call("memory", "load", load).await;
                }
                // Other stores' values arrive owned: moved in, not copied.
                let loaded: Option<Entries> = store.load(id, keys, refresh).await?;
                Ok(loaded.map(|entries| entries.into_iter().map(|(k, v)| (k, v.into())).collect()))
            }
            (Storage::Cookie(store), Some(Incoming::Sealed)) => {
                let Some(opened) = self
                    .candidates(false)
                    .find_map(|sealed| store.open(&shared.config, sealed))
                else {
                    return Ok(None);
                };
                self.state().sealed = Some(CookieFacts {
                    meta: opened.meta,
                    stale_key: opened.stale_key,
                });
                Ok(Some(opened.entries))
            }
            _ => Ok(None),
        }
    }
}

impl Storage {
    /// The store's kind, for spans and metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Storage::Server(store) => store.kind(),
            Storage::Cookie(_) => "cookie",
        }
    }
}
