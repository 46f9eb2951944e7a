//! After the handler: what to write (a pure [`plan_server`] / [`plan_cookie`] from the request's
//! state) and carrying it out against the store.

use std::time::Duration;

use tracing::Instrument as _;

use super::{state::SessionState, Session, Storage};
use crate::{
    config::{Config, CookieLifecycle, TtlRefresh},
    cookie::{server_token, Incoming, Meta},
    observe,
    store::{ChangeSet, DynStore, SaveOutcome},
    transport::Carrier,
    SaveError, SessionError, SessionId, StoreError,
};

/// What the middleware must do with the session token: nothing, answer a new one, or remove
/// it (a removal cookie, or an empty header).
#[derive(Debug, PartialEq)]
pub(crate) enum TokenUpdate {
    Keep,
    /// What the request's carrier sends, rendered once (the cookie store measures it too): the
    /// `Set-Cookie` text, or the token itself for a header.
    Set(String),
    Remove,
}

impl Session {
    /// How the request carried its token, and so how its response answers it.
    pub(crate) fn carrier(&self) -> Carrier {
        self.0.carrier
    }

    /// True once a handler extracted or loaded the session.
    pub(crate) fn was_accessed(&self) -> bool {
        self.state().accessed
    }

    /// Writes what the request changed and says what to do with the cookie.
    pub(crate) async fn commit(&self) -> Result<TokenUpdate, SaveError> {
        let Some(shared) = self.0.shared.as_deref() else {
            return Ok(TokenUpdate::Keep);
        };
        if shared.config.refresh != TtlRefresh::OnEveryRequest && self.untouched() {
            // The common case: no store call, and not even the cookie's signature checked.
            return Ok(TokenUpdate::Keep);
        }
        let span = observe::commit_span(shared.storage.kind());
        let result = self.commit_touched(shared).instrument(span.clone()).await;
        span.record(
            "outcome",
            match &result {
                Ok(_) => "ok",
                Err(SaveError::Store(err)) => observe::error_kind(err),
                Err(_) => "refused",
            },
        );
        result
    }

    /// [`commit`](Self::commit) of a session this request touched.
    async fn commit_touched(&self, shared: &super::Backend) -> Result<TokenUpdate, SaveError> {
        self.incoming();
        let needs_all = {
            let state = self.state();
            state.renewed_to.is_some()
                || (matches!(shared.storage, Storage::Cookie(_))
                    && (state.is_changed() || state.wants_refresh(self.verified(), &shared.config)))
        };
        if needs_all {
            // Renewal copies the whole session; the cookie store re-seals all of it.
            self.load().await.map_err(load_failed)?;
        }
        self.stamp_epoch(&shared.config).await?;
        match &shared.storage {
            Storage::Server(store) => self.commit_server(&shared.config, &**store).await,
            Storage::Cookie(store) => self.commit_cookie(&shared.config, store),
        }
    }

    /// Nothing read, written, purged or renewed in this request.
    fn untouched(&self) -> bool {
        let state = self.state();
        !state.accessed && !state.is_changed() && !state.purged && state.renewed_to.is_none()
    }

    /// Carries out the [`plan_server`] for this request against `store`.
    async fn commit_server(
        &self,
        config: &Config,
        store: &dyn DynStore,
    ) -> Result<TokenUpdate, SaveError> {
        let (plan, ends) = {
            let state = self.state();
            let plan = plan_server(
                &state,
                self.request_cookie(),
                config,
                config.clock.unix_secs(),
            );
            // A user-sessions call that ended this session counted it already.
            let ends = matches!(plan.action, ServerAction::Purge { old: Some(_), .. })
                && !state.ended_elsewhere;
            (plan, ends)
        };
        let update = plan.execute(config, self.carrier(), store).await?;
        if ends {
            observe::ended("purge", 1);
        }
        Ok(update)
    }

    fn commit_cookie(
        &self,
        config: &Config,
        store: &crate::store::CookieStore,
    ) -> Result<TokenUpdate, SaveError> {
        let state = self.state();
        let plan = plan_cookie(
            &state,
            self.request_cookie(),
            config,
            config.clock.unix_secs(),
        );
        observe::commit_action(plan.name());
        Ok(match plan {
            CookiePlan::Keep => TokenUpdate::Keep,
            CookiePlan::Remove => {
                if state.purged && state.sealed.is_some() && !state.ended_elsewhere {
                    observe::ended("purge", 1);
                }
                TokenUpdate::Remove
            }
            CookiePlan::Seal { meta, ttl } => {
                let value = store.seal(config, &state.entries, state.user.binding(), meta, ttl)?;
                let carrier = self.carrier();
                let text = carrier.render(config, value, ttl, meta.own_ttl);
                carrier.check_size(&text)?;
                if state.sealed.is_none() || state.purged {
                    observe::created();
                } else if state.renewed_to.is_some() {
                    observe::renewed();
                }
                if state.signing_in.is_some() {
                    observe::signed_in();
                }
                TokenUpdate::Set(text)
            }
        })
    }

    /// What the request's cookie said, as far as it has been verified.
    fn request_cookie(&self) -> RequestCookie<'_> {
        RequestCookie {
            presented: !self.0.raw_tokens.is_empty(),
            verified: self.0.incoming.get().map(Option::as_ref),
        }
    }
}

/// A load that a save needed failed: the save fails with the store's error.
pub(super) fn load_failed(err: SessionError) -> SaveError {
    match err {
        SessionError::Load(e) => SaveError::Store(e),
        other => SaveError::Store(StoreError::Other(other.into())),
    }
}

/// The session cookie a request presented, and what verifying it gave.
#[derive(Debug, Clone, Copy, Default)]
struct RequestCookie<'a> {
    presented: bool,
    /// `None` until verified; then the verified cookie, or `None` if it did not verify.
    verified: Option<Option<&'a Incoming>>,
}

impl<'a> RequestCookie<'a> {
    fn incoming(self) -> Option<&'a Incoming> {
        self.verified.flatten()
    }

    /// A cookie was presented and did not verify: it is answered with a removal, once.
    fn rejected(self) -> bool {
        self.presented && matches!(self.verified, Some(None))
    }

    fn verified_id(self) -> Option<&'a SessionId> {
        match self.incoming()? {
            Incoming::Id { id, .. } => Some(id),
            Incoming::Sealed => None,
        }
    }
}

/// What the commit of a server-side session does: decided by [`plan_server`] from the request's
/// state alone, then carried out by [`ServerPlan::execute`].
#[derive(Debug, PartialEq)]
struct ServerPlan {
    action: ServerAction,
    /// The TTL to write (capped by the maximum lifetime).
    ttl: Duration,
    /// The facts the cookie of the resulting session carries.
    meta: Meta,
    /// A save must re-send the cookie (fresh `Max-Age`, new TTL, or current key).
    resend: bool,
    /// Once a renewal is saved: list its new id among its user's sessions.
    listing: Option<Listing>,
}

/// The listing that follows a saved renewal of a signed-in session: a sign-in's (the user it
/// binds, then the user kept within the cap), or a [`renew`](Session::renew)'s (the store moved
/// the data, not the listing: unlisted, the new id would survive "log out everywhere").
#[derive(Debug, PartialEq)]
struct Listing {
    user: String,
    sign_in: bool,
    /// [`max_sessions_per_user`](crate::SessionMiddlewareBuilder::max_sessions_per_user), for a
    /// sign-in.
    cap: Option<usize>,
}

#[derive(Debug, PartialEq)]
enum ServerAction {
    Nothing,
    /// The presented cookie did not verify: remove it, once.
    Reject,
    /// Re-send the cookie sealed with the current key.
    Reseal {
        id: SessionId,
    },
    Purge {
        old: Option<SessionId>,
        fresh: Option<ChangeSet>,
    },
    Renew {
        old: Option<SessionId>,
        new: SessionId,
        changes: ChangeSet,
    },
    Save {
        id: SessionId,
        changes: ChangeSet,
    },
    Create {
        changes: ChangeSet,
    },
    Refresh {
        id: SessionId,
    },
    /// The TTL was already reset by the load: only the cookie may need re-sending.
    Reissue {
        id: SessionId,
    },
}

impl ServerAction {
    /// Its name in the commit's span.
    fn name(&self) -> &'static str {
        match self {
            Self::Nothing => "nothing",
            Self::Reject => "reject",
            Self::Reseal { .. } => "reseal",
            Self::Purge { .. } => "purge",
            Self::Renew { .. } => "renew",
            Self::Save { .. } => "save",
            Self::Create { .. } => "create",
            Self::Refresh { .. } => "refresh",
            Self::Reissue { .. } => "reissue",
        }
    }
}

/// The least the store needs for what this request did to the session. Pure: the same state,
/// cookie, configuration and time give the same plan.
fn plan_server(
    state: &SessionState,
    cookie: RequestCookie<'_>,
    config: &Config,
    now: u64,
) -> ServerPlan {
    let incoming = cookie.incoming();
    let incoming_id = cookie.verified_id();
    let existing = incoming_id.filter(|_| state.exists != Some(false));
    let action = if state.purged {
        let fresh = state.change_set(ChangeSet::create());
        ServerAction::Purge {
            old: incoming_id.cloned(),
            fresh: (!fresh.upserts().is_empty()).then_some(fresh),
        }
    } else if let Some(new) = &state.renewed_to {
        ServerAction::Renew {
            old: existing.cloned(),
            new: new.clone(),
            changes: state.full_change_set(),
        }
    } else if state.is_changed() {
        match existing {
            Some(id) => ServerAction::Save {
                id: id.clone(),
                changes: state.change_set(ChangeSet::update()),
            },
            None => {
                let changes = state.change_set(ChangeSet::create());
                if changes.upserts().is_empty() {
                    ServerAction::Nothing
                } else {
                    ServerAction::Create { changes }
                }
            }
        }
    } else if state.wants_refresh(incoming, config) {
        match existing {
            Some(id) if !state.refreshed => ServerAction::Refresh { id: id.clone() },
            Some(id) => ServerAction::Reissue { id: id.clone() },
            None => ServerAction::Nothing,
        }
    } else if let Some(id) =
        existing.filter(|_| state.stale_key(incoming) && state.exists == Some(true))
    {
        // Re-sealed on a read too, so retiring the old key signs out no reader.
        ServerAction::Reseal { id: id.clone() }
    } else if cookie.rejected() {
        ServerAction::Reject
    } else {
        // A verified cookie whose session is gone is left alone: it may have been renewed away
        // by a concurrent request, whose new cookie a removal would delete.
        ServerAction::Nothing
    };
    let meta = state.meta(incoming, config.ttl);
    let listing = match action {
        ServerAction::Renew { .. } => match &state.signing_in {
            Some(user) => Some(Listing {
                user: user.clone(),
                sign_in: true,
                cap: config.max_sessions_per_user,
            }),
            None => super::auth::bound_user(state).map(|user| Listing {
                user,
                sign_in: false,
                cap: None,
            }),
        },
        _ => None,
    };
    ServerPlan {
        listing,
        action,
        ttl: state.effective_ttl(incoming, config, now),
        resend: config.lifecycle == CookieLifecycle::Persistent
            || meta.own_ttl
            || state.stale_key(incoming)
            || state.ttl_set.is_some(),
        meta,
    }
}

impl ServerPlan {
    /// Makes the store calls of the plan and says what to do with the cookie. A session found
    /// gone by a save or renewal was ended by a concurrent request, which answered the removal;
    /// this one leaves the cookie alone (a removal could delete a newer cookie).
    async fn execute(
        self,
        config: &Config,
        carrier: Carrier,
        store: &dyn DynStore,
    ) -> Result<TokenUpdate, SaveError> {
        let Self {
            action,
            ttl,
            meta,
            resend,
            listing,
        } = self;
        let set = |id: &SessionId| {
            TokenUpdate::Set(carrier.render(
                config,
                server_token(config, id, meta),
                ttl,
                meta.own_ttl,
            ))
        };
        // Without a Max-Age the browser's cookie needs no re-sending after a bare refresh.
        let reissue = |id: &SessionId| match config.lifecycle {
            _ if meta.own_ttl => set(id),
            CookieLifecycle::Persistent => set(id),
            CookieLifecycle::BrowserSession => TokenUpdate::Keep,
        };
        observe::commit_action(action.name());
        Ok(match action {
            ServerAction::Nothing => TokenUpdate::Keep,
            ServerAction::Reject => TokenUpdate::Remove,
            ServerAction::Reseal { id } => set(&id),
            ServerAction::Purge { old, fresh } => {
                if let Some(old) = &old {
                    store.delete(old).await?;
                }
                match fresh {
                    Some(changes) => {
                        let id = SessionId::generate();
                        store.save(&id, &changes, ttl).await?;
                        observe::created();
                        set(&id)
                    }
                    None if old.is_some() => TokenUpdate::Remove,
                    None => TokenUpdate::Keep,
                }
            }
            ServerAction::Renew { old, new, changes } => {
                let outcome = match &old {
                    Some(old) => store.renew(old, &new, &changes, ttl).await?,
                    None => store.save(&new, &changes, ttl).await?,
                };
                match outcome {
                    SaveOutcome::Saved => {
                        if old.is_some() {
                            observe::renewed();
                        } else {
                            observe::created();
                        }
                        if let Some(listing) = listing {
                            listing.run(store, &new, ttl).await?;
                        }
                        set(&new)
                    }
                    SaveOutcome::Gone => {
                        tracing::info!(
                            "session ended by a concurrent request; its renewal was dropped"
                        );
                        TokenUpdate::Keep
                    }
                }
            }
            ServerAction::Save { id, changes } => match store.save(&id, &changes, ttl).await? {
                // The cookie text (id, creation time, TTL) is what the browser already holds,
                // unless it must carry a fresh Max-Age, a new TTL or the current key.
                SaveOutcome::Saved if resend => set(&id),
                SaveOutcome::Saved => TokenUpdate::Keep,
                SaveOutcome::Gone => {
                    tracing::info!(
                        "session ended by a concurrent request; its changes were dropped"
                    );
                    TokenUpdate::Keep
                }
            },
            ServerAction::Create { changes } => {
                let id = SessionId::generate();
                store.save(&id, &changes, ttl).await?;
                observe::created();
                set(&id)
            }
            ServerAction::Refresh { id } => {
                if store.refresh(&id, ttl).await? {
                    reissue(&id)
                } else {
                    TokenUpdate::Keep
                }
            }
            ServerAction::Reissue { id } => reissue(&id),
        })
    }
}

impl Listing {
    /// Lists session `id`; after a sign-in, counts it and keeps the user within the cap.
    async fn run(
        self,
        store: &dyn DynStore,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let listed = match store.index_user_session(&self.user, id, ttl).await {
            Ok(count) => Some(count),
            Err(StoreError::Unsupported { .. }) => None,
            Err(err) => {
                // A signed-in session missing from the list would survive "log out
                // everywhere": take it back rather than keep it.
                if let Err(undo) = store.delete(id).await {
                    crate::log::error_chain(
                        "could not delete an unlisted signed-in session",
                        &undo,
                    );
                }
                return Err(err);
            }
        };
        if self.sign_in {
            observe::signed_in();
            // Listed, and over the cap or not known to be within it.
            if let (Some(count), Some(max)) = (listed, self.cap) {
                if count.is_none_or(|n| n > max) {
                    keep_within_cap(store, &self.user, id, max).await;
                }
            }
        }
        Ok(())
    }
}

/// After a sign-in: ends the user's oldest sessions beyond `max`
/// ([`max_sessions_per_user`](crate::SessionMiddlewareBuilder::max_sessions_per_user)). The
/// sign-in itself has succeeded: a store failure here is logged, not answered (the next sign-in
/// tries again).
async fn keep_within_cap(store: &dyn DynStore, user: &str, id: &SessionId, max: usize) {
    match crate::store::end_oldest(store, user, id, max).await {
        Ok(0) | Err(StoreError::Unsupported { .. }) => {}
        Ok(ended) => observe::ended("cap", u64::try_from(ended).unwrap_or(u64::MAX)),
        Err(err) => crate::log::error_chain(
            "could not end a user's oldest sessions beyond max_sessions_per_user",
            &err,
        ),
    }
}

/// What the commit of a cookie-store session does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum CookiePlan {
    Keep,
    Remove,
    /// Seal the whole session into a new cookie.
    Seal {
        meta: Meta,
        ttl: Duration,
    },
}

impl CookiePlan {
    /// Its name in the commit's span.
    fn name(self) -> &'static str {
        match self {
            Self::Keep => "nothing",
            Self::Remove => "remove",
            Self::Seal { .. } => "seal",
        }
    }
}

/// The cookie store's counterpart of [`plan_server`]: pure as well.
fn plan_cookie(
    state: &SessionState,
    cookie: RequestCookie<'_>,
    config: &Config,
    now: u64,
) -> CookiePlan {
    let incoming = cookie.incoming();
    let write = if state.purged {
        !state.changes.is_empty()
    } else {
        state.is_changed()
            || state.renewed_to.is_some()
            || state.wants_refresh(incoming, config)
            // Re-sealed on a read too, so retiring the old key signs out no reader.
            || (state.stale_key(incoming) && state.exists == Some(true))
    };
    if !write {
        // Purged here, or the cookie did not open (tampered, expired, retired key): remove it.
        // Sealed cookies are never renewed away, so no newer cookie can be hit.
        return if cookie.presented && state.is_fresh() {
            CookiePlan::Remove
        } else {
            CookiePlan::Keep
        };
    }
    if state.is_empty() && !cookie.presented {
        return CookiePlan::Keep;
    }
    CookiePlan::Seal {
        meta: state.meta(incoming, config.ttl),
        ttl: state.effective_ttl(incoming, config, now),
    }
}

#[cfg(test)]
mod tests;
