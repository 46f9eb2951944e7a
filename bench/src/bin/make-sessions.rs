//! Builds many distinct sessions on a running server and prints one `Cookie` header value per
//! session, for `scripts/bench`'s many-sessions rows (wrk then presents a different one on each
//! request).
//!
//! `make-sessions --port P --count N [--setup "/fill/64 /counter"] [--connections C]`
//!
//! Each session is built by GETting the setup paths in turn on a keep-alive connection, carrying
//! the latest `Set-Cookie`; every answer must be 2xx. Plain HTTP/1.1 over loopback with the
//! standard library only, so that it costs nothing to build.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::ExitCode,
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::Duration,
};

struct Options {
    port: u16,
    count: usize,
    setup: Vec<String>,
    connections: usize,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        count: 10_000,
        setup: vec!["/counter".to_owned()],
        connections: 8,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--port" => options.port = value.parse().map_err(|e| format!("--port: {e}"))?,
            "--count" => options.count = number()?,
            "--connections" => options.connections = number()?.max(1),
            "--setup" => options.setup = value.split_whitespace().map(str::to_owned).collect(),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if options.port == 0 || options.setup.is_empty() {
        return Err(
            "usage: make-sessions --port P --count N [--setup PATHS] [--connections C]".into(),
        );
    }
    Ok(options)
}

/// One keep-alive connection.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// GETs `path` with `cookie`; returns the `name=value` of a `Set-Cookie`, if any.
    fn get(&mut self, path: &str, cookie: &str) -> Result<Option<String>, String> {
        let cookie_line = if cookie.is_empty() {
            String::new()
        } else {
            format!("Cookie: {cookie}\r\n")
        };
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie_line}\r\n"
        )
        .map_err(|e| format!("write: {e}"))?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        let status = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        if !status.starts_with('2') {
            return Err(format!(
                "GET {path}: HTTP status line {:?}",
                line.trim_end()
            ));
        }
        let (mut length, mut set_cookie) = (0usize, None);
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value
                    .parse()
                    .map_err(|_| format!("bad content-length {value:?}"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(format!("GET {path}: chunked answers are not supported"));
            } else if name.eq_ignore_ascii_case("set-cookie") && set_cookie.is_none() {
                set_cookie = value.split(';').next().map(str::to_owned);
            }
        }
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
        Ok(set_cookie)
    }
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("make-sessions: {e}");
            return ExitCode::from(2);
        }
    };
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Vec<String>, String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..options.connections)
            .map(|_| {
                scope.spawn(|| {
                    let mut connection =
                        Connection::open(options.port).map_err(|e| e.to_string())?;
                    let mut cookies = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < options.count {
                        let mut cookie = String::new();
                        for path in &options.setup {
                            if let Some(set) = connection.get(path, &cookie)? {
                                cookie = set;
                            }
                        }
                        if cookie.is_empty() {
                            return Err(format!("the setup {:?} set no cookie", options.setup));
                        }
                        cookies.push(cookie);
                    }
                    Ok(cookies)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for result in results {
        match result {
            Ok(cookies) => {
                for cookie in cookies {
                    if writeln!(out, "{cookie}").is_err() {
                        return ExitCode::FAILURE;
                    }
                }
            }
            Err(e) => {
                eprintln!("make-sessions: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
