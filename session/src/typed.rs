//! Runtime support for `#[derive(SessionData)]`: the only items generated code calls, re-exported
//! as `session::__private`. Not public API: names and signatures may change in any release.
//!
//! Keeping the logic here keeps the generated code small and lets it be tested like any other
//! code of this crate.

use futures_util::future::LocalBoxFuture;
use serde::{de::DeserializeOwned, Serialize};

pub use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::SessionExt as _;
pub use crate::{Session, SessionError};

/// The extraction future of a typed session.
pub type ExtractFuture<T> = LocalBoxFuture<'static, Result<T, SessionError>>;

/// Extracts the request's session, loading only `keys`, and wraps it.
pub fn extract<T: 'static>(
    req: &HttpRequest,
    keys: &'static [&'static str],
    wrap: fn(Session) -> T,
) -> ExtractFuture<T> {
    let session = req.get_session();
    Box::pin(async move {
        session.load_keys(keys).await?;
        Ok(wrap(session))
    })
}

/// Loads `keys` of `session` unless this request already has them.
///
/// # Errors
/// As [`Session::load_keys`].
pub async fn load_keys(session: &Session, keys: &[&str]) -> Result<(), SessionError> {
    session.load_keys(keys).await
}

/// Compiles only for types a session field can hold; generated code calls it once per field,
/// spanned at the field's type, so a wrong type is reported there.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a typed session field",
    label = "a session field needs `serde::Serialize` and `serde::Deserialize`",
    note = "derive them: `#[derive(serde::Serialize, serde::Deserialize)]`"
)]
pub trait SessionValue: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> SessionValue for T {}

/// See [`SessionValue`].
pub fn assert_value<T: SessionValue>() {}

/// A required field: `None` when absent.
///
/// # Errors
/// [`SessionError::Deserialize`] when the stored value is not a `T`.
pub fn get<T: SessionValue>(session: &Session, key: &str) -> Result<Option<T>, SessionError> {
    session.get(key)
}

/// An `Option<T>` field: `None` when absent or stored as `null`.
///
/// # Errors
/// [`SessionError::Deserialize`] when the stored value is not a `T`.
pub fn get_optional<T: SessionValue>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, SessionError> {
    Ok(session.get::<Option<T>>(key)?.flatten())
}

/// A field with a default: `default()` when absent.
///
/// # Errors
/// [`SessionError::Deserialize`] when the stored value is not a `T`.
pub fn get_or_else<T: SessionValue>(
    session: &Session,
    key: &str,
    default: impl FnOnce() -> T,
) -> Result<T, SessionError> {
    Ok(session.get(key)?.unwrap_or_else(default))
}

/// Stores `value` under `key`.
///
/// # Errors
/// [`SessionError::Serialize`] when `value` cannot be serialized.
pub fn set<T: SessionValue>(session: &Session, key: &str, value: &T) -> Result<(), SessionError> {
    session.insert(key, value)
}

/// Stores `Some(value)`; `None` removes the key.
///
/// # Errors
/// [`SessionError::Serialize`] when `value` cannot be serialized.
pub fn set_optional<T: SessionValue>(
    session: &Session,
    key: &str,
    value: Option<&T>,
) -> Result<(), SessionError> {
    match value {
        Some(value) => session.insert(key, value),
        None => session.remove(key).map(drop),
    }
}

/// Removes `key`, returning its value.
///
/// # Errors
/// [`SessionError::Deserialize`] when the removed value is not a `T` (it is removed anyway).
pub fn remove<T: SessionValue>(session: &Session, key: &str) -> Result<Option<T>, SessionError> {
    session.remove_as(key)
}

/// Removes the key of an `Option<T>` field, returning its value.
///
/// # Errors
/// [`SessionError::Deserialize`] when the removed value is not a `T` (it is removed anyway).
pub fn remove_optional<T: SessionValue>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, SessionError> {
    Ok(session.remove_as::<Option<T>>(key)?.flatten())
}

/// Removes every key in `keys`.
///
/// # Errors
/// [`SessionError::NotLoaded`] when a key was not loaded.
pub fn remove_keys(session: &Session, keys: &[&str]) -> Result<(), SessionError> {
    keys.iter()
        .try_for_each(|key| session.remove(key).map(drop))
}

/// JSON text of `value`, for an all-or-nothing `save`.
///
/// # Errors
/// [`SessionError::Serialize`] when `value` cannot be serialized.
pub fn encode<T: SessionValue>(key: &str, value: &T) -> Result<String, SessionError> {
    serde_json::to_string(value).map_err(|source| SessionError::Serialize {
        key: key.to_owned(),
        source,
    })
}

/// JSON text of `Some(value)`; `None` stays `None` (the key will be removed).
///
/// # Errors
/// [`SessionError::Serialize`] when `value` cannot be serialized.
pub fn encode_optional<T: SessionValue>(
    key: &str,
    value: Option<&T>,
) -> Result<Option<String>, SessionError> {
    value.map(|value| encode(key, value)).transpose()
}

/// Stores JSON text made by [`encode`].
pub fn put(session: &Session, key: &str, json: String) {
    session.insert_raw(key, json);
}

/// Stores JSON text made by [`encode_optional`]; `None` removes the key.
///
/// # Errors
/// [`SessionError::NotLoaded`] when the key was not loaded.
pub fn put_optional(
    session: &Session,
    key: &str,
    json: Option<String>,
) -> Result<(), SessionError> {
    match json {
        Some(json) => {
            session.insert_raw(key, json);
            Ok(())
        }
        None => session.remove(key).map(drop),
    }
}

/// The error of a `load` that found some required fields but not all: names the first absent
/// one. `fields` pairs each required key with whether it is present.
#[must_use]
pub fn incomplete(fields: &[(&str, bool)]) -> SessionError {
    let key = fields
        .iter()
        .find(|(_, present)| !present)
        .map_or("", |(key, _)| key);
    SessionError::Incomplete {
        key: key.to_owned(),
    }
}
