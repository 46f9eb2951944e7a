//! Real PostgreSQL servers for tests: `initdb` into a temp dir, then `postgres` on a free
//! loopback port, stopped (by pid) when dropped.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
//! `postgres` system user that the Debian package creates. A missing PostgreSQL is a test
//! failure, never a skip: install it with `apt-get install postgresql` (scripts/test does).

use std::{
    fs::{self, File, Permissions},
    net::TcpListener,
    os::unix::{
        fs::{chown, PermissionsExt as _},
        process::CommandExt as _,
    },
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::test_ca::{ServerCert, TestCa};

/// How long a server may take to start answering, or to stop.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// One PostgreSQL server on a free loopback port, with trust authentication for the
/// `postgres` role, no fsync, and `pg_stat_statements` loaded.
#[derive(Debug)]
pub struct PostgresServer {
    port: u16,
    bin: PathBuf,
    user: Option<(u32, u32)>,
    dir: PathBuf,
    tls: Option<(TestCa, ServerCert)>,
    _tmp: tempfile::TempDir,
    child: Option<Child>,
}

fn not_installed(what: &str) -> ! {
    panic!(
        "{what}: the PostgreSQL tests need a real PostgreSQL. Install it with \
         `apt-get install postgresql` (scripts/test does this), or point PG_BIN at the \
         directory holding `initdb` and `postgres`."
    )
}

/// The directory holding `initdb` and `postgres`: `$PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), else `pg_config --bindir`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return dir.into();
    }
    let debian = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .max();
    if let Some((_, bin)) = debian {
        return bin;
    }
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    match from_config {
        Some(bin) if bin.join("postgres").exists() => bin,
        _ => not_installed("no PostgreSQL server binaries found"),
    }
}

/// The uid and gid to run the server as: none when not root, the `postgres` user when root.
fn server_user() -> Option<(u32, u32)> {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("parse the uid");
    if uid != 0 {
        return None;
    }
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let ids = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres") && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    });
    Some(ids.unwrap_or_else(|| {
        not_installed("running as root and there is no `postgres` user to run the server as")
    }))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().unwrap().port()
}

impl PostgresServer {
    /// Creates a cluster in a temp dir and starts it on a free port; waits until it accepts
    /// connections.
    ///
    /// # Panics
    /// When PostgreSQL is not installed or does not start.
    #[must_use]
    pub fn start() -> Self {
        Self::start_in(false)
    }

    /// A server with `ssl=on` and a certificate for `127.0.0.1` signed by a CA made for it
    /// ([`tls_ca`](Self::tls_ca)). It still accepts plain-text connections (as `ssl=on`
    /// does): whether a client uses TLS is its `sslmode`.
    ///
    /// # Panics
    /// When PostgreSQL or `openssl` is not installed, or the server does not start.
    #[must_use]
    pub fn start_tls() -> Self {
        Self::start_in(true)
    }

    fn start_in(tls: bool) -> Self {
        let bin = bin_dir();
        let user = server_user();
        let tmp = tempfile::tempdir().expect("a temp dir for PostgreSQL");
        let dir = tmp.path().to_owned();
        if let Some((uid, gid)) = user {
            chown(&dir, Some(uid), Some(gid)).expect("give the temp dir to the postgres user");
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .args(["--locale=C"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&dir, "initdb.log", user));
        as_user(&mut initdb, user);
        let status = initdb
            .status()
            .unwrap_or_else(|e| not_installed(&format!("cannot run initdb: {e}")));
        assert!(
            status.success(),
            "initdb failed ({status}); see {}",
            dir.join("initdb.log").display()
        );
        let tls = tls.then(|| {
            let ca = TestCa::new(&dir, "postgres");
            let cert = ca.issue_server();
            // PostgreSQL reads the key only if its user owns it and no one else may.
            fs::set_permissions(&cert.key, Permissions::from_mode(0o600)).expect("chmod the key");
            if let Some((uid, gid)) = user {
                for file in [&cert.key, &cert.cert] {
                    chown(file, Some(uid), Some(gid)).expect("give the key to the postgres user");
                }
            }
            (ca, cert)
        });
        // The port is free when picked but may be taken before PostgreSQL binds it: retry.
        let mut server = Self {
            port: 0,
            bin,
            user,
            dir,
            tls,
            _tmp: tmp,
            child: None,
        };
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port();
            match server.launch() {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("PostgreSQL did not start on any of 5 free ports: {last}");
    }

    fn launch(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "the server is already running");
        let mut postgres = Command::new(self.bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=100"])
            .args(["-c", "shared_preload_libraries=pg_stat_statements"])
            .args(["-c", "pg_stat_statements.track=all"])
            .args(self.tls.iter().flat_map(|(_, cert)| {
                [
                    "-c".into(),
                    "ssl=on".into(),
                    "-c".into(),
                    format!("ssl_cert_file={}", cert.cert.display()),
                    "-c".into(),
                    format!("ssl_key_file={}", cert.key.display()),
                ]
            }))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&self.dir, "postgres.log", self.user));
        as_user(&mut postgres, self.user);
        let child = postgres
            .spawn()
            .unwrap_or_else(|e| not_installed(&format!("cannot run postgres: {e}")));
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().ok().flatten() {
                self.child = None;
                return Err(format!(
                    "postgres exited ({status}); see {}",
                    self.dir.join("postgres.log").display()
                ));
            }
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!("postgres did not answer within {START_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port the server listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:{port}/postgres`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The CA that signed a [TLS](Self::start_tls) server's certificate.
    #[must_use]
    pub fn tls_ca(&self) -> Option<&TestCa> {
        self.tls.as_ref().map(|(ca, _)| ca)
    }

    /// The server's pid while it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's processes: the postmaster and every process under it (a backend per
    /// connection, the background workers), by pid from `/proc`.
    fn processes(&self) -> Vec<u32> {
        let Some(root) = self.pid() else {
            return Vec::new();
        };
        let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                let stat = fs::read_to_string(e.path().join("stat")).ok()?;
                // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
                let ppid = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some((pid, ppid))
            })
            .collect();
        let mut family = vec![root];
        let mut i = 0;
        while i < family.len() {
            let parent = family[i];
            family.extend(parents.iter().filter(|p| p.1 == parent).map(|p| p.0));
            i += 1;
        }
        family
    }

    fn signal_all(&self, signal: &str, pids: &[u32]) {
        if pids.is_empty() {
            return;
        }
        let _ = Command::new("kill")
            .arg(signal)
            .args(pids.iter().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
    }

    /// Freezes the server (SIGSTOP to the postmaster, then to every process under it): open
    /// connections stay open but nothing answers, and no new connection is accepted, as with
    /// a database stalled on its disk. [`resume`](Self::resume) thaws it.
    pub fn pause(&self) {
        let pids = self.processes();
        self.signal_all("-STOP", &pids[..1.min(pids.len())]);
        // The postmaster is frozen: it forks no more backends while the rest are stopped.
        self.signal_all("-STOP", &self.processes());
    }

    /// Thaws a [`pause`](Self::pause)d server (SIGCONT to each of its processes).
    pub fn resume(&self) {
        let mut pids = self.processes();
        pids.reverse();
        self.signal_all("-CONT", &pids);
    }

    /// Stops the server (fast shutdown: open connections are cut), waiting until it exited;
    /// the data stays for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        // A paused server would not act on the shutdown signal.
        self.resume();
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the stopped server again on the same port with the same data.
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&mut self) {
        self.stop();
        self.launch().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Runs SQL with `psql` as the `postgres` role and returns its unaligned, tuples-only
    /// output.
    ///
    /// # Panics
    /// When psql fails.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-X", "-A", "-t", "-q"])
            .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// How many times statements mentioning `needle` ran, per `pg_stat_statements`.
    #[must_use]
    pub fn statements_run(&self, needle: &str) -> u64 {
        let needle = needle.replace('\'', "''");
        self.psql(&format!(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
             WHERE query LIKE '%{needle}%' AND query NOT LIKE '%pg_stat_statements%'"
        ))
        .parse()
        .expect("a count")
    }
}

/// A log file in `dir` that the server's user can write.
fn log_file(dir: &Path, name: &str, user: Option<(u32, u32)>) -> Stdio {
    let path = dir.join(name);
    let file = File::create(&path).expect("create a log file");
    if let Some((uid, gid)) = user {
        chown(&path, Some(uid), Some(gid)).expect("give the log file to the postgres user");
    }
    file.into()
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        // std drops supplementary groups when root switches uid.
        command.uid(uid).gid(gid).env("HOME", "/");
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}
