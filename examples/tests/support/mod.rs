//! Black-box test support: run `bench-server` as a process on a free loopback port and talk
//! HTTP/1.1 to it over a plain socket.

#![allow(dead_code)]

use std::{
    fs,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command},
    time::{Duration, Instant},
};

/// A running `bench-server`, killed (by its pid) and reaped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Server {
    /// Starts `bench-server` with `args` (plus `--port`) on a free port and waits until it
    /// accepts connections. Another process may take the port between the probe and the
    /// server's bind: then the server exits with "address in use" and another port is tried.
    pub fn start(args: &[&str]) -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start_on(free_port(), args) {
                Ok(server) => return server,
                Err(log) if log.contains("in use") => last = log,
                Err(log) => panic!("bench-server exited: {log}"),
            }
        }
        panic!("bench-server found no free port in 5 tries: {last}")
    }

    pub fn start_on(port: u16, args: &[&str]) -> Self {
        Self::try_start_on(port, args).unwrap_or_else(|log| panic!("bench-server exited: {log}"))
    }

    /// The server, or what it logged when it exited before listening.
    pub fn try_start_on(port: u16, args: &[&str]) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr.log");
        let stdout = dir.path().join("stdout.log");
        let child = Command::new(env!("CARGO_BIN_EXE_bench-server"))
            .args(args)
            .args(["--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("bench-server starts");
        let mut server = Self {
            child,
            port,
            stderr,
            _dir: dir,
        };
        // Ready when it says it listens (it prints that line once bound), not when the port
        // answers: a port another process took answers too.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("{status}: {}", server.log()));
            }
            if fs::read_to_string(&stdout).is_ok_and(|out| out.contains("listening on")) {
                return Ok(server);
            }
            assert!(
                Instant::now() < deadline,
                "bench-server did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        get(self.port, path, cookie)
    }

    /// A GET with these request headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.port, path, headers)
    }

    /// A GET carrying `X-Session: token` (header transport).
    pub fn get_token(&self, path: &str, token: &str) -> Response {
        self.get_with(path, &[("X-Session", token)])
    }

    /// Kills the server now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A response's status and body, to compare both at once.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// 200 with `body`.
    pub fn ok(body: &str) -> Self {
        Self {
            status: 200,
            body: body.to_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The status and body.
    pub fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            body: self.body.clone(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The full `Set-Cookie` header, if any.
    pub fn set_cookie(&self) -> Option<&str> {
        self.header("set-cookie")
    }

    /// The `X-Session` header (header transport), if any; empty when the token was removed.
    pub fn token(&self) -> Option<&str> {
        self.header("x-session")
    }

    /// `name=value` of the `Set-Cookie`, ready to send back.
    pub fn cookie(&self) -> Option<String> {
        self.set_cookie()
            .map(|c| c.split(';').next().unwrap().trim().to_owned())
    }
}

/// One GET with `Connection: close`, bounded by a 10 s socket timeout.
pub fn get(port: u16, path: &str, cookie: Option<&str>) -> Response {
    match cookie {
        Some(cookie) => request(port, path, &[("Cookie", cookie)]),
        None => request(port, path, &[]),
    }
}

/// One GET with these request headers, as [`get`].
pub fn request(port: u16, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}
