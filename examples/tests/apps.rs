//! Black-box checks of what apps build on sessions, through `bench-server` on every store it
//! serves: sign-in, a user's sessions and log out everywhere (DESIGN.md's route table).

mod support;

use std::{
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use support::{free_port, Answer, Server};

/// A throwaway `redis-server` on a free loopback port, killed by its pid on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the store can revoke a cookie (server-side) and list sessions.
#[derive(Clone, Copy)]
struct Can {
    server_side: bool,
}

fn sign_in_and_sessions(server: &Server, can: Can) {
    let anon = server.get("/counter", None).cookie().unwrap();
    assert_eq!(
        server.get("/whoami", Some(&anon)).answer(),
        Answer {
            status: 404,
            body: "anonymous".into()
        }
    );
    assert_eq!(
        server.get("/sessions", Some(&anon)).status,
        404,
        "anonymous: no list"
    );

    let login = server.get("/login/ada", Some(&anon));
    assert_eq!(login.answer(), Answer::ok("ok"));
    let laptop = login.cookie().expect("sign-in sets a cookie");
    assert_ne!(laptop, anon, "a new cookie");
    assert_eq!(
        server.get("/whoami", Some(&laptop)).answer(),
        Answer::ok("ada")
    );
    assert_eq!(
        server.get("/read", Some(&laptop)).body,
        "1",
        "data survives sign-in"
    );
    if can.server_side {
        assert_eq!(
            server.get("/read", Some(&anon)).body,
            "0",
            "the pre-login id is never kept"
        );
    }

    let phone = server.get("/login/ada", None).cookie().unwrap();
    let bob = server.get("/login/bob", None).cookie().unwrap();
    if !can.server_side {
        for path in ["/sessions", "/logout-everywhere"] {
            assert_eq!(server.get(path, Some(&laptop)).status, 501, "{path}");
        }
        let logout = server.get("/logout", Some(&phone));
        assert!(
            logout.set_cookie().unwrap().contains("Max-Age=0"),
            "logout removes the cookie"
        );
        return;
    }
    assert_eq!(
        server.get("/sessions", Some(&laptop)).answer(),
        Answer::ok("2")
    );
    assert_eq!(
        server.get("/sessions", Some(&bob)).answer(),
        Answer::ok("1")
    );

    let logout = server.get("/logout", Some(&phone));
    assert_eq!(logout.body, "ok");
    assert_eq!(
        server.get("/whoami", Some(&phone)).status,
        404,
        "logout ends the session"
    );
    assert_eq!(
        server.get("/sessions", Some(&laptop)).body,
        "1",
        "and takes it off the list"
    );

    let tablet = server.get("/login/ada", None).cookie().unwrap();
    let everywhere = server.get("/logout-everywhere", Some(&laptop));
    assert_eq!(everywhere.answer(), Answer::ok("ok"));
    assert!(
        everywhere.set_cookie().unwrap().contains("Max-Age=0"),
        "this one too"
    );
    for cookie in [&laptop, &tablet] {
        assert_eq!(server.get("/whoami", Some(cookie)).status, 404);
    }
    assert_eq!(
        server.get("/whoami", Some(&bob)).body,
        "bob",
        "other users keep theirs"
    );
}

fn remember_me(server: &Server) {
    let plain = server.get("/counter", None);
    assert!(
        !plain.set_cookie().unwrap().contains("Max-Age"),
        "browser-session by default"
    );
    let cookie = plain.cookie().unwrap();
    let remember = server.get("/remember", Some(&cookie));
    assert_eq!(remember.body, "ok");
    assert!(
        remember.set_cookie().unwrap().contains("Max-Age=2592000"),
        "persistent"
    );
    let cookie = remember.cookie().unwrap();
    let later = server.get("/counter", Some(&cookie));
    assert_eq!(later.body, "2");
    assert!(
        later.set_cookie().unwrap().contains("Max-Age=2592000"),
        "travels with the session"
    );
    let other = server.get("/counter", None);
    assert!(
        !other.set_cookie().unwrap().contains("Max-Age"),
        "others keep the default"
    );
}

fn flash_messages(server: &Server) {
    let mut cookie = server.get("/flash/first", None).cookie().unwrap();
    for text in ["second", "third"] {
        let res = server.get(&format!("/flash/{text}"), Some(&cookie));
        assert_eq!(res.body, "ok");
        cookie = res.cookie().unwrap_or(cookie);
    }
    let shown = server.get("/flashes", Some(&cookie));
    assert_eq!(shown.answer(), Answer::ok("first\nsecond\nthird"));
    cookie = shown.cookie().unwrap_or(cookie);
    assert_eq!(
        server.get("/flashes", Some(&cookie)).body,
        "",
        "each is shown once"
    );
}

fn guards(server: &Server, can: Can) {
    assert_eq!(server.get("/guarded", None).status, 404, "no session");
    let anon = server.get("/counter", None).cookie().unwrap();
    assert_eq!(server.get("/guarded", Some(&anon)).status, 404, "anonymous");
    let signed = server.get("/login/ada", Some(&anon)).cookie().unwrap();
    assert_eq!(
        server.get("/guarded", Some(&signed)).answer(),
        Answer::ok("in")
    );
    assert_eq!(server.get("/logout", Some(&signed)).status, 200);
    // A replayed cookie-store cookie still opens: its sessions cannot be revoked.
    let replayed = if can.server_side { 404 } else { 200 };
    assert_eq!(
        server.get("/guarded", Some(&signed)).status,
        replayed,
        "after logout"
    );
}

fn all_routes(server: &Server, can: Can) {
    sign_in_and_sessions(server, can);
    remember_me(server);
    flash_messages(server);
    guards(server, can);
}

#[test]
fn memory_store_serves_the_app_routes() {
    all_routes(
        &Server::start(&["--store", "memory"]),
        Can { server_side: true },
    );
}

#[test]
fn redis_store_serves_the_app_routes() {
    let redis = Redis::start();
    all_routes(
        &Server::start(&["--store", "redis", "--redis", &redis.url()]),
        Can { server_side: true },
    );
}

#[test]
fn file_store_serves_the_app_routes() {
    let dir = tempfile::tempdir().unwrap();
    all_routes(
        &Server::start(&["--store", "file", "--dir", dir.path().to_str().unwrap()]),
        Can { server_side: true },
    );
}

#[test]
fn cookie_store_serves_the_app_routes_it_can() {
    all_routes(
        &Server::start(&["--store", "cookie"]),
        Can { server_side: false },
    );
}

#[test]
fn sqlite_store_serves_the_app_routes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    all_routes(
        &Server::start(&["--store", "sqlite", "--database", db.to_str().unwrap()]),
        Can { server_side: true },
    );
}

#[test]
fn postgres_store_serves_the_app_routes() {
    let db = session_tests::postgres_server::PostgresServer::start();
    all_routes(
        &Server::start(&["--store", "postgres", "--database", &db.url()]),
        Can { server_side: true },
    );
}
