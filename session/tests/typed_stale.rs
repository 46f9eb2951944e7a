//! The less travelled paths of stale values and versions, on detached sessions: a failed
//! migration, a reset that leaves a struct half stored, `Option` fields, an undecodable version.

use actix_typed_session::{Session, SessionData, SessionError};
use serde_json::{Map, Value};

/// Two required fields, so that a reset can leave the struct half stored.
#[derive(SessionData, Debug, PartialEq)]
#[session(prefix = "login")]
struct Login {
    user_id: u64,
    #[session(migrate = "name_from_number")]
    name: String,
    #[session(migrate = "level_from_text")]
    level: Option<u8>,
}

fn name_from_number(stored: Value) -> Result<String, String> {
    stored
        .as_u64()
        .map(|n| format!("user {n}"))
        .ok_or_else(|| "not a number".to_owned())
}

fn level_from_text(stored: Value) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    Ok(stored.as_str().ok_or("not text")?.parse()?)
}

/// A session holding `entries` (key, JSON text).
fn session(entries: &[(&str, &str)]) -> Session {
    let session = Session::detached();
    for (key, json) in entries {
        session.insert_raw(*key, (*json).to_owned()).unwrap();
    }
    session
}

async fn login(session: &Session) -> LoginSession {
    LoginSession::from_session(session.clone()).await.unwrap()
}

#[actix_web::test]
async fn a_migration_converts_and_stores_and_a_failed_one_resets() {
    let s = session(&[("login.name", "7"), ("login.level", "\"3\"")]);
    let l = login(&s).await;
    assert_eq!(l.name().unwrap().as_deref(), Some("user 7"));
    assert_eq!(l.level().unwrap(), Some(3));
    assert_eq!(
        s.get_raw("login.name").unwrap().as_deref(),
        Some("\"user 7\"")
    );
    assert_eq!(s.get_raw("login.level").unwrap().as_deref(), Some("3"));

    let s = session(&[("login.name", "[]"), ("login.level", "\"high\"")]);
    let l = login(&s).await;
    assert_eq!(l.name().unwrap(), None);
    assert_eq!(l.level().unwrap(), None);
    assert!(s.keys().unwrap().is_empty(), "{:?}", s.keys());
}

#[actix_web::test]
async fn a_reset_that_leaves_the_struct_half_stored_resets_all_of_it() {
    let s = session(&[("login.user_id", "\"seven\""), ("login.name", "\"ada\"")]);
    let l = login(&s).await;
    assert_eq!(l.load().unwrap(), None);
    assert!(s.keys().unwrap().is_empty(), "{:?}", s.keys());
    // Without a stale value, half a struct is still reported.
    let s = session(&[("login.name", "\"ada\"")]);
    assert!(matches!(
        login(&s).await.load(),
        Err(SessionError::Incomplete { key }) if key == "login.user_id"
    ));
}

/// A versioned struct whose migration records what it was given.
#[derive(SessionData, Debug, PartialEq)]
#[session(prefix = "prefs", version = 3, migrate = "prefs_from")]
struct Prefs {
    seen: Option<String>,
}

fn prefs_from(from: u32, stored: Map<String, Value>) -> Result<Prefs, String> {
    Ok(Prefs {
        seen: Some(format!("{from} {}", Value::Object(stored))),
    })
}

#[actix_web::test]
async fn an_undecodable_version_counts_as_version_0() {
    let s = session(&[("prefs.__version", "\"three\""), ("prefs.seen", "1")]);
    let p = PrefsSession::from_session(s.clone()).await.unwrap();
    assert_eq!(p.seen().unwrap().as_deref(), Some(r#"0 {"seen":1}"#));
    assert_eq!(
        s.get::<u32>(PrefsSession::SCHEMA_VERSION_KEY).unwrap(),
        Some(3)
    );
}

#[actix_web::test]
async fn a_current_version_is_left_alone() {
    let s = session(&[("prefs.__version", "3"), ("prefs.seen", "\"x\"")]);
    let p = PrefsSession::from_session(s.clone()).await.unwrap();
    assert_eq!(p.seen().unwrap().as_deref(), Some("x")); // not migrated
}
