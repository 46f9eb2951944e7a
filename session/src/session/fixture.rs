//! Sessions and cookies made outside a request, for applications' own tests (feature
//! `testing`; the public entry points are in `crate::testing`).

use std::sync::Arc;

use actix_web::cookie::Key;

use super::{state::Loaded, Backend, Session, Storage};
use crate::{
    config::Config,
    cookie::{server_token, set_cookie_text, Meta, Tokens},
    store::{ChangeSet, Entries, MemoryStore},
    transport::Carrier,
    SessionId, StoreError,
};

impl Session {
    /// A loaded session holding `entries`, with a throwaway backend: loads succeed (there is
    /// nothing more to load) and changes are only recorded.
    pub(crate) fn fixture(entries: Entries) -> Self {
        let backend = Backend {
            config: Config::new(Key::generate()),
            storage: Storage::Server(Arc::new(MemoryStore::new())),
        };
        let session = Self::new(Some(Arc::new(backend)), Tokens::default(), Carrier::Cookie);
        {
            let mut state = session.state();
            state.entries = entries.into_iter().map(|(k, v)| (k, v.into())).collect();
            state.loaded = Loaded::All;
            state.exists = Some(true);
        }
        session
    }
}

/// The `Set-Cookie` text of a new session holding `entries`, as `backend`'s middleware would
/// issue it: saved in its store (or sealed, for the cookie store) with the configured TTL.
pub(crate) async fn mint(backend: &Backend, entries: Entries) -> Result<String, StoreError> {
    let config = &backend.config;
    let ttl = config.ttl;
    let meta = Meta::from_parts(config.clock.unix_secs(), ttl.as_secs())
        .ok_or_else(|| StoreError::Other("the configured TTL is out of range".into()))?;
    match &backend.storage {
        Storage::Server(store) => {
            let id = SessionId::generate();
            let changes = entries.iter().fold(ChangeSet::create(), |cs, (k, v)| {
                cs.upsert(k.clone(), v.clone())
            });
            store.save(&id, &changes, ttl).await?;
            Ok(set_cookie_text(
                config,
                &server_token(config, &id, meta),
                ttl,
                false,
            ))
        }
        Storage::Cookie(store) => {
            let value = store.seal(config, &entries, meta, ttl)?;
            Ok(set_cookie_text(config, &value, ttl, false))
        }
    }
}
