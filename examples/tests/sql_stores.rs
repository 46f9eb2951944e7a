//! Black-box checks of `bench-server --store sqlite` and `--store postgres`: the routes of
//! DESIGN.md, and several processes on one SQLite file.

mod support;

use std::{path::Path, thread};

use session_tests::postgres_server::PostgresServer;
use support::{Answer, Server};

fn sqlite_server(db: &Path) -> Server {
    Server::start(&["--store", "sqlite", "--database", db.to_str().unwrap()])
}

/// The session routes of the DESIGN.md table, on one server.
fn serves_the_session_routes(server: &Server) {
    assert_eq!(server.get("/noop", None).body, "ok");
    let first = server.get("/counter", None);
    assert_eq!(first.answer(), Answer::ok("1"));
    let cookie = first.cookie().expect("a session cookie");
    let c = Some(cookie.as_str());
    assert_eq!(server.get("/counter", c).body, "2");
    assert_eq!(server.get("/read", c).body, "2");
    assert_eq!(server.get("/typed", c).body, "3");
    assert_eq!(server.get("/set/name/ferris", c).body, "ok");
    assert_eq!(server.get("/get/name", c).body, "ferris");
    assert_eq!(server.get("/remove/name", c).body, "ok");
    assert_eq!(server.get("/get/name", c).status, 404);
    assert_eq!(server.get("/fill/32", c).status, 200);
    let renewed = server.get("/renew", c);
    assert_eq!(renewed.status, 200);
    let new_cookie = renewed.cookie().expect("renew sets a new cookie");
    assert_ne!(new_cookie, cookie);
    assert_eq!(server.get("/read", Some(&new_cookie)).body, "3");
    assert_eq!(server.get("/read", c).body, "0", "the old id is dead");
    assert_eq!(server.get("/purge", Some(&new_cookie)).status, 200);
    assert_eq!(server.get("/read", Some(&new_cookie)).body, "0");
}

#[test]
fn sqlite_bench_server_serves_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    serves_the_session_routes(&sqlite_server(&dir.path().join("s.db")));
}

#[test]
fn postgres_bench_server_serves_the_routes() {
    let db = PostgresServer::start();
    serves_the_session_routes(&Server::start(&[
        "--store",
        "postgres",
        "--database",
        &db.url(),
    ]));
}

#[test]
fn sql_stores_need_a_database() {
    for store in ["sqlite", "postgres"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench-server"))
            .args(["--store", store])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("needs --database"));
    }
}

/// Two bench-server processes on one SQLite file serve one session, merge concurrent changes
/// to different keys, and see each other's purges.
#[test]
fn two_servers_on_one_sqlite_file_share_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let a = sqlite_server(&db);
    let mut b = sqlite_server(&db);

    let first = a.get("/counter", None);
    assert_eq!(first.body, "1");
    let cookie = first.cookie().unwrap();
    assert_eq!(b.get("/counter", Some(&cookie)).body, "2");
    assert_eq!(a.get("/read", Some(&cookie)).body, "2");
    assert_eq!(b.get("/set/name/ferris", Some(&cookie)).body, "ok");
    assert_eq!(a.get("/get/name", Some(&cookie)).body, "ferris");

    // Concurrent writes of different keys through both servers all survive.
    thread::scope(|s| {
        for (tag, server) in [("a", &a), ("b", &b)] {
            let cookie = &cookie;
            s.spawn(move || {
                for i in 0..40 {
                    let res = server.get(&format!("/set/{tag}{i}/{i}"), Some(cookie));
                    assert_eq!(res.answer(), Answer::ok("ok"));
                }
            });
        }
    });
    for i in 0..40 {
        let want = i.to_string();
        assert_eq!(a.get(&format!("/get/b{i}"), Some(&cookie)).body, want);
        assert_eq!(b.get(&format!("/get/a{i}"), Some(&cookie)).body, want);
    }

    // A server started later (after one was killed) sees the session; a purge is seen
    // everywhere.
    b.kill();
    let c = sqlite_server(&db);
    assert_eq!(c.get("/read", Some(&cookie)).body, "2");
    assert_eq!(a.get("/purge", Some(&cookie)).status, 200);
    assert_eq!(c.get("/read", Some(&cookie)).body, "0");
    assert_eq!(c.get("/get/name", Some(&cookie)).status, 404);
}

/// SIGKILL right after acknowledged writes: a new server on the same file has every one of
/// them (WAL with `synchronous=NORMAL` loses nothing when only the process dies).
#[test]
fn sqlite_keeps_acknowledged_writes_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let mut a = sqlite_server(&db);
    let first = a.get("/counter", None);
    let cookie = first.cookie().unwrap();
    let mut acked = 1;
    for _ in 0..50 {
        let res = a.get("/counter", Some(&cookie));
        assert_eq!(res.status, 200);
        acked = res.body.parse().unwrap();
    }
    assert_eq!(a.get("/set/last/write", Some(&cookie)).body, "ok");
    a.kill();
    let b = sqlite_server(&db);
    assert_eq!(b.get("/read", Some(&cookie)).body, acked.to_string());
    assert_eq!(b.get("/get/last", Some(&cookie)).body, "write");
}

/// A user signed in through two processes on one SQLite file: each lists both sessions, and
/// logging out everywhere through one ends the session the other issued.
#[test]
fn two_servers_on_one_sqlite_file_share_a_users_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let (a, b) = (sqlite_server(&db), sqlite_server(&db));
    let laptop = a.get("/login/ada", None).cookie().unwrap();
    let phone = b.get("/login/ada", None).cookie().unwrap();
    let bob = b.get("/login/bob", None).cookie().unwrap();
    for server in [&a, &b] {
        let listed = server.get("/sessions", Some(&laptop));
        assert_eq!((listed.status, listed.body.as_str()), (200, "2"));
    }
    let everywhere = b.get("/logout-everywhere", Some(&phone));
    assert_eq!((everywhere.status, everywhere.body.as_str()), (200, "ok"));
    assert_eq!(
        a.get("/whoami", Some(&laptop)).status,
        404,
        "ended in a too"
    );
    assert_eq!(a.get("/whoami", Some(&bob)).body, "bob", "bob keeps his");
    assert_eq!(a.get("/sessions", Some(&bob)).body, "1");
}
