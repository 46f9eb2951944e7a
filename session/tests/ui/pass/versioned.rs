//! The attributes for stale values, versions, removed keys and the accessor's name, with
//! warnings denied.
#![deny(warnings, missing_docs, missing_debug_implementations)]

use actix_typed_session::SessionData;
use serde_json::{Map, Value};

/// A user: its accessor must not be `UserSession`, the name of the crate's listing row.
#[derive(SessionData, Debug)]
#[session(
    prefix = "user",
    name = "UserState",
    version = 3,
    migrate = "migrations::user",
    stale = "error",
    removed = ["nickname", "theme"]
)]
pub struct User {
    /// Converted when stale.
    #[session(migrate = "migrations::ids")]
    ids: Vec<u64>,
    /// Converted when stale, stored as its inner type.
    #[session(migrate = "migrations::id")]
    best: Option<u64>,
    /// Reset when stale, although the struct says error.
    #[session(stale = "reset", default)]
    visits: u32,
    /// The struct's policy: error.
    name: String,
}

mod migrations {
    use super::*;

    pub fn ids(stored: Value) -> Result<Vec<u64>, serde_json::Error> {
        serde_json::from_value::<u64>(stored).map(|id| vec![id])
    }

    pub fn id(stored: Value) -> Result<u64, &'static str> {
        stored.as_str().and_then(|s| s.parse().ok()).ok_or("not an id")
    }

    pub fn user(from: u32, stored: Map<String, Value>) -> Result<User, String> {
        Ok(User {
            ids: vec![],
            best: None,
            visits: 0,
            name: format!("{from}: {}", stored.len()),
        })
    }
}

fn main() {
    assert_eq!(UserState::SCHEMA_VERSION, 3);
    assert_eq!(UserState::SCHEMA_VERSION_KEY, "user.__version");
    assert_eq!(UserState::KEYS, ["user.ids", "user.best", "user.visits", "user.name"]);
}
