//! Runtime support for `#[derive(SessionData)]`: the only items generated code calls, re-exported
//! as `actix_typed_session::__private`. Not public API: names and signatures may change in any release.
//!
//! Each field of a derived struct becomes one [`Field`] constant: its key and its JSON codec.
//! The codec is built, and the field type's serde bounds checked, in one place
//! ([`Field::new`]), so a field type without serde support is one compile error at the field
//! instead of one per generated method.

use std::fmt;

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

/// Removes every key in `keys`.
///
/// # Errors
/// [`SessionError::NotLoaded`] when a key was not loaded.
pub fn remove_keys(session: &Session, keys: &[&str]) -> Result<(), SessionError> {
    keys.iter()
        .try_for_each(|key| session.remove(key).map(drop))
}

/// The types a session field can hold.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a typed session field",
    label = "a session field needs `serde::Serialize` and `serde::Deserialize`",
    note = "derive them: `#[derive(serde::Serialize, serde::Deserialize)]`"
)]
pub trait SessionValue: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> SessionValue for T {}

type Encode<T> = fn(&T) -> serde_json::Result<String>;
type Decode<T> = fn(&str) -> serde_json::Result<T>;

/// One field of a derived struct: its session key and its JSON codec.
pub struct Field<T> {
    key: &'static str,
    encode: Encode<T>,
    decode: Decode<T>,
}

impl<T> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field").field("key", &self.key).finish()
    }
}

fn encode_json<T: Serialize>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value)
}

fn decode_json<T: DeserializeOwned>(json: &str) -> serde_json::Result<T> {
    serde_json::from_str(json)
}

impl<T> Field<T> {
    /// The field stored under `key`. The only place that needs `T`'s serde impls.
    #[must_use]
    pub const fn new(key: &'static str) -> Self
    where
        T: SessionValue,
    {
        Self {
            key,
            encode: encode_json::<T>,
            decode: decode_json::<T>,
        }
    }

    fn decode(&self, json: &str) -> Result<T, SessionError> {
        (self.decode)(json).map_err(|e| SessionError::deserialize::<T>(self.key, &e))
    }

    /// JSON text of `value`, for an all-or-nothing `save`.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `value` cannot be serialized.
    pub fn encode(&self, value: &T) -> Result<String, SessionError> {
        (self.encode)(value).map_err(|source| SessionError::Serialize {
            key: self.key.to_owned(),
            source,
        })
    }

    /// The stored value; `None` when absent.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T`.
    pub fn get(&self, session: &Session) -> Result<Option<T>, SessionError> {
        session
            .get_raw(self.key)?
            .map(|json| self.decode(&json))
            .transpose()
    }

    /// The stored value; `default()` when absent.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T`.
    pub fn get_or_else(
        &self,
        session: &Session,
        default: impl FnOnce() -> T,
    ) -> Result<T, SessionError> {
        Ok(self.get(session)?.unwrap_or_else(default))
    }

    /// Stores `value`.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `value` cannot be serialized.
    pub fn set(&self, session: &Session, value: &T) -> Result<(), SessionError> {
        self.put(session, self.encode(value)?);
        Ok(())
    }

    /// Removes the key, returning the value it held.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the removed value is not a `T` (it is removed anyway).
    pub fn remove(&self, session: &Session) -> Result<Option<T>, SessionError> {
        session
            .remove(self.key)?
            .map(|json| self.decode(&json))
            .transpose()
    }

    /// Stores JSON text made by [`Field::encode`].
    pub fn put(&self, session: &Session, json: String) {
        session.insert_json(self.key.to_owned(), json);
    }
}

/// An `Option<T>` field: the key holds a `T` when `Some` and is absent when `None`; a stored
/// `null` reads as `None` too.
impl<T> Field<Option<T>> {
    /// The stored value; `None` when absent.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T`.
    pub fn get_optional(&self, session: &Session) -> Result<Option<T>, SessionError> {
        Ok(self.get(session)?.flatten())
    }

    /// Stores `Some(value)`; `None` removes the key.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when the value cannot be serialized.
    pub fn set_optional(&self, session: &Session, value: &Option<T>) -> Result<(), SessionError> {
        let json = self.encode_optional(value)?;
        self.put_optional(session, json)
    }

    /// Removes the key, returning the value it held.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the removed value is not a `T` (it is removed anyway).
    pub fn remove_optional(&self, session: &Session) -> Result<Option<T>, SessionError> {
        Ok(self.remove(session)?.flatten())
    }

    /// JSON text of `Some(value)`; `None` stays `None` (the key will be removed).
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when the value cannot be serialized.
    pub fn encode_optional(&self, value: &Option<T>) -> Result<Option<String>, SessionError> {
        match value {
            Some(_) => self.encode(value).map(Some),
            None => Ok(None),
        }
    }

    /// Stores JSON text made by [`Field::encode_optional`]; `None` removes the key.
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the key was not loaded.
    pub fn put_optional(
        &self,
        session: &Session,
        json: Option<String>,
    ) -> Result<(), SessionError> {
        match json {
            Some(json) => {
                self.put(session, json);
                Ok(())
            }
            None => session.remove(self.key).map(drop),
        }
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
