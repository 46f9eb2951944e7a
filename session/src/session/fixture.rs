//! Session cookies made outside a request, for applications' own tests (feature `testing`;
//! the public entry point is in `crate::testing`).

use super::{Backend, Storage};
use crate::{
    cookie::{server_token, set_cookie_text, Meta},
    store::{ChangeSet, Entries},
    SessionId, StoreError,
};

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
            let value = store.seal(config, &entries, None, meta, ttl)?;
            Ok(set_cookie_text(config, &value, ttl, false))
        }
    }
}
