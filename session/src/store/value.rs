//! Values as a request holds them: owned, or shared with the memory store.

use std::{collections::HashMap, ops::Deref, sync::Arc};

/// A value's JSON text as the request holds it: its own, or shared with the memory store, so
/// loading a session does not copy values the request never changes (a 64 KiB value costs a
/// reference count, not a 64 KiB copy from memory that is cold when sessions are many).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Owned(String),
    Shared(Arc<str>),
}

impl Deref for Value {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Self::Owned(text) => text,
            Self::Shared(text) => text,
        }
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Self::Owned(text)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Self::Owned(text.to_owned())
    }
}

impl From<Arc<str>> for Value {
    fn from(text: Arc<str>) -> Self {
        Self::Shared(text)
    }
}

/// A session's values as the request holds them.
pub(crate) type Values = HashMap<String, Value>;
