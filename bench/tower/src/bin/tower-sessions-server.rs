//! The bench-server routes on tower-sessions 0.14 and axum 0.8 (see `bench_tower::peer`), for
//! side-by-side measurements.
//!
//! Stores: `memory` (`MemoryStore`), `redis` (tower-sessions-redis-store on a fred pool of one
//! client per worker), `sqlite` (`--database PATH`, created if missing) and `postgres`
//! (`--database URL`), the last two through tower-sessions-sqlx-store on sqlx's default pools,
//! their tables made at start; SQLite with our SQLite store's durability (WAL,
//! `synchronous=NORMAL`). tower-sessions has no cookie or file store: those are refused
//! with exit status 2.

use bench_common::StoreKind;
use bench_tower::{peer, serve, Args};
use tower_sessions::MemoryStore;
use tower_sessions_redis_store::{fred::prelude::*, RedisStore};
use tower_sessions_sqlx_store::{
    sqlx::{
        postgres::PgPoolOptions,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
    PostgresStore, SqliteStore,
};

fn failed(what: &str, err: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{what}: {err}"))
}

fn database(args: &Args) -> std::io::Result<&str> {
    args.database
        .as_deref()
        .ok_or_else(|| failed("--store sqlite|postgres", "needs --database"))
}

async fn run(args: Args) -> std::io::Result<()> {
    let app = match args.store {
        StoreKind::Memory => peer::routes(MemoryStore::default(), &args),
        StoreKind::Redis => {
            let config = Config::from_url(&args.redis).map_err(|e| failed(&args.redis, e))?;
            let pool = Pool::new(config, None, None, None, args.workers)
                .map_err(|e| failed(&args.redis, e))?;
            pool.init().await.map_err(|e| failed(&args.redis, e))?;
            peer::routes(RedisStore::new(pool), &args)
        }
        StoreKind::Sqlite => {
            let path = database(&args)?;
            // The durability of our SQLite store (WAL, `synchronous=NORMAL`), not sqlx's
            // default `FULL`, which syncs on every commit: the rows compare session work.
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            let pool = SqlitePoolOptions::new()
                .connect_with(options)
                .await
                .map_err(|e| failed(path, e))?;
            let store = SqliteStore::new(pool);
            store.migrate().await.map_err(|e| failed(path, e))?;
            peer::routes(store, &args)
        }
        StoreKind::Postgres => {
            let url = database(&args)?;
            let pool = PgPoolOptions::new()
                .connect(url)
                .await
                .map_err(|e| failed(url, e))?;
            let store = PostgresStore::new(pool);
            store.migrate().await.map_err(|e| failed(url, e))?;
            peer::routes(store, &args)
        }
        other => {
            eprintln!("error: tower-sessions 0.14 has no {other} store");
            std::process::exit(2)
        }
    };
    serve(&args, app).await
}

fn main() -> std::io::Result<()> {
    let args = Args::from_env();
    bench_tower::runtime(&args)?.block_on(run(args))
}
