//! Real `redis-server` processes for tests: one server, or a cluster of them, on free loopback
//! ports, without persistence, stopped (by pid) when dropped; a server can speak TLS only
//! ([`RedisServer::start_tls`], with certificates from a [`TestCa`]).
//!
//! A missing `redis-server` is a test failure, never a skip: install it with
//! `apt-get install redis-server` (the README's test command does).

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use crate::test_ca::{ServerCert, TestCa};

/// How long a server may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One `redis-server` on a free loopback port.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    extra: Vec<String>,
    dir: PathBuf,
    /// TLS only (no plain-text port): the CA and the server's certificate.
    tls: Option<(TestCa, ServerCert)>,
    _tmp: Option<tempfile::TempDir>,
    child: Option<Child>,
}

/// Ports the OS says are free right now, all distinct (listeners are held until all are
/// picked).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn not_installed(program: &str) -> ! {
    panic!(
        "`{program}` not found on PATH: the Redis tests need a real Redis. \
         Install it with `apt-get install redis-server` (scripts/test does this)."
    )
}

/// Sends one command in RESP and returns the first reply line, or `None` if nothing answers.
fn raw_command(port: u16, args: &[&str], timeout: Duration) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(req.as_bytes()).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    Some(line.trim_end().to_owned())
}

impl RedisServer {
    /// Starts a server with `--save "" --appendonly no` on a free port and waits until it
    /// answers `PING`.
    ///
    /// # Panics
    /// When `redis-server` is not installed or does not start.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with extra `redis-server` arguments.
    ///
    /// # Panics
    /// When `redis-server` is not installed or does not start.
    #[must_use]
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_in(extra, false)
    }

    /// A server that speaks only TLS (`--port 0 --tls-port`), with a certificate for
    /// `127.0.0.1` signed by a CA made for it ([`tls_ca`](Self::tls_ca)); clients need no
    /// certificate of their own. Its [`url`](Self::url) is `rediss://`; [`cli`](Self::cli)
    /// and the command counters do not work on it (they speak plain text).
    ///
    /// # Panics
    /// When `redis-server` or `openssl` is not installed, or the server does not start.
    #[must_use]
    pub fn start_tls() -> Self {
        Self::start_in(&[], true)
    }

    fn start_in(extra: &[&str], tls: bool) -> Self {
        let tmp = tempfile::tempdir().expect("a temp dir for redis-server");
        let dir = tmp.path().to_owned();
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let mut tls = tls.then(|| {
            let ca = TestCa::new(&dir, "redis");
            let cert = ca.issue_server();
            (ca, cert)
        });
        // The port is free when picked but may be taken before redis binds it: retry.
        for _ in 0..5 {
            let port = free_ports(1)[0];
            let mut server = Self {
                port,
                extra: extra.clone(),
                dir: dir.clone(),
                tls: tls.take(),
                _tmp: None,
                child: None,
            };
            if server.launch().is_ok() {
                server._tmp = Some(tmp);
                return server;
            }
            tls = server.tls.take();
        }
        panic!(
            "redis-server did not start on any of 5 free ports; see {}",
            dir.display()
        );
    }

    /// Starts a server on a given port with extra arguments, in `dir` (for cluster nodes).
    fn start_on(port: u16, extra: Vec<String>, dir: &Path) -> Result<Self, String> {
        let mut server = Self {
            port,
            extra,
            dir: dir.to_owned(),
            tls: None,
            _tmp: None,
            child: None,
        };
        server.launch().map(|()| server)
    }

    fn launch(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "the server is already running");
        let log = self.dir.join(format!("redis-{}.log", self.port));
        // A restart appends to the log: only what this run writes counts.
        let log_start = std::fs::metadata(&log).map_or(0, |m| m.len());
        let port = self.port.to_string();
        let ports: Vec<String> = match &self.tls {
            None => vec!["--port".into(), port],
            Some((ca, cert)) => [
                "--port",
                "0",
                "--tls-port",
                &port,
                "--tls-cert-file",
                &cert.cert.to_string_lossy(),
                "--tls-key-file",
                &cert.key.to_string_lossy(),
                "--tls-ca-cert-file",
                &ca.cert_path().to_string_lossy(),
                "--tls-auth-clients",
                "no",
            ]
            .map(String::from)
            .to_vec(),
        };
        let child = Command::new("redis-server")
            .args(&ports)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--dir", &self.dir.to_string_lossy()])
            .args(["--logfile", &log.to_string_lossy()])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => not_installed("redis-server"),
            Err(e) => panic!("could not run redis-server: {e}"),
        };
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.answers(&log, log_start) {
                return Ok(());
            }
            let exited = self.child.as_mut().unwrap().try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                self.kill();
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "redis-server on port {} did not start: {log}",
                    self.port
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// True once the server answers `PING`; for a TLS server (which a plain-text `PING`
    /// cannot reach), once this run's log says it accepts connections.
    fn answers(&self, log: &Path, log_start: u64) -> bool {
        if self.tls.is_none() {
            return raw_command(self.port, &["PING"], Duration::from_millis(200)).as_deref()
                == Some("+PONG");
        }
        let text = std::fs::read(log).unwrap_or_default();
        let run = text
            .get(usize::try_from(log_start).unwrap_or(0)..)
            .unwrap_or(&[]);
        String::from_utf8_lossy(run).contains("Ready to accept connections")
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`, or `rediss://…` for a [TLS](Self::start_tls) server.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA that signed a [TLS](Self::start_tls) server's certificate.
    #[must_use]
    pub fn tls_ca(&self) -> Option<&TestCa> {
        self.tls.as_ref().map(|(ca, _)| ca)
    }

    /// The process id, while running.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the process runs.
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server (SIGKILL, no goodbye to clients) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (its data is gone: no persistence).
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&mut self) {
        self.kill();
        self.launch().unwrap_or_else(|e| panic!("{e}"));
    }

    fn signal(&self, signal: &str) {
        let pid = self.pid().expect("the server is running");
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Freezes the process (SIGSTOP): connections stay open but nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a [`pause`](Self::pause)d process (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Runs `redis-cli` against this server and returns its output (`--no-raw` quoting off:
    /// raw replies, one per line).
    ///
    /// # Panics
    /// When `redis-cli` is missing or fails.
    #[must_use]
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    /// `INFO commandstats` as command name → calls.
    #[must_use]
    pub fn command_stats(&self) -> BTreeMap<String, u64> {
        parse_commandstats(&self.cli(&["INFO", "commandstats"]))
    }

    /// Starts recording every command the server runs (`MONITOR`).
    #[must_use]
    pub fn monitor(&self) -> Monitor {
        Monitor::start(self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--raw"])
        .args(args)
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => not_installed("redis-cli"),
        Err(e) => panic!("could not run redis-cli: {e}"),
    };
    assert!(
        out.status.success(),
        "redis-cli {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Parses `INFO commandstats` output into command name → calls.
#[must_use]
pub fn parse_commandstats(info: &str) -> BTreeMap<String, u64> {
    info.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("cmdstat_")?;
            let (name, fields) = rest.split_once(':')?;
            let calls = fields
                .split(',')
                .find_map(|f| f.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// A `redis-cli MONITOR` running in the background.
#[derive(Debug)]
pub struct Monitor {
    port: u16,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
}

/// One command seen by [`Monitor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The client's address, or `lua` for a command run by a script.
    pub client: String,
    /// The command name, lowercase.
    pub command: String,
}

impl Seen {
    /// True for a command a client sent (not one a script ran).
    #[must_use]
    pub fn from_client(&self) -> bool {
        self.client != "lua"
    }
}

impl Monitor {
    fn start(port: u16) -> Self {
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "MONITOR"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => not_installed("redis-cli"),
                _ => panic!("could not run redis-cli MONITOR: {e}"),
            });
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let monitor = Self {
            port,
            child,
            lines,
            reader: Some(reader),
        };
        // MONITOR answers OK once it is on; wait for it so no command is missed.
        monitor.wait_for(|l| l == "OK", "MONITOR to start");
        monitor
    }

    fn wait_for(&self, mut found: impl FnMut(&str) -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.lines.lock().unwrap().iter().any(|l| found(l)) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops recording and returns the commands seen, in order, excluding its own bookkeeping.
    ///
    /// # Panics
    /// When the monitor output cannot be read.
    #[must_use]
    pub fn stop(mut self) -> Vec<Seen> {
        // Everything sent before this marker is in the output once the marker is.
        let marker = format!("monitor-end-{}", std::process::id());
        let _ = cli(self.port, &["ECHO", &marker]);
        self.wait_for(|l| l.contains(&marker), "the monitor marker");
        self.finish();
        let lines = std::mem::take(&mut *self.lines.lock().unwrap());
        lines
            .iter()
            .filter(|l| !l.contains(&marker))
            .filter_map(|l| parse_monitor_line(l))
            .collect()
    }

    fn finish(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Parses `1700000000.123456 [0 127.0.0.1:5000] "hget" "k" "f"` (client `lua` for scripts).
fn parse_monitor_line(line: &str) -> Option<Seen> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let client = line[open + 1..close].split_whitespace().nth(1)?.to_owned();
    let rest = line[close + 1..].trim_start().strip_prefix('"')?;
    let command = rest[..rest.find('"')?].to_ascii_lowercase();
    Some(Seen { client, command })
}

/// Commands the counting itself causes (and replication housekeeping), left out of counts.
#[must_use]
pub fn is_bookkeeping(command: &str) -> bool {
    matches!(
        command,
        "config|resetstat" | "monitor" | "echo" | "info" | "replconf"
    ) || command.starts_with("command")
}

/// What some work cost in Redis commands; see [`count_commands`].
#[derive(Debug, Default, Clone)]
pub struct CommandCount {
    /// Commands clients sent, by name: the round trips.
    pub sent: BTreeMap<String, usize>,
    /// Commands that scripts ran (`INFO commandstats` counts these too).
    pub in_scripts: usize,
    /// `INFO commandstats` calls of all commands, bookkeeping left out.
    pub commandstats: u64,
}

impl CommandCount {
    /// Commands clients sent: the round trips.
    #[must_use]
    pub fn round_trips(&self) -> usize {
        self.sent.values().sum()
    }
}

/// Counts the commands `servers` (one server, or the masters of a cluster) run during `work`,
/// two ways: `MONITOR` tells client commands from script commands, `INFO commandstats` counts
/// both; the two must agree.
///
/// # Panics
/// When the two counts disagree.
pub async fn count_commands(
    servers: &[&RedisServer],
    work: impl std::future::Future<Output = ()>,
) -> CommandCount {
    for server in servers {
        let _ = server.cli(&["CONFIG", "RESETSTAT"]);
    }
    let monitors: Vec<Monitor> = servers.iter().map(|s| s.monitor()).collect();
    work.await;
    let mut count = CommandCount::default();
    for (monitor, server) in monitors.into_iter().zip(servers) {
        for seen in monitor.stop() {
            if !seen.from_client() {
                count.in_scripts += 1;
            } else if !is_bookkeeping(&seen.command) {
                *count.sent.entry(seen.command).or_default() += 1;
            }
        }
        count.commandstats += server
            .command_stats()
            .iter()
            .filter(|(name, _)| !is_bookkeeping(name))
            .map(|(_, calls)| calls)
            .sum::<u64>();
    }
    assert_eq!(
        count.commandstats,
        (count.round_trips() + count.in_scripts) as u64,
        "INFO commandstats disagrees with MONITOR: {count:?}"
    );
    count
}

/// Moves `slots` hash slots from the master on port `from` to the one on port `to` with
/// `redis-cli --cluster reshard` (keys move with `MIGRATE`; clients see `ASK`/`MOVED`).
///
/// # Panics
/// When `redis-cli` fails. Blocking: run it off the async runtime.
pub fn reshard(from: u16, to: u16, slots: usize) {
    let id = |port: u16| cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
    let out = Command::new("redis-cli")
        .args(["--cluster", "reshard", &format!("127.0.0.1:{from}")])
        .args(["--cluster-from", &id(from), "--cluster-to", &id(to)])
        .args(["--cluster-slots", &slots.to_string(), "--cluster-yes"])
        .args(["--cluster-pipeline", "10"])
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli --cluster reshard");
    assert!(
        out.status.success(),
        "reshard failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Redis Cluster of `redis-server --cluster-enabled yes` nodes on free loopback ports,
/// joined with `redis-cli --cluster create`.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    _tmp: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts `masters` masters with `replicas` replicas each and waits until every node
    /// reports `cluster_state:ok`. Node timeout is short (1 s) so failovers are quick.
    ///
    /// # Panics
    /// When Redis is not installed or the cluster does not form.
    #[must_use]
    pub fn start(masters: usize, replicas: usize) -> Self {
        let count = masters * (1 + replicas);
        let tmp = tempfile::tempdir().expect("a temp dir for the cluster");
        // Two ports per node: clients and the cluster bus.
        let ports = free_ports(count * 2);
        let mut nodes = Vec::with_capacity(count);
        for pair in ports.chunks(2) {
            let (port, bus) = (pair[0], pair[1]);
            let dir = tmp.path().join(port.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let extra = [
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                &bus.to_string(),
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "1000",
                "--appendonly",
                "no",
            ];
            let extra = extra.iter().map(|s| (*s).to_owned()).collect();
            nodes.push(RedisServer::start_on(port, extra, &dir).unwrap_or_else(|e| panic!("{e}")));
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => not_installed("redis-cli"),
                _ => panic!("could not run redis-cli --cluster create: {e}"),
            });
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Self { nodes, _tmp: tmp };
        cluster.wait_until_ok(Duration::from_secs(30));
        cluster
    }

    /// Waits until every running node reports `cluster_state:ok` and agrees on the masters.
    ///
    /// # Panics
    /// After `timeout`.
    pub fn wait_until_ok(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let running: Vec<&RedisServer> = self.nodes.iter().filter(|n| n.is_running()).collect();
            let ok = running
                .iter()
                .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"));
            let views: Vec<Vec<u16>> = running.iter().map(|n| self.masters_seen_by(n)).collect();
            if ok && views.windows(2).all(|w| w[0] == w[1]) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not settle in {timeout:?}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node URLs.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes.
    #[must_use]
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// Waits until every replica has everything its master has (replication is asynchronous).
    ///
    /// # Panics
    /// After `timeout`.
    pub fn wait_for_replication(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        for master in self.masters() {
            loop {
                let info = master.cli(&["INFO", "replication"]);
                let field = |name: &str| -> Option<u64> {
                    info.lines()
                        .find_map(|l| l.trim().strip_prefix(name))?
                        .parse()
                        .ok()
                };
                let offset = field("master_repl_offset:").unwrap_or(0);
                let replicas: Vec<u64> = info
                    .lines()
                    .filter(|l| l.starts_with("slave") && l.contains("offset="))
                    .filter_map(|l| l.split("offset=").nth(1)?.split(',').next()?.parse().ok())
                    .collect();
                if !replicas.is_empty() && replicas.iter().all(|&o| o >= offset) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "replicas of {} lag behind",
                    master.port()
                );
                thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The running masters that own slots.
    #[must_use]
    pub fn masters(&self) -> Vec<&RedisServer> {
        let ports = self.master_ports();
        self.nodes
            .iter()
            .filter(|n| n.is_running() && ports.contains(&n.port()))
            .collect()
    }

    /// A node by port.
    ///
    /// # Panics
    /// When no node has that port.
    pub fn node_mut(&mut self, port: u16) -> &mut RedisServer {
        self.nodes
            .iter_mut()
            .find(|n| n.port() == port)
            .expect("a node on that port")
    }

    fn masters_seen_by(&self, node: &RedisServer) -> Vec<u16> {
        let mut masters: Vec<u16> = node
            .cli(&["CLUSTER", "NODES"])
            .lines()
            .filter(|l| {
                let flags = l.split_whitespace().nth(2).unwrap_or("");
                flags.contains("master") && !flags.contains("fail")
            })
            .filter(|l| l.split_whitespace().count() > 8)
            .filter_map(|l| {
                let addr = l.split_whitespace().nth(1)?;
                addr.split(['@', ':']).nth(1)?.parse().ok()
            })
            .collect();
        masters.sort_unstable();
        masters
    }

    /// Ports of the masters that own slots, as seen by the first running node.
    ///
    /// # Panics
    /// When no node runs.
    #[must_use]
    pub fn master_ports(&self) -> Vec<u16> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.is_running())
            .expect("a running node");
        self.masters_seen_by(node)
    }

    /// Keys per master (`DBSIZE` of each master), by port.
    #[must_use]
    pub fn keys_per_master(&self) -> BTreeMap<u16, u64> {
        self.master_ports()
            .into_iter()
            .map(|port| {
                let n = cli(port, &["DBSIZE"]).trim().parse().unwrap_or(0);
                (port, n)
            })
            .collect()
    }
}
