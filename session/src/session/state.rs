//! What one request knows of its session: what was loaded, what changed, the change set to
//! write, and the lifetime facts of the session it holds. Pure and synchronous.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    time::Duration,
};

use crate::{
    config::{Config, TtlRefresh},
    cookie::{CookieFacts, Incoming, Meta},
    store::{ChangeSet, Entries, Keys, UserBinding, Value, Values, USER_KEY},
    SessionId, SessionStatus,
};

/// Who the session is signed in as, as far as this request knows (meaningful once
/// [`USER_KEY`] is loaded or changed: [`SessionState::has_key`]). A typed field of the state,
/// never one of its entries: written to the store as [`ChangeSet::bind_user`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) enum Bound {
    #[default]
    Nobody,
    User(Box<UserBinding>),
    /// A stored value this code cannot read (a later version's, or damaged): nobody it can
    /// name, and not the same user as anyone who signs in.
    Unreadable,
}

impl Bound {
    /// The stored form under [`USER_KEY`], decoded.
    pub(super) fn decode(json: &str) -> Self {
        UserBinding::decode(json).map_or(Self::Unreadable, |bound| Self::User(Box::new(bound)))
    }

    pub(super) fn binding(&self) -> Option<&UserBinding> {
        match self {
            Self::User(bound) => Some(bound),
            _ => None,
        }
    }

    pub(super) fn binding_mut(&mut self) -> Option<&mut UserBinding> {
        match self {
            Self::User(bound) => Some(bound),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub(super) enum Loaded {
    #[default]
    Nothing,
    Keys(HashSet<String>),
    All,
}

#[derive(Debug)]
pub(super) struct SessionState {
    pub(super) loaded: Loaded,
    /// Whether the store holds the incoming session; `None` until a load tells.
    pub(super) exists: Option<bool>,
    /// Loaded entries with this request's changes applied (never [`USER_KEY`]: see `user`).
    pub(super) entries: Values,
    /// The signed-in user, loaded or written; a change of it is [`USER_KEY`] in `changes`.
    pub(super) user: Bound,
    /// Keys this request changed: upserted with their value in `entries`, or removed (absent
    /// from `entries`).
    pub(super) changes: BTreeSet<String>,
    pub(super) cleared: bool,
    pub(super) purged: bool,
    /// A sign-in started the session afresh (over another user's session, or over a purge):
    /// like a purged one, it inherits nothing of the session the cookie named (creation time,
    /// TTL, "remember me"), though it keeps a renewal that moves it to its new id.
    pub(super) restarted: bool,
    pub(super) renewed_to: Option<SessionId>,
    /// A TTL set in this request ([`Session::set_ttl`]).
    pub(super) ttl_set: Option<Duration>,
    /// Unix seconds when this handle was made: the creation time of a session it creates.
    pub(super) born: u64,
    /// What an opened sealed cookie (cookie store) said; server cookies say it in [`Incoming`].
    pub(super) sealed: Option<CookieFacts>,
    /// A handler extracted or loaded the session (drives `Vary` and refresh-on-access).
    pub(super) accessed: bool,
    /// A load already reset the TTL.
    pub(super) refreshed: bool,
    /// The user signed in by this request: the commit lists the renewed session as theirs.
    pub(super) signing_in: Option<String>,
    /// Stored values a typed session found stale (they no longer decode as the field's type),
    /// with their JSON text as loaded: removed from the store even when the response is a 5xx,
    /// so that one stale value never fails every request of a session.
    pub(super) stale: BTreeMap<String, String>,
    /// The load has dealt with the request's actix-session cookie (imported, rejected, or
    /// made redundant by a valid cookie of ours): the response removes it.
    pub(super) old_cookie_done: bool,
    /// A user-sessions call ended this very session (and counted it in the metrics).
    pub(super) ended_elsewhere: bool,
}

impl SessionState {
    pub(super) fn new(born: u64) -> Self {
        Self {
            loaded: Loaded::Nothing,
            exists: None,
            entries: Values::new(),
            user: Bound::Nobody,
            changes: BTreeSet::new(),
            cleared: false,
            purged: false,
            restarted: false,
            renewed_to: None,
            ttl_set: None,
            born,
            sealed: None,
            accessed: false,
            refreshed: false,
            signing_in: None,
            stale: BTreeMap::new(),
            old_cookie_done: false,
            ended_elsewhere: false,
        }
    }

    pub(super) fn covers(&self, want: Keys<'_>) -> bool {
        if self.cleared || self.purged || self.exists == Some(false) {
            return true;
        }
        match (&self.loaded, want) {
            (Loaded::All, _) => true,
            (Loaded::Keys(have), Keys::Only(keys)) => keys.iter().all(|k| have.contains(k)),
            _ => false,
        }
    }

    pub(super) fn has_key(&self, key: &str) -> bool {
        self.covers(Keys::All)
            || self.changes.contains(key)
            || matches!(&self.loaded, Loaded::Keys(have) if have.contains(key))
    }

    /// The session this request holds is not the one the cookie named: purged or restarted
    /// here, or not in the store (expired, evicted, ended elsewhere, or the cookie did not
    /// open).
    pub(super) fn is_fresh(&self) -> bool {
        self.purged || self.restarted || self.exists == Some(false)
    }

    pub(super) fn mark_loaded(&mut self, want: Keys<'_>) {
        match (&mut self.loaded, want) {
            (_, Keys::All) => self.loaded = Loaded::All,
            (Loaded::Keys(have), Keys::Only(keys)) => have.extend(keys.iter().cloned()),
            (Loaded::Nothing, Keys::Only(keys)) => {
                self.loaded = Loaded::Keys(keys.iter().cloned().collect());
            }
            (Loaded::All, _) => {}
        }
    }

    /// Keys whose stored value must not override what this request already knows.
    pub(super) fn knows(&self, key: &str) -> bool {
        self.changes.contains(key)
            || matches!(&self.loaded, Loaded::Keys(have) if have.contains(key))
    }

    pub(super) fn status(&self) -> SessionStatus {
        if self.purged && self.changes.is_empty() {
            SessionStatus::Purged
        } else if self.renewed_to.is_some() {
            SessionStatus::Renewed
        } else if self.is_changed() || self.purged {
            SessionStatus::Changed
        } else {
            SessionStatus::Unchanged
        }
    }

    pub(super) fn is_changed(&self) -> bool {
        !self.changes.is_empty() || self.cleared || self.ttl_set.is_some()
    }

    pub(super) fn change_set(&self, base: ChangeSet) -> ChangeSet {
        let base = if self.cleared { base.clear() } else { base };
        self.changes.iter().fold(base, |cs, key| {
            let value = if key == USER_KEY {
                match &self.user {
                    Bound::User(bound) => return cs.bind_user(bound),
                    _ => None,
                }
            } else {
                self.entries.get(key)
            };
            match value {
                Some(value) => cs.upsert(key.clone(), &**value),
                None if self.cleared => cs,
                None => cs.remove(key.clone()),
            }
        })
    }

    pub(super) fn full_change_set(&self) -> ChangeSet {
        let all = self
            .entries
            .iter()
            .fold(ChangeSet::create(), |cs, (k, v)| cs.upsert(k.clone(), &**v));
        match &self.user {
            Bound::User(bound) => all.bind_user(bound),
            _ => all,
        }
    }

    /// Takes in one loaded or given entry: the [`USER_KEY`] value becomes the typed user.
    pub(super) fn put_loaded(&mut self, key: String, value: Value) {
        if key == USER_KEY {
            self.user = Bound::decode(&value);
        } else {
            self.entries.insert(key, value);
        }
    }

    /// Forgets every value (the user too), as `clear` and `purge` do.
    pub(super) fn forget_all(&mut self) {
        self.entries.clear();
        self.user = Bound::Nobody;
        self.changes.clear();
    }

    /// The session holds nothing: no entries, no user.
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.user == Bound::Nobody
    }

    /// The values as the public API shows them (a copy).
    pub(super) fn entries(&self) -> Entries {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }
}

impl SessionState {
    /// The cookie's facts, while the session it names is the one this request holds. A fresh
    /// session (purged, or the named one is gone) inherits nothing from a dead session's cookie.
    pub(super) fn inherited(&self, incoming: Option<&Incoming>) -> Option<CookieFacts> {
        if self.is_fresh() {
            return None;
        }
        match incoming? {
            Incoming::Id {
                meta, stale_key, ..
            } => Some(CookieFacts {
                meta: *meta,
                stale_key: *stale_key,
            }),
            Incoming::Sealed => self.sealed,
        }
    }

    /// The session's creation time and TTL: the cookie's for a live session, this request's
    /// own for a fresh one; a TTL set in this request wins either way.
    pub(super) fn meta(&self, incoming: Option<&Incoming>, configured_ttl: Duration) -> Meta {
        let inherited = self.inherited(incoming).map(|facts| facts.meta);
        Meta {
            created: inherited.map_or(self.born, |m| m.created),
            ttl: self
                .ttl_set
                .or(inherited.map(|m| m.ttl))
                .unwrap_or(configured_ttl),
            // "Remember me" travels with the session in its cookie.
            own_ttl: self.ttl_set.is_some() || inherited.is_some_and(|m| m.own_ttl),
        }
    }

    /// The cookie of the session this request holds was sealed with an older key.
    pub(super) fn stale_key(&self, incoming: Option<&Incoming>) -> bool {
        self.inherited(incoming)
            .is_some_and(|facts| facts.stale_key)
    }

    /// The TTL to write: the session's own, capped by what remains of the maximum lifetime.
    pub(super) fn effective_ttl(
        &self,
        incoming: Option<&Incoming>,
        config: &Config,
        now: u64,
    ) -> Duration {
        let meta = self.meta(incoming, config.ttl);
        match config.max_lifetime {
            Some(max) => {
                let age = Duration::from_secs(now.saturating_sub(meta.created));
                meta.ttl
                    .min(max.saturating_sub(age))
                    .max(Duration::from_secs(1))
            }
            None => meta.ttl,
        }
    }

    /// The refresh policy asks for a TTL reset of the session the cookie names.
    pub(super) fn wants_refresh(&self, incoming: Option<&Incoming>, config: &Config) -> bool {
        let has_cookie = incoming.is_some() && self.exists != Some(false);
        match config.refresh {
            TtlRefresh::OnUpdate => false,
            TtlRefresh::OnAccess => has_cookie && self.accessed,
            TtlRefresh::OnEveryRequest => has_cookie,
        }
    }
}
