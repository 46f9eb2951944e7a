//! The benchmark and black-box test server. See the "bench-server" section of DESIGN.md; its
//! routes are the library's `testing::routes`, which the in-process tests drive too:
//!
//! `bench-server --store memory|cookie|redis|redis-cluster|file|sqlite|postgres [--port 8080]
//! [--workers 1] [--redis redis://127.0.0.1:6379[,URL…]] [--dir PATH] [--database URL-or-PATH]
//! [--ttl SECONDS] [--refresh update|access|request] [--transport cookie|header]
//! [--import-actix-session cookie|redis --import-key-hex HEX] [--metrics]`
//!
//! `--metrics` (cargo feature `metrics`, on by default) serves `/metrics` in the Prometheus
//! text format.

use std::{process::ExitCode, time::Duration};

#[cfg(feature = "metrics")]
#[path = "../metrics.rs"]
mod metrics;

use actix_typed_session::{
    store::{
        self, CookieStore, FileStore, MemoryStore, PostgresStore, Pruner, RedisConfigError,
        RedisStore, SqliteStore,
    },
    testing, ActixSessionImport, CookieLifecycle, SessionMiddleware, SessionStorage, Transport,
    TtlRefresh,
};
use actix_web::{cookie::Key, App, HttpServer};

const USAGE: &str =
    "usage: bench-server --store memory|cookie|redis|redis-cluster|file|sqlite|postgres \
[--port 8080] [--workers 1] [--redis redis://127.0.0.1:6379[,URL...]] [--dir PATH] \
[--database URL-or-PATH] [--ttl SECONDS] [--refresh update|access|request] \
[--transport cookie|header] [--import-actix-session cookie|redis --import-key-hex HEX] \
[--metrics]";

/// How often the SQL stores delete expired rows.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

/// A fixed key, so restarts keep sessions valid. Never do this outside a benchmark.
const BENCH_KEY: &[u8; 64] = b"bench-server fixed key: fine for benchmarks, never in production";

#[derive(Debug)]
struct Args {
    store: String,
    port: u16,
    workers: usize,
    redis: String,
    dir: Option<String>,
    database: Option<String>,
    ttl: Option<Duration>,
    refresh: TtlRefresh,
    transport: Transport,
    /// The actix-session store to import from (`cookie` or `redis`), and its key's hex.
    import: Option<String>,
    import_key_hex: Option<String>,
    /// Serve `/metrics`.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    metrics: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        store: String::new(),
        port: 8080,
        workers: 1,
        redis: "redis://127.0.0.1:6379".into(),
        dir: None,
        database: None,
        ttl: None,
        refresh: TtlRefresh::OnUpdate,
        transport: Transport::Cookie,
        import: None,
        import_key_hex: None,
        metrics: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--store" => args.store = value()?,
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--workers" => {
                args.workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?;
            }
            "--redis" => args.redis = value()?,
            "--dir" => args.dir = Some(value()?),
            "--database" => args.database = Some(value()?),
            "--ttl" => {
                let secs: u64 = value()?.parse().map_err(|e| format!("--ttl: {e}"))?;
                args.ttl = Some(Duration::from_secs(secs));
            }
            "--refresh" => {
                args.refresh = match value()?.as_str() {
                    "update" => TtlRefresh::OnUpdate,
                    "access" => TtlRefresh::OnAccess,
                    "request" => TtlRefresh::OnEveryRequest,
                    other => return Err(format!("--refresh: unknown policy {other:?}")),
                };
            }
            "--transport" => {
                args.transport = match value()?.as_str() {
                    "cookie" => Transport::Cookie,
                    // The token in `X-Session` requests and responses; no cookies.
                    "header" => Transport::header(),
                    other => return Err(format!("--transport: unknown transport {other:?}")),
                };
            }
            "--import-actix-session" => args.import = Some(value()?),
            "--import-key-hex" => args.import_key_hex = Some(value()?),
            "--metrics" if cfg!(feature = "metrics") => args.metrics = true,
            "--metrics" => return Err("--metrics: built without the `metrics` feature".into()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.store.is_empty() {
        return Err("--store is required".into());
    }
    if args.import.is_some() != args.import_key_hex.is_some() {
        return Err("--import-actix-session and --import-key-hex go together".into());
    }
    Ok(args)
}

/// The store, and the pruning task of a SQL store (which runs while it is kept).
fn storage(args: &Args) -> Result<(SessionStorage, Option<Pruner>), String> {
    let database = || {
        args.database
            .as_deref()
            .ok_or_else(|| format!("--store {} needs --database", args.store))
    };
    let pruning = |started: std::io::Result<Pruner>| {
        started.map_err(|e| format!("cannot start pruning: {e}"))
    };
    match args.store.as_str() {
        "sqlite" => {
            let store = SqliteStore::open(database()?).map_err(|e| format!("--database: {e}"))?;
            let pruner = pruning(store::start_pruning(&store, PRUNE_EVERY))?;
            Ok((store.into(), Some(pruner)))
        }
        "postgres" => {
            let store = PostgresStore::open(database()?).map_err(|e| format!("--database: {e}"))?;
            let pruner = pruning(store::start_pruning(&store, PRUNE_EVERY))?;
            Ok((store.into(), Some(pruner)))
        }
        _ => other_storage(args).map(|storage| (storage, None)),
    }
}

fn other_storage(args: &Args) -> Result<SessionStorage, String> {
    match args.store.as_str() {
        "memory" => Ok(MemoryStore::new().into()),
        "cookie" => Ok(CookieStore::encrypted().into()),
        "redis" => RedisStore::open(&args.redis)
            .map(Into::into)
            .map_err(redis_config),
        "redis-cluster" => RedisStore::open_cluster(args.redis.split(',').map(str::trim))
            .map(Into::into)
            .map_err(redis_config),
        "file" => {
            let dir = args.dir.as_deref().ok_or("--store file needs --dir PATH")?;
            let store = FileStore::new(dir).map_err(|e| match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            })?;
            Ok(store.into())
        }
        other => Err(format!("store {other:?} is not available in this build")),
    }
}

fn redis_config(err: RedisConfigError) -> String {
    match std::error::Error::source(&err) {
        Some(cause) => format!("--redis: {err}: {cause}"),
        None => format!("--redis: {err}"),
    }
}

/// The actix-session bridge of `--import-actix-session`, with its app's default settings
/// (cookie `id`, private cookies, Redis keys without prefix at `--redis`).
fn import(args: &Args) -> Result<Option<ActixSessionImport>, String> {
    let (Some(source), Some(hex)) = (&args.import, &args.import_key_hex) else {
        return Ok(None);
    };
    let bytes = decode_hex(hex).ok_or("--import-key-hex: not hexadecimal")?;
    if bytes.len() != 64 {
        return Err(format!(
            "--import-key-hex: {} bytes, a key is 64",
            bytes.len()
        ));
    }
    let key = Key::from(&bytes);
    match source.as_str() {
        "cookie" => Ok(Some(ActixSessionImport::cookie_store(key))),
        "redis" => {
            let url = args.redis.split(',').next().unwrap_or_default();
            let client = actix_typed_session::redis::Client::open(url)
                .map_err(|e| format!("--redis: {e}"))?;
            Ok(Some(ActixSessionImport::redis(key, client)))
        }
        other => Err(format!("--import-actix-session: unknown store {other:?}")),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            if !err.is_empty() {
                eprintln!("bench-server: {err}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match actix_web::rt::System::new().block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-server: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let (store, _pruner) = storage(&args)?;
    let import = import(&args)?;
    let mut builder = SessionMiddleware::builder(store, Key::from(BENCH_KEY))
        .cookie_secure(false)
        .refresh(args.refresh)
        .transport(args.transport.clone());
    if let Some(ttl) = args.ttl {
        builder = builder
            .ttl(ttl)
            .cookie_lifecycle(CookieLifecycle::Persistent);
    }
    if let Some(import) = import {
        builder = builder.import_actix_session(import);
    }
    let middleware = builder.build();
    #[cfg(feature = "metrics")]
    let exporter = args.metrics.then(metrics::install).transpose()?;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .configure(testing::routes)
            .configure(|cfg| {
                #[cfg(feature = "metrics")]
                if let Some(handle) = &exporter {
                    metrics::routes(handle.clone())(cfg);
                }
                #[cfg(not(feature = "metrics"))]
                let _ = cfg;
            })
    })
    .workers(args.workers)
    .bind(("127.0.0.1", args.port))
    .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    println!(
        "bench-server ({}) listening on http://127.0.0.1:{}",
        args.store, args.port
    );
    server.run().await.map_err(|e| e.to_string())
}
