//! The model-checked concurrency harness on every store, and with store faults: 120 client
//! threads over real HTTP on 24 shared sessions (reading, writing, removing, renewing,
//! purging, signing in as 6 users and logging out everywhere), the history checked for lost
//! acknowledged writes, resurrected sessions (purged, renewed away, or ended by a
//! log-out-everywhere), 5xx outside faults and hangs. Faults: Redis restart and pause, cluster
//! failover, PostgreSQL restart and freeze, SQLite's write lock held elsewhere, a file or
//! SQLite server process killed. Seeds are printed;
//! `HARNESS_SEED` replays one, `HARNESS_SECS` lengthens each run (scripts/soak).

use std::{
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use actix_typed_session::{
    store::{
        ChangeSet, CookieStore, Entries, FileStore, Keys, MemoryStore, PostgresStore, RedisPool,
        RedisStore, SaveOutcome, SessionStore, SqliteStore, UserSession,
    },
    SessionId, SessionStorage, StoreError,
};
use session_tests::{
    harness::{self, server::Server, Clock, Config, Fault, Injector, Loss, Op, Tokens},
    postgres_server::PostgresServer,
    redis_server::{RedisCluster, RedisServer},
};

/// Store calls give up after this; a fault longer than it must turn into 503s, not hangs.
const STORE_TIMEOUT: Duration = Duration::from_millis(400);
/// After a fault ends, requests may still fail for this long (connections re-established).
const GRACE: Duration = Duration::from_secs(1);
const WORKERS: usize = 3;

fn fixed_seeds() -> Vec<u64> {
    harness::seeds(&[1])
}

/// Runs every seed against a fresh server on the server-side store `make` builds.
fn run_store<F, S>(name: &str, make: F)
where
    F: Fn() -> S + Send + Clone + 'static,
    S: Into<SessionStorage>,
{
    run_store_tokens(name, make, Tokens::Server);
}

/// [`run_store`] for sessions held as `tokens` say.
fn run_store_tokens<F, S>(name: &str, make: F, tokens: Tokens)
where
    F: Fn() -> S + Send + Clone + 'static,
    S: Into<SessionStorage>,
{
    for seed in fixed_seeds() {
        println!("{name}: seed {seed} (replay with HARNESS_SEED={seed})");
        let server = Server::start(WORKERS, make.clone());
        let (ops, faults) = harness::run(
            &[server.addr()],
            server.cookie_name(),
            &Config::short(seed),
            None,
        );
        harness::assert_run_tokens(name, seed, &ops, &faults, GRACE, tokens);
    }
}

fn redis_store(url: &str) -> RedisStore {
    let pool = RedisPool::builder(url)
        .response_timeout(STORE_TIMEOUT)
        .connect_timeout(STORE_TIMEOUT)
        .build()
        .unwrap();
    RedisStore::new(pool)
}

#[test]
fn harness_memory_store_keeps_every_acknowledged_write() {
    let store = MemoryStore::new();
    run_store("memory", move || store.clone());
}

/// The cookie store: no write is lost to the cookies it derives from one another, and a
/// log-out-everywhere (a new epoch for the user: the cookie store cannot list sessions) signs
/// out every cookie of the user signed in under an older epoch, replays of old cookies
/// included. A purged or renewed-away cookie still opens (nothing server-side can revoke a
/// sealed cookie), so those are not resurrections here.
#[test]
fn harness_cookie_store_keeps_every_write_and_log_out_everywhere_ends_old_epochs() {
    run_store_tokens("cookie", CookieStore::encrypted, Tokens::Sealed);
}

#[test]
fn harness_redis_store_keeps_every_acknowledged_write() {
    let redis = RedisServer::start();
    let url = redis.url();
    run_store("redis", move || redis_store(&url));
}

#[test]
fn harness_redis_cluster_store_keeps_every_acknowledged_write() {
    let cluster = RedisCluster::start(3, 0);
    let urls = cluster.urls();
    run_store("redis-cluster", move || {
        let pool = RedisPool::cluster_builder(urls.clone())
            .response_timeout(STORE_TIMEOUT)
            .build()
            .unwrap();
        RedisStore::new(pool)
    });
}

#[test]
fn harness_file_store_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    run_store("file", move || FileStore::new(&path).unwrap());
}

#[test]
fn harness_sqlite_store_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    run_store("sqlite", move || {
        SqliteStore::builder(&path)
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    });
}

#[test]
fn harness_postgres_store_keeps_every_acknowledged_write() {
    let pg = PostgresServer::start();
    let url = pg.url();
    // Under 120 clients a call may wait for one of the pool's connections: no tight timeout.
    run_store("postgres", move || {
        PostgresStore::builder(&url)
            .unwrap()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap()
    });
}

/// Runs one seed against a server on `make`, injecting `fault` after `first` and again 3 s
/// after each one ends, as long as `settle` of the run would remain after the next (once in
/// the short form, which lasts at least `least`; many times in a soak).
fn run_with_fault<F, S>(
    name: &str,
    make: F,
    loss: Loss,
    shape: (Duration, Duration, Duration),
    fault: impl FnMut() + Send + 'static,
) -> (Vec<Op>, Vec<Fault>)
where
    F: FnOnce() -> S + Send + 'static,
    S: Into<SessionStorage>,
{
    let server = Server::start(WORKERS, make);
    run_faulted(name, &[server.addr()], loss, shape, fault)
}

/// [`run_with_fault`] against running servers.
fn run_faulted(
    name: &str,
    addrs: &[std::net::SocketAddr],
    loss: Loss,
    (first, least, settle): (Duration, Duration, Duration),
    mut fault: impl FnMut() + Send + 'static,
) -> (Vec<Op>, Vec<Fault>) {
    let seed = *fixed_seeds().last().unwrap();
    println!("{name}: seed {seed} (replay with HARNESS_SEED={seed})");
    let mut config = Config::short(seed);
    config.duration = config.duration.max(least);
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap();
    let (total, settle) = (micros(config.duration), micros(settle));
    let label = name.to_owned();
    let inject: Injector = Box::new(move |clock: Clock| {
        let mut faults = Vec::new();
        thread::sleep(first);
        loop {
            let start = clock.now();
            fault();
            let end = clock.now();
            faults.push(Fault {
                name: label.clone(),
                start,
                end,
                loss,
            });
            // The next fault would take about as long as this one.
            if end + 3_000_000 + (end - start) + settle > total {
                return faults;
            }
            thread::sleep(Duration::from_secs(3));
        }
    });
    let (ops, faults) = harness::run(addrs, harness::server::COOKIE_NAME, &config, Some(inject));
    harness::assert_run(name, seed, &ops, &faults, GRACE);
    (ops, faults)
}

/// Requests after the fault (and its grace) were answered 200/404: the store recovered.
fn assert_recovered(ops: &[Op], faults: &[Fault]) {
    let after = faults.iter().map(|f| f.end).max().unwrap() + GRACE.as_micros() as u64;
    let later: Vec<&Op> = ops.iter().filter(|o| o.start > after).collect();
    assert!(
        later.iter().filter(|o| o.status == Some(200)).count() > 10,
        "too few successful requests after the fault: {}",
        later.len()
    );
}

/// Redis runs without persistence: a restart loses every session. Requests during the outage
/// get the opaque 503; afterwards every old cookie finds nothing (the checker treats the
/// restart as a purge of every earlier session and flags any that answers), new sessions
/// work, and no request fails.
#[test]
fn harness_redis_restart_loses_exactly_the_sessions_and_recovers() {
    let redis = Arc::new(Mutex::new(RedisServer::start()));
    let url = redis.lock().unwrap().url();
    let r = redis.clone();
    let (ops, faults) = run_with_fault(
        "redis restart",
        move || redis_store(&url),
        Loss::Everything,
        (
            Duration::from_millis(600),
            Duration::from_millis(2600),
            Duration::from_millis(1600),
        ),
        move || {
            let mut server = r.lock().unwrap();
            server.kill();
            thread::sleep(Duration::from_millis(300));
            server.restart();
        },
    );
    assert_recovered(&ops, &faults);
    let f = &faults[0];
    assert!(
        ops.iter()
            .any(|o| o.start > f.start && o.end < f.end && o.status == Some(503)),
        "no request failed while Redis was down"
    );
    // Every pre-restart cookie used after the restart found nothing.
    let old: std::collections::HashSet<&str> = ops
        .iter()
        .filter(|o| o.end < f.start)
        .filter_map(|o| o.cookie.as_deref())
        .collect();
    let reused = ops
        .iter()
        .filter(|o| o.start > f.end && o.cookie.as_deref().is_some_and(|c| old.contains(c)))
        .count();
    assert!(
        ops.iter()
            .filter(|o| o.start > f.end && o.cookie.as_deref().is_some_and(|c| old.contains(c)))
            .all(|o| !o.found),
        "an old session survived the restart"
    );
    println!("{reused} requests with pre-restart cookies after the restart, none found a session");
}

/// A Redis that stops answering (SIGSTOP) longer than the store timeout: requests fail with
/// the opaque 503 within the timeout, and after SIGCONT every acknowledged write is there.
#[test]
fn harness_redis_pause_fails_fast_and_loses_nothing() {
    let redis = Arc::new(Mutex::new(RedisServer::start()));
    let url = redis.lock().unwrap().url();
    let r = redis.clone();
    let (ops, faults) = run_with_fault(
        "redis pause",
        move || redis_store(&url),
        Loss::Nothing,
        (
            Duration::from_millis(600),
            Duration::from_millis(3000),
            Duration::from_millis(1600),
        ),
        move || {
            let server = r.lock().unwrap();
            server.pause();
            thread::sleep(STORE_TIMEOUT * 3);
            server.resume();
        },
    );
    assert_recovered(&ops, &faults);
    let failed: Vec<&Op> = ops.iter().filter(|o| o.status == Some(503)).collect();
    assert!(!failed.is_empty(), "the pause failed no request");
    // A load and a save may each wait out the store timeout, plus queueing on a busy machine.
    let slowest = failed.iter().map(|o| o.end - o.start).max().unwrap();
    println!(
        "{} requests failed during the pause, the slowest after {slowest} us",
        failed.len()
    );
    assert!(
        slowest < 3 * 2 * STORE_TIMEOUT.as_micros() as u64,
        "a request waited {slowest} us for a frozen Redis"
    );
}

/// PostgreSQL restarted mid-run (fast shutdown, same data): requests during the outage get
/// the opaque 503, nothing acknowledged is lost, and requests succeed afterwards.
#[test]
fn harness_postgres_restart_loses_nothing() {
    let pg = Arc::new(Mutex::new(PostgresServer::start()));
    let url = pg.lock().unwrap().url();
    let p = pg.clone();
    let make = move || {
        PostgresStore::builder(&url)
            .unwrap()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap()
    };
    let (ops, faults) = run_with_fault(
        "postgres restart",
        make,
        Loss::Nothing,
        (
            Duration::from_millis(600),
            Duration::from_millis(3000),
            Duration::from_millis(1600),
        ),
        move || {
            let mut server = p.lock().unwrap();
            server.stop();
            thread::sleep(Duration::from_millis(200));
            server.restart();
        },
    );
    assert_recovered(&ops, &faults);
}

/// The failed requests of a run with a stalled store: there are some, and each failed within
/// `bound` (a load and a save may each wait out the store timeout, plus queueing on a busy
/// machine), never hanging.
fn assert_failed_fast(what: &str, ops: &[Op], bound: Duration) {
    let failed: Vec<&Op> = ops.iter().filter(|o| o.status == Some(503)).collect();
    assert!(!failed.is_empty(), "{what} failed no request");
    let slowest = failed.iter().map(|o| o.end - o.start).max().unwrap();
    println!(
        "{} requests failed during {what}, the slowest after {slowest} us",
        failed.len()
    );
    assert!(
        slowest < u64::try_from(bound.as_micros()).unwrap(),
        "a request waited {slowest} us during {what}"
    );
}

/// The SQL stores' timeout in the slow-database runs: long enough for 120 clients taking
/// turns on the pool (or SQLite's write lock) when nothing is wrong.
const SQL_TIMEOUT: Duration = Duration::from_millis(800);
/// How the slow-database runs go: the database stalls after 0.6 s for twice the timeout,
/// and the run goes on for the grace and 1.6 s more (at least 5 s in all).
const SLOW_DATABASE: (Duration, Duration, Duration) = (
    Duration::from_millis(600),
    Duration::from_millis(5000),
    Duration::from_millis(1600),
);

/// A PostgreSQL that stops answering (SIGSTOP to its postmaster and every backend, by pid)
/// for twice the store timeout, as a database stalled on its disk: requests needing the
/// store fail with the opaque 503 within the timeout (never a hang, never a wrong 200), and
/// after SIGCONT every acknowledged write is there.
#[test]
fn harness_postgres_pause_fails_fast_and_loses_nothing() {
    let pg = Arc::new(Mutex::new(PostgresServer::start()));
    let url = pg.lock().unwrap().url();
    let p = pg.clone();
    let make = move || {
        PostgresStore::builder(&url)
            .unwrap()
            .timeout(SQL_TIMEOUT)
            .build()
            .unwrap()
    };
    let (ops, faults) = run_with_fault(
        "postgres pause",
        make,
        Loss::Nothing,
        SLOW_DATABASE,
        move || {
            let server = p.lock().unwrap();
            server.pause();
            thread::sleep(SQL_TIMEOUT * 2);
            server.resume();
        },
    );
    assert_recovered(&ops, &faults);
    assert_failed_fast("the pause", &ops, SQL_TIMEOUT * 4);
}

/// Holds SQLite's write lock on `db` from a second connection (the `sqlite3` shell, in its
/// own process: `BEGIN EXCLUSIVE`) for `hold`, as a slow writer elsewhere would.
///
/// # Panics
/// When `sqlite3` is missing (`apt-get install sqlite3`; scripts/test does) or does not get
/// the lock within 10 s.
fn hold_sqlite_write_lock(db: &std::path::Path, hold: Duration) {
    use std::{
        io::Write as _,
        process::{Command, Stdio},
    };
    let marker = db.with_extension("locked");
    let _ = std::fs::remove_file(&marker);
    let mut shell = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the SQLite fault needs the sqlite3 shell: apt-get install sqlite3");
    let mut stdin = shell.stdin.take().unwrap();
    // The marker file is written (and closed) once BEGIN EXCLUSIVE holds the lock.
    writeln!(
        stdin,
        ".timeout 10000\nBEGIN EXCLUSIVE;\n.output {}\n.print locked\n.output stdout",
        marker.display()
    )
    .unwrap();
    stdin.flush().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&marker).map_or(true, |m| m.trim() != "locked") {
        assert!(
            std::time::Instant::now() < deadline,
            "sqlite3 did not get the write lock"
        );
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(hold);
    writeln!(stdin, "COMMIT;\n.quit").unwrap();
    drop(stdin);
    let status = shell.wait().unwrap();
    assert!(status.success(), "sqlite3 failed: {status}");
}

/// A slow SQLite database: another connection holds the write lock (`BEGIN EXCLUSIVE`) for
/// twice the store timeout. Writes that cannot get the lock within the timeout fail with
/// the opaque 503 (never a hang, never a wrong 200); afterwards writes succeed again and every
/// acknowledged write is there.
#[test]
fn harness_sqlite_write_lock_held_elsewhere_fails_fast_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let path = db.clone();
    let make = move || {
        SqliteStore::builder(&path)
            .timeout(SQL_TIMEOUT)
            .build()
            .unwrap()
    };
    let (ops, faults) = run_with_fault(
        "sqlite write lock held",
        make,
        Loss::Nothing,
        SLOW_DATABASE,
        move || hold_sqlite_write_lock(&db, SQL_TIMEOUT * 2),
    );
    assert_recovered(&ops, &faults);
    assert_failed_fast("the held lock", &ops, SQL_TIMEOUT * 4);
    let f = &faults[0];
    let during = |o: &&Op| o.start > f.start && o.end < f.end;
    let reads = ops
        .iter()
        .filter(during)
        .filter(|o| o.kind == harness::Kind::Get && o.status.is_some_and(|s| s < 500))
        .count();
    println!("{reads} reads answered while the lock was held (WAL readers do not wait for it)");
}

/// A `harness-server` process (the harness's server on `store`, `file` or `sqlite`, at
/// `path`, users' epochs in the directory `epochs`) on `port` (0: any), and its address.
fn spawn_server(
    store: &str,
    path: &std::path::Path,
    epochs: &std::path::Path,
    port: u16,
) -> (std::process::Child, std::net::SocketAddr) {
    use std::{
        io::{BufRead as _, BufReader},
        process::{Command, Stdio},
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness-server"))
        .arg(store)
        .arg(path)
        .arg(port.to_string())
        .env("HARNESS_EPOCHS", epochs)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start harness-server");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().parse().expect("an address"))
}

/// Runs every seed against two `harness-server` processes on `store` at `path`, clients
/// spread over both.
fn run_two_processes(name: &str, store: &str, path: &std::path::Path) {
    let epochs = tempfile::tempdir().unwrap();
    let (children, addrs): (Vec<_>, Vec<_>) = (0..2)
        .map(|_| spawn_server(store, path, epochs.path(), 0))
        .unzip();
    for seed in fixed_seeds() {
        println!("{name}: seed {seed} (replay with HARNESS_SEED={seed})");
        let (ops, faults) = harness::run(
            &addrs,
            harness::server::COOKIE_NAME,
            &Config::short(seed),
            None,
        );
        harness::assert_run(name, seed, &ops, &faults, GRACE);
    }
    for mut c in children {
        drop(c.stdin.take());
        let _ = c.wait();
    }
}

/// Two processes (`harness-server`) on one directory, clients spread over both: the file
/// store's locks keep every acknowledged write across processes.
#[test]
fn harness_file_store_across_two_processes_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    run_two_processes("file, 2 processes", "file", dir.path());
}

/// Two processes (`harness-server`) on one SQLite database file, clients spread over both:
/// each save merges in one statement under SQLite's write lock, so every acknowledged write
/// is kept across processes.
#[test]
fn harness_sqlite_store_across_two_processes_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    run_two_processes(
        "sqlite, 2 processes",
        "sqlite",
        &dir.path().join("sessions.db"),
    );
}

/// One of two `harness-server` processes on `store` at `path` SIGKILLed mid-run (mid-write,
/// under this load) and started again on its port: its clients' requests fail while it is
/// down (no answer is the only answer a killed process gives), the other process serves on,
/// nothing acknowledged is lost, and no session is corrupted for the survivors.
fn kill_one_of_two(name: &str, store: &'static str, path: &std::path::Path) {
    let epochs = tempfile::tempdir().unwrap();
    let (a, addr_a) = spawn_server(store, path, epochs.path(), 0);
    let (b, addr_b) = spawn_server(store, path, epochs.path(), 0);
    let victim = Arc::new(Mutex::new(a));
    let v = victim.clone();
    let (path, epochs_dir) = (path.to_owned(), epochs.path().to_owned());
    let shape = (
        Duration::from_millis(600),
        Duration::from_millis(3000),
        Duration::from_millis(1600),
    );
    let (ops, faults) = run_faulted(name, &[addr_a, addr_b], Loss::Nothing, shape, move || {
        let mut child = v.lock().unwrap();
        child.kill().unwrap();
        let _ = child.wait();
        *child = spawn_server(store, &path, &epochs_dir, addr_a.port()).0;
    });
    assert_recovered(&ops, &faults);
    assert!(
        ops.iter().any(|o| o.error.is_some() && !o.hung),
        "no request saw the killed process"
    );
    for child in [&mut *victim.lock().unwrap(), &mut { b }] {
        drop(child.stdin.take());
        let _ = child.wait();
    }
}

/// The file store: a process killed mid-write leaves no torn session file (writes go to a
/// temp file renamed into place) and loses nothing acknowledged.
#[test]
fn harness_file_store_survives_a_process_killed_mid_write() {
    let dir = tempfile::tempdir().unwrap();
    kill_one_of_two("file, process SIGKILL", "file", dir.path());
}

/// SQLite in WAL mode: a commit is in the log before the call returns, so a process killed
/// mid-write (its transaction rolled back on the next open) loses nothing acknowledged, and
/// the survivor's writes go on.
#[test]
fn harness_sqlite_store_survives_a_process_killed_mid_write() {
    let dir = tempfile::tempdir().unwrap();
    kill_one_of_two(
        "sqlite, process SIGKILL",
        "sqlite",
        &dir.path().join("sessions.db"),
    );
}

/// A broken store for checking the checker: `MemoryStore` that, when `drop_every` is set,
/// skips every n-th save of an existing session yet answers `Saved` (a lost write), when
/// `forget_deletes` is set, ignores deletes (purged sessions live on), and when
/// `forget_logouts` is set, ends none of a user's sessions on log-out-everywhere yet answers
/// success.
#[derive(Debug, Clone, Default)]
struct Broken {
    inner: MemoryStore,
    saves: Arc<std::sync::atomic::AtomicUsize>,
    drop_every: Option<usize>,
    forget_deletes: bool,
    forget_logouts: bool,
}

impl SessionStore for Broken {
    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        self.inner.load(id, keys, refresh).await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        let n = self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !changes.is_new() && self.drop_every.is_some_and(|every| matches!(n % every, 0)) {
            return Ok(SaveOutcome::Saved);
        }
        self.inner.save(id, changes, ttl).await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.refresh(id, ttl).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        if self.forget_deletes {
            return Ok(());
        }
        self.inner.delete(id).await
    }

    async fn index_user_session(
        &self,
        user: &str,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<usize>, StoreError> {
        self.inner.index_user_session(user, id, ttl).await
    }

    async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        self.inner.user_sessions(user).await
    }

    async fn end_user_session(&self, user: &str, id: &SessionId) -> Result<bool, StoreError> {
        self.inner.end_user_session(user, id).await
    }

    async fn end_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        if self.forget_logouts {
            return Ok(0);
        }
        self.inner.end_user_sessions(user).await
    }
}

/// Runs `store`, broken (and without the epoch check, so a log-out-everywhere rests on the
/// store alone), until `caught` shows.
fn run_broken(store: Broken, caught: impl Fn(&harness::Report) -> bool) -> harness::Report {
    run_unchecked(store, Tokens::Server, true, caught)
}

/// Runs a fixed number of requests on a server without the epoch check (with or without
/// sign-ins), again with the next seed until `caught` shows.
fn run_unchecked<S>(
    store: S,
    tokens: Tokens,
    sign_ins: bool,
    caught: impl Fn(&harness::Report) -> bool,
) -> harness::Report
where
    S: Into<SessionStorage> + Clone + Send + 'static,
{
    // A fixed amount of work, not a time window, so a busy machine runs the same operations
    // (120 clients, 60 requests each: about 70 logs-out-everywhere and 140 purges). Which
    // interleavings meet the breakage still varies: runs (each with its own seed and server)
    // go on until it shows, at most BROKEN_RUNS of them, and the test checks the last one.
    const BROKEN_RUNS: u64 = 3;
    let mut seed = 7;
    loop {
        let server = Server::start_without_epoch_checks(WORKERS, {
            let store = store.clone();
            move || store
        });
        let mut config = Config::short(seed);
        config.requests = Some(60);
        if !sign_ins {
            config.users = 0;
        }
        let (ops, faults) = harness::run(&[server.addr()], server.cookie_name(), &config, None);
        let report = harness::check_tokens(&ops, &faults, 0, tokens);
        println!("{}", report.row(&format!("broken, seed {seed}")));
        if let Some(v) = report.violations.first() {
            println!("first violation, as the harness prints it:\n{v}");
        }
        if caught(&report) || seed >= 7 + BROKEN_RUNS - 1 {
            return report;
        }
        seed += 1;
    }
}

/// The harness is worth its silence: a store that acknowledges writes it dropped is caught.
#[test]
fn harness_catches_a_store_that_drops_acknowledged_writes() {
    // No sign-ins: without the epoch check, a renewal racing a log-out-everywhere may
    // legitimately leave a session alive (the race epochs close), which is not this breakage.
    let report = run_unchecked(
        Broken {
            drop_every: Some(10),
            ..Broken::default()
        },
        Tokens::Server,
        false,
        |report| report.lost_writes > 0,
    );
    assert!(report.lost_writes > 0, "{}", report.row("drops writes"));
    assert_eq!(report.resurrections, 0);
}

/// The harness is worth its silence: a store whose deletes do nothing lets purged and
/// renewed-away sessions answer, and is caught.
#[test]
fn harness_catches_a_store_that_resurrects_purged_sessions() {
    let report = run_broken(
        Broken {
            forget_deletes: true,
            ..Broken::default()
        },
        |report| report.resurrections > 0,
    );
    assert!(
        report.resurrections > 0,
        "{}",
        report.row("forgets deletes")
    );
}

/// The harness is worth its silence: a store whose log-out-everywhere ends nothing (yet
/// answers success) lets the user's other sessions answer, and is caught.
#[test]
fn harness_catches_a_store_whose_log_out_everywhere_leaves_sessions_alive() {
    let report = run_broken(
        Broken {
            forget_logouts: true,
            ..Broken::default()
        },
        |report| report.resurrections > 0,
    );
    assert!(
        report.resurrections > 0,
        "{}",
        report.row("forgets log-out-everywhere")
    );
    assert_eq!(
        report.lost_writes,
        0,
        "{}",
        report.row("forgets log-out-everywhere")
    );
}

/// The harness is worth its silence: without the epoch check, a log-out-everywhere cannot
/// revoke the user's other cookies on the cookie store (it keeps no list), and the old cookies
/// that answer afterwards are caught.
#[test]
fn harness_catches_cookies_that_outlive_log_out_everywhere_without_epochs() {
    let report = run_unchecked(CookieStore::encrypted(), Tokens::Sealed, true, |report| {
        report.resurrections > 0
    });
    assert!(
        report.resurrections > 0,
        "{}",
        report.row("cookie store, no epochs")
    );
    assert_eq!(
        report.lost_writes,
        0,
        "{}",
        report.row("cookie store, no epochs")
    );
}

/// A Redis Cluster master killed mid-run (3 masters with a replica each): its replica is
/// promoted, requests for its slots fail with the opaque 503 until the cluster is whole again,
/// and then succeed. Replication is asynchronous, so the promoted replica may lack what was
/// acknowledged in the last moments before the kill (writes, removals, purges): the checker
/// excuses exactly the changes that ended within 1 s before the kill or during the
/// failover, and holds everything older. The old master comes back as a replica.
#[test]
fn harness_redis_cluster_failover_loses_only_recent_changes_and_recovers() {
    let cluster = Arc::new(Mutex::new(RedisCluster::start(3, 1)));
    let urls = cluster.lock().unwrap().urls();
    let c = cluster.clone();
    let make = move || {
        let pool = RedisPool::cluster_builder(urls)
            .response_timeout(STORE_TIMEOUT)
            .connect_timeout(STORE_TIMEOUT)
            .build()
            .unwrap();
        RedisStore::new(pool)
    };
    let loss = Loss::Recent { before: 1_000_000 };
    let shape = (
        Duration::from_secs(3),
        Duration::from_secs(7),
        Duration::from_secs(2),
    );
    let (ops, faults) = run_with_fault("redis-cluster failover", make, loss, shape, move || {
        let mut cluster = c.lock().unwrap();
        let t = std::time::Instant::now();
        let port = cluster.master_ports()[0];
        let id = cluster
            .node_mut(port)
            .cli(&["CLUSTER", "MYID"])
            .trim()
            .to_owned();
        let replica: u16 = cluster.masters()[0]
            .cli(&["CLUSTER", "NODES"])
            .lines()
            .find(|l| l.split_whitespace().nth(3) == Some(id.as_str()))
            .and_then(|l| {
                l.split_whitespace()
                    .nth(1)?
                    .split([':', '@'])
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .expect("a replica of the master");
        cluster.node_mut(port).kill();
        // Here the replica would not promote itself on its own (seen: still a replica 30 s
        // after the kill): the operator's takeover, as after a lost master.
        let _ = cluster
            .node_mut(replica)
            .cli(&["CLUSTER", "FAILOVER", "TAKEOVER"]);
        // Failed over: the other nodes see a new master for its slots.
        let deadline = t + Duration::from_secs(30);
        while cluster.master_ports().contains(&port) || cluster.master_ports().len() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "no failover: {:?} {}",
                cluster.master_ports(),
                cluster.masters()[0].cli(&["CLUSTER", "NODES"])
            );
            thread::sleep(Duration::from_millis(50));
        }
        cluster.wait_until_ok(Duration::from_secs(30));
        let promoted = t.elapsed();
        // The old master comes back as a replica of the new one (for the next failover).
        cluster.node_mut(port).restart();
        cluster.wait_until_ok(Duration::from_secs(30));
        while !cluster.masters().iter().all(|m| {
            m.cli(&["INFO", "replication"])
                .contains("connected_slaves:1")
        }) {
            assert!(
                std::time::Instant::now() < deadline,
                "the old master did not rejoin"
            );
            thread::sleep(Duration::from_millis(50));
        }
        println!(
            "failover: promoted after {promoted:?}, rejoined after {:?}",
            t.elapsed()
        );
    });
    println!(
        "faults: {faults:?}, run until {:?}",
        ops.last().map(|o| o.end)
    );
    assert_recovered(&ops, &faults);
}
