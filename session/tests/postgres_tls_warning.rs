//! A PostgreSQL store made from a URL says, as it is built, when its connections to another
//! machine are not verified TLS (`sslmode=prefer`, the default, falls back to plain text
//! silently). No server is needed: nothing connects before the first call.

mod support;

use actix_typed_session::store::PostgresStore;
use support::Logs;

const WARNING: &str = "PostgreSQL connections are not verified TLS";

/// Whether building a store on `url` logs the warning.
fn warns(url: &str) -> bool {
    let (logs, _guard) = Logs::capture();
    PostgresStore::open(url).unwrap();
    logs.text().contains(WARNING)
}

#[test]
fn unverified_connections_to_another_machine_are_warned_about() {
    for sslmode in [
        "",
        "?sslmode=disable",
        "?sslmode=prefer",
        "?sslmode=require",
    ] {
        let url = format!("postgres://app@db.internal/app{sslmode}");
        assert!(warns(&url), "{url}");
    }
    let verified = "postgres://app@db.internal/app?sslmode=verify-full";
    assert!(!warns(verified), "{verified}");
    for local in [
        "postgres://app@127.0.0.1/app",
        "postgres://app@localhost/app",
    ] {
        assert!(!warns(local), "{local}");
    }
}

#[test]
fn the_warning_names_the_host_and_mode_but_no_password() {
    let (logs, _guard) = Logs::capture();
    PostgresStore::open("postgres://app:hunter2@db.internal/app").unwrap();
    let text = logs.text();
    assert!(
        text.contains("db.internal") && text.contains("Prefer"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
