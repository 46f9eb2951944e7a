//! The bridge from actix-session 0.11: reading its cookies (and, for its Redis store, its
//! keys) so that a running app can switch without signing anyone out.
//!
//! actix-session keeps a session's state as a JSON object whose values are JSON texts
//! (`{"user": "\"ada\"", "counter": "3"}`): the same shape as our stored entries, so the
//! values are carried over as they are. Its cookie store puts that object in the cookie
//! itself; its Redis store puts it under the cookie's value (a random key, no prefix by
//! default) with a TTL. Either way the cookie is private (AES-GCM, the default) or signed
//! with the app's [`Key`], by the `cookie` crate's jars.

use std::collections::HashMap;

use actix_web::{
    cookie::{Cookie, CookieJar, Key},
    http::header::HeaderMap,
};

use crate::{
    cookie::{session_cookies, Tokens},
    store::Entries,
    StoreError,
};

/// The key under which actix-identity 0.9 keeps the signed-in user's id (a JSON string).
pub const IDENTITY_USER_KEY: &str = "actix_identity.user_id";

/// Accepts the sessions of an actix-session 0.11 app for a transition window, configured with
/// [`SessionMiddlewareBuilder::import_actix_session`](crate::SessionMiddlewareBuilder::import_actix_session).
///
/// On a request that has no valid session of ours but carries the old app's session cookie,
/// the first load reads the old session: its keys and values become a new session of ours
/// (an actix-identity user is signed in with [`Session::sign_in`](crate::Session::sign_in)),
/// the response sets our cookie and removes the old one, and for the Redis store the old key
/// is deleted. A cookie that does not verify with the old key (tampered, another app's) is
/// ignored and removed, like any unknown cookie. Requests that never load their session pay
/// nothing, and apps that do not configure the bridge pay nothing at all.
///
/// Remove the bridge once the longest session TTL of the old app has passed since the switch.
///
/// ```
/// use actix_typed_session::{store::MemoryStore, ActixSessionImport, SessionMiddleware};
/// use actix_web::cookie::Key;
///
/// let old_key = Key::generate(); // the key the actix-session app was built with
/// let middleware = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
///     .import_actix_session(ActixSessionImport::cookie_store(old_key).cookie_name("id"))
///     .build();
/// ```
#[derive(Clone)]
pub struct ActixSessionImport {
    key: Key,
    cookie_name: String,
    cookie_path: String,
    cookie_domain: Option<String>,
    signed: bool,
    source: Source,
}

#[derive(Clone)]
enum Source {
    Cookie,
    #[cfg(feature = "redis")]
    Redis(Box<redis::Client>),
}

impl std::fmt::Debug for ActixSessionImport {
    // The key is a secret: never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match self.source {
            Source::Cookie => "cookie",
            #[cfg(feature = "redis")]
            Source::Redis(_) => "redis",
        };
        f.debug_struct("ActixSessionImport")
            .field("cookie_name", &self.cookie_name)
            .field("cookie_path", &self.cookie_path)
            .field("signed", &self.signed)
            .field("source", &source)
            .finish_non_exhaustive()
    }
}

impl ActixSessionImport {
    fn new(key: Key, source: Source) -> Self {
        Self {
            key,
            cookie_name: "id".to_owned(),
            cookie_path: "/".to_owned(),
            cookie_domain: None,
            signed: false,
            source,
        }
    }

    /// Sessions of actix-session's `CookieSessionStore`, whose cookies were made with `key`.
    /// Defaults as actix-session's: cookie `id` on path `/`, private (encrypted) content.
    ///
    /// ```
    /// let import = actix_typed_session::ActixSessionImport::cookie_store(actix_web::cookie::Key::generate());
    /// ```
    pub fn cookie_store(key: Key) -> Self {
        Self::new(key, Source::Cookie)
    }

    /// Sessions of actix-session's `RedisSessionStore` on `client`'s Redis, keyed without a
    /// prefix (its default `cache_keygen`), whose cookies were made with `key`. The old key is
    /// deleted on import; the new session has the configured TTL (the old one's remainder would
    /// become its TTL for every later refresh).
    ///
    /// ```
    /// let client = actix_typed_session::redis::Client::open("redis://127.0.0.1:6379").unwrap();
    /// let import = actix_typed_session::ActixSessionImport::redis(actix_web::cookie::Key::generate(), client);
    /// ```
    #[cfg(feature = "redis")]
    pub fn redis(key: Key, client: redis::Client) -> Self {
        Self::new(key, Source::Redis(Box::new(client)))
    }

    /// Sets the old session cookie's name (actix-session's default: `id`).
    ///
    /// ```
    /// # let import = actix_typed_session::ActixSessionImport::cookie_store(actix_web::cookie::Key::generate());
    /// let import = import.cookie_name("legacy-session");
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Sets the old session cookie's path (default `/`): the removal must name it to remove it.
    ///
    /// ```
    /// # let import = actix_typed_session::ActixSessionImport::cookie_store(actix_web::cookie::Key::generate());
    /// let import = import.cookie_path("/app");
    /// ```
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie_path = path.into();
        self
    }

    /// Sets the old session cookie's domain, if the old app set one.
    ///
    /// ```
    /// # let import = actix_typed_session::ActixSessionImport::cookie_store(actix_web::cookie::Key::generate());
    /// let import = import.cookie_domain("example.test");
    /// ```
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie_domain = Some(domain.into());
        self
    }

    /// Says the old cookies were signed (`CookieContentSecurity::Signed`), not encrypted.
    ///
    /// ```
    /// # let import = actix_typed_session::ActixSessionImport::cookie_store(actix_web::cookie::Key::generate());
    /// let import = import.signed();
    /// ```
    pub fn signed(mut self) -> Self {
        self.signed = true;
        self
    }

    /// Says the old cookies were encrypted (`CookieContentSecurity::Private`): the default.
    ///
    /// ```
    /// # let import = actix_typed_session::ActixSessionImport::cookie_store(actix_web::cookie::Key::generate());
    /// let import = import.signed().private();
    /// ```
    pub fn private(mut self) -> Self {
        self.signed = false;
        self
    }

    /// The old session cookies of a request (their values, unverified).
    pub(crate) fn cookies(&self, headers: &HeaderMap) -> Tokens {
        session_cookies(headers, &self.cookie_name)
    }

    /// Whether the old cookie is called `name`.
    pub(crate) fn named(&self, name: &str) -> bool {
        self.cookie_name == name
    }

    /// The `Set-Cookie` text removing the old cookie.
    pub(crate) fn removal(&self) -> String {
        let mut cookie = Cookie::build(self.cookie_name.clone(), "")
            .path(self.cookie_path.clone())
            .finish();
        if let Some(domain) = &self.cookie_domain {
            cookie.set_domain(domain.clone());
        }
        cookie.make_removal();
        cookie.to_string()
    }

    /// The content of an old cookie, if it verifies with the old key.
    fn open(&self, raw: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(self.cookie_name.clone(), raw.to_owned()));
        let opened = if self.signed {
            jar.signed(&self.key).get(&self.cookie_name)
        } else {
            jar.private(&self.key).get(&self.cookie_name)
        };
        opened.map(|cookie| cookie.value().to_owned())
    }

    /// The first of `raw` cookies that verifies, read from the old store. `Ok(None)` when none
    /// verifies or its session is gone (each logged as a rejected cookie).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the old Redis cannot be reached.
    pub(crate) async fn import(&self, raw: &Tokens) -> Result<Option<Entries>, StoreError> {
        let Some(content) = raw.iter().find_map(|raw| self.open(raw)) else {
            tracing::warn!("actix-session cookie rejected: it does not verify with the old key");
            return Ok(None);
        };
        let state = match &self.source {
            Source::Cookie => content,
            #[cfg(feature = "redis")]
            Source::Redis(client) => match take_from_redis(client, &content).await? {
                Some(state) => state,
                None => {
                    tracing::info!("actix-session cookie names no live session");
                    return Ok(None);
                }
            },
        };
        match parse_state(&state) {
            Some(entries) => Ok(Some(entries)),
            None => {
                tracing::warn!("actix-session state is undecodable; starting a fresh session");
                Ok(None)
            }
        }
    }
}

/// actix-session 0.11's state: a JSON object of JSON texts. Its later format
/// (`{"v": 1, "state": {…}}` of plain JSON values) is read too. Values that are not JSON
/// make the whole state undecodable.
fn parse_state(text: &str) -> Option<Entries> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        v: u32,
        state: HashMap<String, serde_json::Value>,
    }
    if let Ok(versioned) = serde_json::from_str::<Versioned>(text) {
        return (versioned.v == 1).then(|| {
            let entries = versioned.state.into_iter();
            entries.map(|(k, v)| (k, v.to_string())).collect()
        });
    }
    let entries: Entries = serde_json::from_str(text).ok()?;
    entries
        .values()
        .all(|value| serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok())
        .then_some(entries)
}

/// GET and DEL of the old key in one transaction, so that the key is imported once.
#[cfg(feature = "redis")]
async fn take_from_redis(client: &redis::Client, key: &str) -> Result<Option<String>, StoreError> {
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(StoreError::unavailable)?;
    let (state, _deleted): (Option<String>, i64) = redis::pipe()
        .atomic()
        .get(key)
        .del(key)
        .query_async(&mut connection)
        .await
        .map_err(StoreError::unavailable)?;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_state_formats_parse_and_non_json_values_do_not() {
        let legacy = parse_state(r#"{"user":"\"ada\"","n":"3"}"#).unwrap();
        assert_eq!(legacy["user"], "\"ada\"");
        assert_eq!(legacy["n"], "3");
        let versioned = parse_state(r#"{"v":1,"state":{"user":"ada","n":3}}"#).unwrap();
        assert_eq!(versioned["user"], "\"ada\"");
        assert_eq!(versioned["n"], "3");
        assert!(parse_state(r#"{"user":"ada"}"#).is_none());
        assert!(parse_state("not json").is_none());
    }

    #[test]
    fn the_removal_names_the_old_cookie_and_its_path() {
        let import = ActixSessionImport::cookie_store(Key::generate()).cookie_path("/app");
        let removal = import.removal();
        assert!(removal.starts_with("id=;"), "{removal}");
        assert!(removal.contains("Path=/app"), "{removal}");
        assert!(removal.contains("Max-Age=0"), "{removal}");
    }
}
