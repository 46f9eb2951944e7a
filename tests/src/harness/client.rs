//! A minimal HTTP/1.1 client over one keep-alive TCP connection: enough to send `GET`s with a
//! cookie and read status, `Set-Cookie`, one custom header and a `Content-Length` body, with a
//! hard timeout so a hang shows up as a hang rather than a stuck test.

use std::{
    io::{self, Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

/// What a `Set-Cookie` for the session cookie did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieChange {
    /// A new value for the cookie.
    Set(String),
    /// The cookie was removed (empty value or `Max-Age=0`).
    Remove,
}

/// One response, as far as the harness needs it.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The session cookie's `Set-Cookie`, if any.
    pub cookie: Option<CookieChange>,
    /// The `x-found` header: the request's cookie named a session the store had.
    pub found: bool,
    /// The `x-epoch` header: the credential version a sign-in was bound to, or the one a
    /// log-out-everywhere moved its user to.
    pub epoch: Option<u64>,
    /// The body as text (lossy).
    pub body: String,
}

/// One connection to the server, reopened when the server closed it.
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    timeout: Duration,
    cookie_name: String,
    conn: Option<TcpStream>,
}

impl Client {
    /// A client for `addr`; every request must be answered within `timeout`.
    #[must_use]
    pub fn new(addr: SocketAddr, timeout: Duration, cookie_name: &str) -> Self {
        Self {
            addr,
            timeout,
            cookie_name: cookie_name.to_owned(),
            conn: None,
        }
    }

    /// Sends `GET path` with the session cookie `cookie` (raw value) if given.
    ///
    /// # Errors
    /// A timeout (`io::ErrorKind::WouldBlock`/`TimedOut`) or a broken connection; the
    /// connection is dropped then, and the request's effect is unknown.
    pub fn get(&mut self, path: &str, cookie: Option<&str>) -> io::Result<Response> {
        let result = self.try_get(path, cookie);
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    fn try_get(&mut self, path: &str, cookie: Option<&str>) -> io::Result<Response> {
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: {}={c}\r\n", self.cookie_name));
        }
        req.push_str("\r\n");
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                let conn = TcpStream::connect_timeout(&self.addr, self.timeout)?;
                conn.set_read_timeout(Some(self.timeout))?;
                conn.set_write_timeout(Some(self.timeout))?;
                conn.set_nodelay(true)?;
                self.conn.insert(conn)
            }
        };
        conn.write_all(req.as_bytes())?;
        read_response(conn, &self.cookie_name)
    }
}

fn read_response(conn: &mut TcpStream, cookie_name: &str) -> io::Result<Response> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;
    let mut length = 0usize;
    let mut cookie = None;
    let mut found = false;
    let mut epoch = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().unwrap_or(0),
            "x-found" => found = value == "1",
            "x-epoch" => epoch = value.parse().ok(),
            "set-cookie" => {
                let mut parts = value.split(';');
                let Some((n, v)) = parts.next().and_then(|p| p.split_once('=')) else {
                    continue;
                };
                if n.trim() != cookie_name {
                    continue;
                }
                let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
                cookie = Some(if v.is_empty() || expired {
                    CookieChange::Remove
                } else {
                    CookieChange::Set(v.to_owned())
                });
            }
            _ => {}
        }
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Response {
        status,
        cookie,
        found,
        epoch,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
