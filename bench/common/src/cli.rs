//! The command line shared with our `bench-server`.

use std::{fmt, time::Duration};

/// Which session store to serve with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreKind {
    /// Server-side, in process memory.
    Memory,
    /// Client-side, in the cookie.
    Cookie,
    /// Server-side, in Redis.
    Redis,
    /// Server-side, in files.
    File,
    /// Server-side, in an SQLite database (`--database PATH`).
    Sqlite,
    /// Server-side, in PostgreSQL (`--database URL`).
    Postgres,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Cookie => "cookie",
            Self::Redis => "redis",
            Self::File => "file",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// When the session TTL is pushed forward (`--refresh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Refresh {
    /// When the session changes (the default).
    #[default]
    Update,
    /// Also when a handler reads the session.
    Access,
    /// On every request with a session cookie.
    Request,
}

/// A command line that could not be understood.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// An option the servers do not know.
    #[error("unknown option `{0}`")]
    Unknown(String),
    /// An option given without its value.
    #[error("option `{0}` needs a value")]
    MissingValue(String),
    /// An option whose value is not one of those accepted.
    #[error("bad value `{value}` for `{option}`: expected {expected}")]
    BadValue {
        /// The option.
        option: String,
        /// What was given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// `--store` was not given.
    #[error("`--store memory|cookie|redis|file|sqlite|postgres` is required")]
    NoStore,
}

/// `--store memory|cookie|redis|file|sqlite|postgres [--port 8080] [--workers 1]
/// [--redis redis://127.0.0.1:6379] [--dir PATH] [--database PATH-or-URL] [--ttl SECONDS]
/// [--refresh update|access|request]`
///
/// Each server serves the stores its library has and refuses the others (exit status 2).
#[derive(Debug, Clone)]
pub struct Args {
    /// `--store`.
    pub store: StoreKind,
    /// `--port`, 8080 by default.
    pub port: u16,
    /// `--workers`, 1 by default.
    pub workers: usize,
    /// `--redis`, `redis://127.0.0.1:6379` by default.
    pub redis: String,
    /// `--dir`, for the file store.
    pub dir: Option<String>,
    /// `--database`: a file path for `sqlite`, a connection URL for `postgres`.
    pub database: Option<String>,
    /// `--ttl`: the session TTL, and a persistent cookie.
    pub ttl: Option<Duration>,
    /// `--refresh`.
    pub refresh: Refresh,
}

impl Args {
    /// Parses the options (without the program name).
    ///
    /// ```
    /// let args = bench_common::Args::parse(["--store", "redis", "--port", "9000"].map(String::from))?;
    /// assert_eq!(args.port, 9000);
    /// assert!(bench_common::Args::parse(["--store", "disk"].map(String::from)).is_err());
    /// let args = bench_common::Args::parse(["--store", "sqlite", "--database", "s.db"].map(String::from))?;
    /// assert_eq!(args.database.as_deref(), Some("s.db"));
    /// # Ok::<(), bench_common::CliError>(())
    /// ```
    ///
    /// # Errors
    /// [`CliError`] for an unknown option, a missing or bad value, or no `--store`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, CliError> {
        let mut store = None;
        let mut parsed = Self {
            store: StoreKind::Memory,
            port: 8080,
            workers: 1,
            redis: "redis://127.0.0.1:6379".to_owned(),
            dir: None,
            database: None,
            ttl: None,
            refresh: Refresh::Update,
        };
        let mut args = args.into_iter();
        while let Some(option) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| CliError::MissingValue(option.clone()))?;
            let bad = |expected| CliError::BadValue {
                option: option.clone(),
                value: value.clone(),
                expected,
            };
            match option.as_str() {
                "--store" => {
                    store = Some(match value.as_str() {
                        "memory" => StoreKind::Memory,
                        "cookie" => StoreKind::Cookie,
                        "redis" => StoreKind::Redis,
                        "file" => StoreKind::File,
                        "sqlite" => StoreKind::Sqlite,
                        "postgres" => StoreKind::Postgres,
                        _ => return Err(bad("memory, cookie, redis, file, sqlite or postgres")),
                    });
                }
                "--port" => parsed.port = value.parse().map_err(|_| bad("a port number"))?,
                "--workers" => {
                    parsed.workers = match value.parse() {
                        Ok(n) if n > 0 => n,
                        _ => return Err(bad("a positive number")),
                    };
                }
                "--redis" => parsed.redis = value,
                "--dir" => parsed.dir = Some(value),
                "--database" => parsed.database = Some(value),
                "--ttl" => {
                    let secs = value.parse().map_err(|_| bad("a number of seconds"))?;
                    parsed.ttl = Some(Duration::from_secs(secs));
                }
                "--refresh" => {
                    parsed.refresh = match value.as_str() {
                        "update" => Refresh::Update,
                        "access" => Refresh::Access,
                        "request" => Refresh::Request,
                        _ => return Err(bad("update, access or request")),
                    };
                }
                _ => return Err(CliError::Unknown(option)),
            }
        }
        parsed.store = store.ok_or(CliError::NoStore)?;
        Ok(parsed)
    }

    /// Parses the process's own command line, or prints the error and exits with status 2.
    #[must_use]
    pub fn from_env() -> Self {
        Self::parse(std::env::args().skip(1)).unwrap_or_else(|err| {
            eprintln!("error: {err}");
            std::process::exit(2)
        })
    }
}
