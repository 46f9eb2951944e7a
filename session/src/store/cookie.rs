//! The client-side store: the whole session sealed in the cookie.

use std::{collections::HashMap, time::Duration};

use actix_web::cookie::Cookie;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{
    config::Config,
    seal::{self, Protection},
    session::{past_max_lifetime, unix_now, Meta},
    store::Entries,
    StoreError,
};

/// Browsers keep cookies up to 4096 bytes, counting name, value and attributes.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// Sessions kept entirely in the browser's cookie: no server-side state at all.
///
/// The session is sealed with the middleware's key through the `cookie` crate: encrypted with
/// AES-256-GCM by default (the client can neither read nor change it), or only signed with
/// HMAC-SHA256 (readable, not changeable). The expiry time is inside the sealed payload and
/// checked on every load, so a replayed old cookie is refused after its TTL even if the browser
/// ignored `Max-Age`. Older keys given to the middleware still open cookies, which are re-sealed
/// with the current key on the next write.
///
/// Limits, inherent to client-side sessions:
/// - a session whose `Set-Cookie` would exceed [`MAX_COOKIE_BYTES`] is refused with
///   [`StoreError::TooLarge`] (a 500 for that response, logged), never sent to be dropped;
/// - [`Session::purge`](crate::Session::purge) and [`Session::renew`](crate::Session::renew)
///   cannot revoke a copy of the old cookie: it stays valid until its expiry;
/// - concurrent requests each write the whole session; the last response wins.
///
/// ```
/// use session::{store::CookieStore, SessionMiddleware};
///
/// let key = actix_web::cookie::Key::generate();
/// let encrypted = SessionMiddleware::new(CookieStore::encrypted(), key.clone());
/// let signed = SessionMiddleware::new(CookieStore::signed(), key);
/// ```
#[derive(Debug, Clone)]
pub struct CookieStore {
    protection: Protection,
}

/// A cookie opened and checked.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) entries: Entries,
    pub(crate) meta: Meta,
    pub(crate) stale_key: bool,
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    /// Unix seconds after which the cookie is refused.
    exp: u64,
    /// Unix seconds when the session was created.
    c: u64,
    /// The session's TTL in seconds.
    t: u64,
    d: HashMap<&'a str, &'a RawValue>,
}

#[derive(Deserialize)]
struct PayloadIn<'a> {
    exp: u64,
    c: u64,
    t: u64,
    #[serde(borrow)]
    d: HashMap<String, &'a RawValue>,
}

impl CookieStore {
    /// Encrypted (AES-256-GCM) cookies: the default choice.
    #[must_use]
    pub fn encrypted() -> Self {
        Self {
            protection: Protection::Encrypted,
        }
    }

    /// Signed (HMAC-SHA256) cookies: the client can read the session but not change it.
    #[must_use]
    pub fn signed() -> Self {
        Self {
            protection: Protection::Signed,
        }
    }

    /// Opens and checks a sealed cookie; `None`, logged at warn, for anything unacceptable.
    pub(crate) fn open(&self, config: &Config, sealed: &str) -> Option<Opened> {
        let Some((plain, stale_key)) =
            seal::open(self.protection, &config.keys, &config.cookie_name, sealed)
        else {
            tracing::warn!("session cookie rejected: not authentic under any accepted key");
            return None;
        };
        let plain = match self.protection {
            // Signed payloads travel as base64: raw JSON quotes would be percent-encoded.
            Protection::Signed => match URL_SAFE_NO_PAD.decode(&plain) {
                Ok(bytes) => String::from_utf8(bytes).unwrap_or_default(),
                Err(_) => String::new(),
            },
            Protection::Encrypted => plain,
        };
        let payload: PayloadIn<'_> = match serde_json::from_str(&plain) {
            Ok(p) => p,
            Err(error) => {
                tracing::warn!(%error, "session cookie rejected: authentic but undecodable");
                return None;
            }
        };
        if payload.exp <= unix_now() {
            tracing::warn!("session cookie rejected: expired");
            return None;
        }
        let meta = Meta::from_parts(payload.c, payload.t)?;
        if past_max_lifetime(config, meta.created) {
            tracing::warn!("session cookie rejected: past the maximum session lifetime");
            return None;
        }
        let entries = payload
            .d
            .into_iter()
            .map(|(k, v)| (k, v.get().to_owned()))
            .collect();
        Some(Opened {
            entries,
            meta,
            stale_key,
        })
    }

    /// Seals the whole session with the current key, valid for `ttl` from now.
    pub(crate) fn seal(
        &self,
        config: &Config,
        entries: &Entries,
        meta: Meta,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        let d = entries
            .iter()
            .map(|(k, v)| {
                serde_json::from_str::<&RawValue>(v)
                    .map(|raw| (k.as_str(), raw))
                    .map_err(StoreError::corrupt)
            })
            .collect::<Result<_, _>>()?;
        let payload = PayloadOut {
            exp: unix_now() + ttl.as_secs(),
            c: meta.created,
            t: meta.ttl.as_secs(),
            d,
        };
        let mut plain = serde_json::to_string(&payload).map_err(StoreError::corrupt)?;
        if self.protection == Protection::Signed {
            plain = URL_SAFE_NO_PAD.encode(plain);
        }
        Ok(seal::seal(
            self.protection,
            config.key(),
            &config.cookie_name,
            plain,
        ))
    }

    /// Refuses a cookie that browsers would silently drop.
    pub(crate) fn check_size(&self, cookie: &Cookie<'_>) -> Result<(), StoreError> {
        let size = cookie.encoded().to_string().len();
        if size > MAX_COOKIE_BYTES {
            return Err(StoreError::TooLarge {
                size,
                limit: MAX_COOKIE_BYTES,
            });
        }
        Ok(())
    }
}

impl Default for CookieStore {
    fn default() -> Self {
        Self::encrypted()
    }
}
