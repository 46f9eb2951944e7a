//! A derived struct as a whole: the keys its extraction loads, its version and the keys it
//! used to own. Stamping the version and removing dead keys ride on the struct's writes, and an
//! outdated version is reset or migrated on extraction, so every one of these changes is
//! written in the request's one save.

use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use super::{BoxError, HttpRequest, Session, SessionError};
use actix_web::HttpMessage as _;

/// The extraction future of a typed session.
pub type ExtractFuture<T> = LocalBoxFuture<'static, Result<T, SessionError>>;

/// What a derived struct stores beside its fields.
#[derive(Debug)]
pub struct Schema {
    /// The struct's prefix, without the `.`; empty without one.
    pub prefix: &'static str,
    /// The fields' keys.
    pub fields: &'static [&'static str],
    /// Keys the struct used to own, removed by its next write.
    pub removed: &'static [&'static str],
    /// The version's key and number.
    pub version: Option<(&'static str, u32)>,
    /// Every key above: what extraction loads and `remove_all` removes.
    pub all: &'static [&'static str],
}

/// The struct's stored state at another version than the code's.
#[derive(Debug)]
pub struct Outdated {
    /// The stored version; 0 when none is stored.
    pub from: u32,
    /// Every stored value of the struct (fields and removed keys), by key without the prefix.
    pub values: Map<String, Value>,
}

/// Extracts the request's session, loading `schema`'s keys, and wraps it.
pub fn extract<T: 'static>(
    req: &HttpRequest,
    schema: &'static Schema,
    wrap: fn(Session) -> Result<T, SessionError>,
) -> ExtractFuture<T> {
    let session = crate::session::attached(req.headers(), &req.extensions());
    Box::pin(async move {
        let session = session?;
        session.load_keys(schema.all).await?;
        wrap(session)
    })
}

/// Loads `keys` of `session` unless this request already has them.
///
/// # Errors
/// As [`Session::load_keys`].
pub async fn load_keys(session: &Session, keys: &[&str]) -> Result<(), SessionError> {
    session.load_keys(keys).await
}

/// Returns whether this request found a stale value under one of `keys` (a reset may have left a
/// struct half stored).
#[must_use]
pub fn found_stale(session: &Session, keys: &[&str]) -> bool {
    keys.iter().any(|key| session.found_stale(key))
}

impl Schema {
    /// Marks a write of the struct: stores the version if it is not stored yet, and removes
    /// the keys the struct no longer owns.
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the keys were not loaded.
    pub fn stamp(&self, session: &Session) -> Result<(), SessionError> {
        if let Some((key, number)) = self.version {
            let number = number.to_string();
            if session.get_raw(key)?.as_deref() != Some(&*number) {
                session.insert_json(key.to_owned(), number);
            }
        }
        for key in self.removed {
            if session.contains_key(key)? {
                session.remove(key)?;
            }
        }
        Ok(())
    }

    /// Returns the stored state, when it has another version than the code's. A session that holds
    /// none of the struct's keys is not outdated: its first write stores the version.
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the keys were not loaded.
    pub fn outdated(&self, session: &Session) -> Result<Option<Outdated>, SessionError> {
        let Some((key, number)) = self.version else {
            return Ok(None);
        };
        let stored = session.get_raw(key)?;
        // An undecodable version is no version this code knows.
        let from = stored
            .as_deref()
            .and_then(|json| serde_json::from_str::<u32>(json).ok())
            .unwrap_or(0);
        if stored.is_some() && from == number {
            return Ok(None);
        }
        let mut values = Map::new();
        for key in self.fields.iter().chain(self.removed) {
            let Some(json) = session.get_raw(key)? else {
                continue;
            };
            if let Ok(value) = serde_json::from_str(&json) {
                values.insert(self.local(key).to_owned(), value);
            }
        }
        if stored.is_none() && values.is_empty() {
            return Ok(None);
        }
        Ok(Some(Outdated { from, values }))
    }

    fn local<'k>(&self, key: &'k str) -> &'k str {
        key.strip_prefix(self.prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(key)
    }

    /// Brings an outdated struct to this version: `migrate` converts and saves it; without a
    /// migration, or when it fails, the struct's keys are removed and the version stored. Either
    /// way the change is written with this request's save, and the next request finds the
    /// version current.
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the keys were not loaded.
    pub fn upgrade(
        &self,
        session: &Session,
        outdated: Outdated,
        migrate: Option<impl FnOnce(u32, Map<String, Value>) -> Result<(), BoxError>>,
    ) -> Result<(), SessionError> {
        let (from, to) = (outdated.from, self.version.map_or(0, |(_, n)| n));
        let prefix = self.prefix;
        match migrate.map(|migrate| migrate(from, outdated.values)) {
            Some(Ok(())) => {
                tracing::debug!(prefix, from, to, "typed session migrated to its version");
                return self.stamp(session);
            }
            // The error may quote stored values: not logged.
            Some(Err(_)) => tracing::warn!(
                prefix,
                from,
                to,
                "typed session reset: its migration from an older version failed"
            ),
            None => tracing::warn!(
                prefix,
                from,
                to,
                "typed session reset: stored by another version"
            ),
        }
        super::remove_keys(session, self.all)?;
        self.stamp(session)
    }
}

/// The type of the `migrate` argument of [`Schema::upgrade`] for a struct without one.
pub type NoMigration = fn(u32, Map<String, Value>) -> Result<(), BoxError>;
