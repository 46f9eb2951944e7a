//! The model-checked concurrency harness on every store, and with store faults: 120 client
//! threads over real HTTP on 24 shared sessions, the history checked for lost acknowledged
//! writes, resurrected sessions, 5xx outside faults and hangs. Seeds are printed;
//! `HARNESS_SEED` replays one, `HARNESS_SECS` lengthens each run (scripts/soak).

use std::{
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use session::{
    store::{
        ChangeSet, Entries, FileStore, Keys, MemoryStore, PostgresStore, RedisPool, RedisStore,
        SaveOutcome, SessionStore, SqliteStore,
    },
    SessionId, SessionStorage, StoreError,
};
use session_tests::{
    harness::{self, server::Server, Clock, Config, Fault, Injector, Op},
    postgres_server::PostgresServer,
    redis_server::{RedisCluster, RedisServer},
};

/// Store calls give up after this; a fault longer than it must turn into 500s, not hangs.
const STORE_TIMEOUT: Duration = Duration::from_millis(400);
/// After a fault ends, requests may still fail for this long (connections re-established).
const GRACE: Duration = Duration::from_secs(1);
const WORKERS: usize = 3;

fn fixed_seeds() -> Vec<u64> {
    harness::seeds(&[1])
}

/// Runs every seed against a fresh server on the store `make` builds.
fn run_store<F, S>(name: &str, make: F)
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
        harness::assert_run(name, seed, &ops, &faults, GRACE);
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

/// Runs one seed against a server on `make`, injecting `fault` after 0.6 s and then every
/// 3 s while at least 2 s of the run remain (once in the short form, many times in a soak).
fn run_with_fault<F, S>(
    name: &str,
    make: F,
    wipes: bool,
    mut fault: impl FnMut() + Send + 'static,
) -> (Vec<Op>, Vec<Fault>)
where
    F: FnOnce() -> S + Send + 'static,
    S: Into<SessionStorage>,
{
    let seed = *fixed_seeds().last().unwrap();
    println!("{name}: seed {seed} (replay with HARNESS_SEED={seed})");
    let server = Server::start(WORKERS, make);
    let mut config = Config::short(seed);
    config.duration = config.duration.max(Duration::from_millis(2600));
    let until = u64::try_from(config.duration.as_micros()).unwrap() - 2_000_000;
    let label = name.to_owned();
    let inject: Injector = Box::new(move |clock: Clock| {
        let mut faults = Vec::new();
        thread::sleep(Duration::from_millis(600));
        loop {
            let start = clock.now();
            fault();
            faults.push(Fault {
                name: label.clone(),
                start,
                end: clock.now(),
                wipes,
            });
            thread::sleep(Duration::from_secs(3));
            if clock.now() > until {
                return faults;
            }
        }
    });
    let (ops, faults) = harness::run(
        &[server.addr()],
        server.cookie_name(),
        &config,
        Some(inject),
    );
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
/// get the opaque 500; afterwards every old cookie finds nothing (the checker treats the
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
        true,
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
            .any(|o| o.start > f.start && o.end < f.end && o.status == Some(500)),
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
/// the opaque 500 within the timeout, and after SIGCONT every acknowledged write is there.
#[test]
fn harness_redis_pause_fails_fast_and_loses_nothing() {
    let redis = Arc::new(Mutex::new(RedisServer::start()));
    let url = redis.lock().unwrap().url();
    let r = redis.clone();
    let (ops, faults) = run_with_fault(
        "redis pause",
        move || redis_store(&url),
        false,
        move || {
            let server = r.lock().unwrap();
            server.pause();
            thread::sleep(STORE_TIMEOUT * 3);
            server.resume();
        },
    );
    assert_recovered(&ops, &faults);
    let failed: Vec<&Op> = ops.iter().filter(|o| o.status == Some(500)).collect();
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
/// the opaque 500, nothing acknowledged is lost, and requests succeed afterwards.
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
    let (ops, faults) = run_with_fault("postgres restart", make, false, move || {
        let mut server = p.lock().unwrap();
        server.stop();
        thread::sleep(Duration::from_millis(200));
        server.restart();
    });
    assert_recovered(&ops, &faults);
}

/// Two processes (`harness-server`) on one directory, clients spread over both: the file
/// store's locks keep every acknowledged write across processes.
#[test]
fn harness_file_store_across_two_processes_keeps_every_acknowledged_write() {
    use std::{
        io::{BufRead as _, BufReader},
        process::{Command, Stdio},
    };
    let dir = tempfile::tempdir().unwrap();
    let mut children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_harness-server"))
                .arg(dir.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start harness-server")
        })
        .collect();
    let addrs: Vec<std::net::SocketAddr> = children
        .iter_mut()
        .map(|c| {
            let mut line = String::new();
            BufReader::new(c.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            line.trim().parse().expect("an address")
        })
        .collect();
    for seed in fixed_seeds() {
        println!("file, two processes: seed {seed} (replay with HARNESS_SEED={seed})");
        let (ops, faults) = harness::run(
            &addrs,
            session::DEFAULT_COOKIE_NAME,
            &Config::short(seed),
            None,
        );
        harness::assert_run("file, 2 processes", seed, &ops, &faults, GRACE);
    }
    for mut c in children {
        drop(c.stdin.take());
        let _ = c.wait();
    }
}

/// A broken store for checking the checker: `MemoryStore` that, when `drop_every` is set,
/// skips every n-th save of an existing session yet answers `Saved` (a lost write), and when
/// `forget_deletes` is set, ignores deletes (purged sessions live on).
#[derive(Debug, Clone)]
struct Broken {
    inner: MemoryStore,
    saves: Arc<std::sync::atomic::AtomicUsize>,
    drop_every: Option<usize>,
    forget_deletes: bool,
}

impl Broken {
    fn new(drop_every: Option<usize>, forget_deletes: bool) -> Self {
        Self {
            inner: MemoryStore::new(),
            saves: Arc::default(),
            drop_every,
            forget_deletes,
        }
    }
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
}

fn run_broken(store: Broken) -> harness::Report {
    let server = Server::start(WORKERS, move || store);
    let mut config = Config::short(7);
    config.duration = config.duration.min(Duration::from_millis(800));
    let (ops, faults) = harness::run(&[server.addr()], server.cookie_name(), &config, None);
    let report = harness::check(&ops, &faults, 0);
    println!("{}", report.row("broken"));
    if let Some(v) = report.violations.first() {
        println!("first violation, as the harness prints it:\n{v}");
    }
    report
}

/// The harness is worth its silence: a store that acknowledges writes it dropped is caught.
#[test]
fn harness_catches_a_store_that_drops_acknowledged_writes() {
    let report = run_broken(Broken::new(Some(10), false));
    assert!(report.lost_writes > 0, "{}", report.row("drops writes"));
    assert_eq!(report.resurrections, 0);
}

/// The harness is worth its silence: a store whose deletes do nothing lets purged and
/// renewed-away sessions answer, and is caught.
#[test]
fn harness_catches_a_store_that_resurrects_purged_sessions() {
    let report = run_broken(Broken::new(None, true));
    assert!(
        report.resurrections > 0,
        "{}",
        report.row("forgets deletes")
    );
}
