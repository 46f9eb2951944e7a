//! Runtime support for `#[derive(SessionData)]`: the only items generated code calls, re-exported
//! as `actix_typed_session::__private`. Not public API: names and signatures may change in any release.
//!
//! Each field of a derived struct becomes one [`Field`] constant: its key, its JSON codec and
//! what to do with a stored value that no longer decodes ([`Stale`]). The codec is built, and
//! the field type's serde bounds checked, in one place ([`Field::new`]), so a field type without
//! serde support is one compile error at the field instead of one per generated method. The
//! struct as a whole (its version and removed keys) is a [`Schema`].

mod schema;

use std::{any::type_name, fmt};

use serde::{de::DeserializeOwned, Serialize};

pub use actix_web::{dev::Payload, FromRequest, HttpRequest};

pub use self::schema::*;
pub use crate::{BoxError, Session, SessionError};

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

/// A field's migration: the stored JSON that no longer decodes, to the field's value.
pub type Migrate<T> = fn(serde_json::Value) -> Result<T, BoxError>;

/// What a field does with a stored value that does not decode as its type.
pub enum Stale<T> {
    /// Drop it, log once, read as absent.
    Reset,
    /// Report [`SessionError::Deserialize`].
    Error,
    /// Convert it; a failed conversion resets.
    Migrate(Migrate<T>),
}

impl<T> fmt::Debug for Stale<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reset => "Reset",
            Self::Error => "Error",
            Self::Migrate(_) => "Migrate",
        })
    }
}

/// Boxes the error of a migration function's result.
///
/// # Errors
/// `result`'s error.
pub fn migrated<T, E: Into<BoxError>>(result: Result<T, E>) -> Result<T, BoxError> {
    result.map_err(Into::into)
}

/// What reading stored JSON text gave.
enum Read<T> {
    Value(T),
    /// A migrated value, with its JSON text to store.
    Migrated(T, String),
    /// The value is stale and the field reports it.
    Error(SessionError),
    /// The value is stale and the field drops it.
    Reset,
}

/// One field of a derived struct: its session key, its JSON codec and its stale-value policy.
pub struct Field<T> {
    key: &'static str,
    encode: Encode<T>,
    decode: Decode<T>,
    stale: Stale<T>,
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
    /// Returns the field stored under `key`. The only place that needs `T`'s serde impls.
    #[must_use]
    pub const fn new(key: &'static str) -> Self
    where
        T: SessionValue,
    {
        Self {
            key,
            encode: encode_json::<T>,
            decode: decode_json::<T>,
            stale: Stale::Reset,
        }
    }

    /// Sets `stale` as the field's stale-value policy.
    #[must_use]
    pub const fn on_stale(self, stale: Stale<T>) -> Self {
        Self { stale, ..self }
    }

    /// Decodes stored JSON text, applying the stale-value policy when it is not a `T`. Logs
    /// the key and `T`, never the value (nor a migration's error, which may quote it).
    fn read(&self, json: &str) -> Read<T> {
        let err = match (self.decode)(json) {
            Ok(value) => return Read::Value(value),
            Err(err) => err,
        };
        let (key, expected) = (self.key, type_name::<T>());
        let migrate = match self.stale {
            Stale::Error => return Read::Error(SessionError::deserialize::<T>(key, &err)),
            Stale::Reset => None,
            Stale::Migrate(migrate) => Some(migrate),
        };
        if let Some(migrate) = migrate {
            let migrated = serde_json::from_str(json)
                .ok()
                .and_then(|stored| migrate(stored).ok())
                .and_then(|value| Some((self.encode(&value).ok()?, value)));
            if let Some((json, value)) = migrated {
                tracing::debug!(key, expected, "stale session value migrated");
                return Read::Migrated(value, json);
            }
            tracing::warn!(
                key,
                expected,
                "stale session value dropped: its migration failed; it reads as absent"
            );
        } else {
            tracing::warn!(
                key,
                expected,
                "stale session value dropped: it no longer decodes as the field's type; it \
                 reads as absent"
            );
        }
        Read::Reset
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

    /// Returns the stored value; `None` when absent, or when a stale value was reset.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T` and the policy is
    /// [`Stale::Error`].
    pub fn get(&self, session: &Session) -> Result<Option<T>, SessionError> {
        let Some(json) = session.get_raw(self.key)? else {
            return Ok(None);
        };
        match self.read(&json) {
            Read::Value(value) => Ok(Some(value)),
            Read::Migrated(value, new) => {
                self.put(session, new);
                Ok(Some(value))
            }
            Read::Error(err) => {
                session.note_stale(self.key, &json);
                Err(err)
            }
            Read::Reset => {
                session.drop_stale(self.key, &json);
                Ok(None)
            }
        }
    }

    /// Returns the stored value; `default()` when absent.
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
        let Some(json) = session.remove(self.key)? else {
            return Ok(None);
        };
        match self.read(&json) {
            Read::Value(value) | Read::Migrated(value, _) => Ok(Some(value)),
            Read::Error(err) => {
                session.note_stale(self.key, &json);
                Err(err)
            }
            Read::Reset => {
                session.note_stale(self.key, &json);
                Ok(None)
            }
        }
    }

    /// Stores JSON text made by [`Field::encode`].
    pub fn put(&self, session: &Session, json: String) {
        session.insert_json(self.key.to_owned(), json);
    }
}

/// An `Option<T>` field: the key holds a `T` when `Some` and is absent when `None`; a stored
/// `null` reads as `None` too.
impl<T> Field<Option<T>> {
    /// Returns the stored value; `None` when absent.
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

/// Returns the error of a `load` that found some required fields but not all: names the first
/// absent one. `fields` pairs each required key with whether it is present.
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
