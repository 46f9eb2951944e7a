//! End to end in a real browser: headless Chromium, driven through Debian's `chromedriver` by
//! the `fantoccini` WebDriver client, against the `counter` and `shop` examples started as
//! processes on free loopback ports.
//!
//! Each test starts its own chromedriver (in a process group of its own, so the browsers it
//! starts go with it) and its own app, bounds every wait and the whole test in time, and kills
//! what it started by pid when it ends, failed or not. Without `chromium` and `chromedriver` the
//! tests fail, saying how to install them; they are never skipped.
//!
//! `UPDATE_SCREENSHOT=1` writes the cart page's screenshot to `docs/shop.png` (shown in the
//! README); otherwise it goes to a temporary directory and is only checked.

mod support;

use std::{
    error::Error,
    fs,
    future::Future,
    net::TcpStream,
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use fantoccini::{wd::TimeoutConfiguration, Client, ClientBuilder, Locator};
use rustix::process::{kill_process_group, Pid, Signal};
use serde_json::json;

type Outcome = Result<(), Box<dyn Error>>;

/// Any one wait for an element or a page.
const WAIT: Duration = Duration::from_secs(15);
/// A whole test, browser starts included.
const TEST: Duration = Duration::from_secs(150);

/// Runs a test body within [`TEST`]; on timeout the body is dropped, and its guards with it.
async fn bounded(body: impl Future<Output = Outcome>) -> Outcome {
    tokio::time::timeout(TEST, body)
        .await
        .map_err(|_| format!("the test took over {TEST:?}"))?
}

/// An executable on `PATH`, or a failure saying how to get it.
fn installed(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH: the browser tests need Chromium and its driver \
                 (`apt-get install chromium chromium-driver`; scripts/test installs them)"
            )
        })
}

/// A process this test started, leading a process group of its own: dropping it kills the whole
/// group (chromedriver and every browser process it started) and reaps the leader.
struct Started {
    child: Child,
    what: &'static str,
    log: PathBuf,
}

impl Started {
    fn spawn(mut command: Command, what: &'static str, log: PathBuf) -> Self {
        let out = fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} did not start: {e}"));
        Self { child, what, log }
    }

    /// Waits until the process accepts connections on `port`.
    fn await_port(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs::read_to_string(&self.log).unwrap_or_default();
                panic!("{} exited with {status}: {log}", self.what);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen within 20 s",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        // The group's id is the leader's pid (`process_group(0)`).
        let group = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw);
        if let Some(group) = group {
            let _ = kill_process_group(group, Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An example app on a free port, with its output in a temporary directory.
struct App {
    _process: Started,
    url: String,
    _dir: tempfile::TempDir,
}

impl App {
    fn start(bin: &str, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = support::free_port();
        let mut command = Command::new(bin);
        command.args(args).env("PORT", port.to_string());
        let mut process = Started::spawn(command, "the app", dir.path().join("app.log"));
        process.await_port(port);
        Self {
            _process: process,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn shop(args: &[&str]) -> Self {
        Self::start(env!("CARGO_BIN_EXE_shop"), args)
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// Held by each [`Driver`]: under `cargo test`, whose tests share a process, browsers start one
/// at a time too (nextest runs this suite serially through its `browser` test group).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A chromedriver on a free port; [`Driver::browser`] opens headless Chromium windows.
/// Fields drop in order: the process group goes before its temporary directory and the lock.
struct Driver {
    process: Started,
    url: String,
    chromium: PathBuf,
    dir: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Driver {
    fn start() -> Self {
        // A test that failed while holding the lock poisoned it; the next may still run.
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let chromium = installed("chromium");
        let dir = tempfile::tempdir().unwrap();
        let port = support::free_port();
        let mut command = Command::new(installed("chromedriver"));
        command.arg(format!("--port={port}"));
        let mut process = Started::spawn(command, "chromedriver", dir.path().join("driver.log"));
        process.await_port(port);
        Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            dir,
            _turn: turn,
        }
    }

    /// A new browser with its own fresh profile, or with `profile` (kept across browsers).
    async fn browser(&self, profile: Option<&Path>) -> Result<Client, Box<dyn Error>> {
        let mut args = vec![
            "--headless=new".to_owned(),
            // Root in a container: no sandbox, and a small /dev/shm.
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            "--password-store=basic".to_owned(),
            "--window-size=960,720".to_owned(),
        ];
        if let Some(profile) = profile {
            args.push(format!("--user-data-dir={}", profile.display()));
        }
        let capabilities = json!({
            "goog:chromeOptions": { "binary": self.chromium, "args": args },
            "timeouts": { "pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64 },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        let connect = builder.capabilities(capabilities).connect(&self.url);
        let client = tokio::time::timeout(WAIT * 2, connect)
            .await
            .map_err(|_| "Chromium did not start within 30 s")?
            .map_err(|e| format!("{e}; chromedriver said: {}", self.log()))?;
        client
            .update_timeouts(TimeoutConfiguration::new(Some(WAIT), Some(WAIT), None))
            .await?;
        Ok(client)
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.process.log).unwrap_or_default()
    }

    /// A directory for a browser profile, removed with the driver.
    fn profile_dir(&self) -> PathBuf {
        let profile = self.dir.path().join("profile");
        fs::create_dir_all(&profile).unwrap();
        profile
    }
}

/// The text of the first element matching `css`, waiting for it up to [`WAIT`].
async fn text(c: &Client, css: &str) -> Result<String, Box<dyn Error>> {
    Ok(find(c, css).await?.text().await?)
}

/// The first element matching `css`, waiting for it up to [`WAIT`].
async fn find(c: &Client, css: &str) -> Result<fantoccini::elements::Element, Box<dyn Error>> {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(found) => Ok(found),
        Err(err) => {
            let url = c.current_url().await.map(String::from).unwrap_or_default();
            Err(format!("no `{css}` on {url} within {WAIT:?}: {err}").into())
        }
    }
}

/// Clicks the first element matching `css`, waiting for it up to [`WAIT`].
async fn click(c: &Client, css: &str) -> Outcome {
    Ok(find(c, css).await?.click().await?)
}

/// Clicks a form's button and waits (up to [`WAIT`]) until the page it leads to has loaded, so
/// nothing is read from the page that is being left.
async fn submit(c: &Client, css: &str) -> Outcome {
    c.execute("window.leaving = true;", vec![]).await?;
    click(c, css).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        // An error here is a script run while the page changed: try again.
        let loaded = c
            .execute(
                "return !window.leaving && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if loaded.is_ok_and(|loaded| loaded == json!(true)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("clicking {css} loaded no new page within {WAIT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the page has an element matching `css` now (no waiting).
async fn has(c: &Client, css: &str) -> Result<bool, Box<dyn Error>> {
    Ok(!c.find_all(Locator::Css(css)).await?.is_empty())
}

/// Signs in on the shop's form, ticking "remember me" if asked, and checks the greeting.
async fn sign_in(c: &Client, app: &App, name: &str, remember: bool) -> Outcome {
    c.goto(&app.at("/login")).await?;
    find(c, "#name").await?.send_keys(name).await?;
    if remember {
        click(c, "#remember").await?;
    }
    submit(c, "#log-in").await?;
    assert_eq!(text(c, "#user").await?, name, "signed in");
    Ok(())
}

/// The session cookie the browser holds for the app, if any.
async fn session_cookie(
    c: &Client,
) -> Result<Option<fantoccini::cookies::Cookie<'static>>, Box<dyn Error>> {
    let cookies = c.get_all_cookies().await?;
    Ok(cookies.into_iter().find(|c| c.name() == "session"))
}

/// Starts a chromedriver and one browser for `app`, runs `test` within [`TEST`], then quits the
/// browser.
async fn in_a_browser(app: App, test: impl AsyncFnOnce(&Client, &App) -> Outcome) -> Outcome {
    let driver = Driver::start();
    bounded(async {
        let c = driver.browser(None).await?;
        test(&c, &app).await?;
        c.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn counter_counts_across_reloads() -> Outcome {
    in_a_browser(
        App::start(env!("CARGO_BIN_EXE_counter"), &[]),
        async |c, app| {
            c.goto(&app.at("/")).await?;
            for visit in 1..=3 {
                if visit > 1 {
                    c.refresh().await?;
                }
                let body = text(c, "body").await?;
                let expected = format!("You have visited this page {visit} time(s).");
                assert_eq!(body.trim(), expected);
            }
            Ok(())
        },
    )
    .await
}

#[tokio::test]
async fn shop_signs_in_keeps_the_cart_flashes_once_and_signs_out() -> Outcome {
    in_a_browser(App::shop(&[]), async |c, app| {
        c.goto(&app.at("/")).await?;
        assert!(has(c, "#sign-in").await?, "a guest is offered to sign in");
        submit(c, "#add-1").await?;
        submit(c, "#add-4").await?;
        assert_eq!(text(c, ".flash").await?, "Teapot is in your cart.");
        assert_eq!(text(c, "#count").await?, "2");

        sign_in(c, app, "ada", false).await?;
        assert_eq!(text(c, ".flash.success").await?, "Welcome, ada!");
        c.refresh().await?;
        assert_eq!(text(c, "#user").await?, "ada", "still signed in");
        assert!(!has(c, ".flash").await?, "a flash message is shown once");
        assert_eq!(
            text(c, "#count").await?,
            "2",
            "the guest's cart moved along"
        );

        c.goto(&app.at("/cart")).await?;
        let note = find(c, "#note").await?;
        note.send_keys("Ring twice, please.").await?;
        submit(c, "#save-note").await?;
        assert_eq!(text(c, ".flash").await?, "Note saved.");
        screenshot(c).await?;
        c.refresh().await?;
        let items = text(c, "#items").await?;
        assert!(
            items.contains("Green tea") && items.contains("Teapot") && items.contains("€33.50"),
            "the cart survives reloads: {items}"
        );

        // A note that would break out of its textarea, were it not escaped.
        let note = "</textarea><b id=\"injected\">ring twice</b>";
        find(c, "#note").await?.clear().await?;
        find(c, "#note").await?.send_keys(note).await?;
        submit(c, "#save-note").await?;
        let shown = find(c, "#note").await?.prop("value").await?;
        assert_eq!(shown.as_deref(), Some(note), "the note, as text");
        assert!(!has(c, "#injected").await?, "no markup from the note");

        let signed_in = session_cookie(c).await?.ok_or("a session cookie")?;
        submit(c, "nav form button").await?;
        assert!(has(c, "#sign-in").await?, "signed out");
        assert_eq!(
            text(c, "#count").await?,
            "0",
            "the cart went with the session"
        );
        // The shop's forms need a CSRF token, kept in a fresh session: never the old one.
        let now = session_cookie(c).await?.map(|c| c.value().to_owned());
        assert_ne!(
            now.as_deref(),
            Some(signed_in.value()),
            "the old cookie is gone"
        );
        Ok(())
    })
    .await
}

/// The cart page as a PNG: to `docs/shop.png` with `UPDATE_SCREENSHOT=1`, else to a temporary
/// directory; either way checked to be a PNG of the window's size.
async fn screenshot(c: &Client) -> Outcome {
    let png = c.screenshot().await?;
    assert_eq!(png.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]), "a PNG");
    assert_eq!(png.get(12..16), Some(&b"IHDR"[..]), "a PNG header");
    let dimension = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    let (width, height) = (dimension(16), dimension(20));
    assert!(
        (600..=2000).contains(&width) && (400..=2000).contains(&height),
        "{width}x{height}"
    );
    let dir = tempfile::tempdir()?;
    let path = if std::env::var_os("UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/shop.png")
    } else {
        dir.path().join("shop.png")
    };
    fs::write(&path, &png)?;
    assert_eq!(fs::read(&path)?.len(), png.len());
    Ok(())
}

#[tokio::test]
async fn log_out_everywhere_signs_out_another_browser() -> Outcome {
    log_out_everywhere_in_two_browsers(&[]).await
}

/// The cookie store keeps no list of sessions: the shop's new credential version signs the
/// other browser's cookie out.
#[tokio::test]
async fn log_out_everywhere_signs_out_another_browser_on_the_cookie_store() -> Outcome {
    log_out_everywhere_in_two_browsers(&["--store", "cookie"]).await
}

async fn log_out_everywhere_in_two_browsers(args: &[&str]) -> Outcome {
    let app = App::shop(args);
    let listing = args.is_empty();
    let driver = Driver::start();
    bounded(async {
        // Two browsers, each with a profile (and a cookie jar) of its own.
        let laptop = driver.browser(None).await?;
        let phone = driver.browser(None).await?;
        sign_in(&laptop, &app, "ada", false).await?;
        sign_in(&phone, &app, "ada", false).await?;
        laptop.goto(&app.at("/sessions")).await?;
        if listing {
            let listed = laptop.find_all(Locator::Css("#sessions td code")).await?;
            assert_eq!(listed.len(), 2, "both browsers are listed");
            assert!(text(&laptop, "#sessions").await?.contains("this browser"));
        }
        submit(&laptop, "#everywhere").await?;
        assert!(
            has(&laptop, "#sign-in").await?,
            "this browser is signed out"
        );

        phone.refresh().await?;
        assert!(has(&phone, "#sign-in").await?, "so is the other one");
        phone.goto(&app.at("/sessions")).await?;
        assert_eq!(phone.current_url().await?.path(), "/login");
        laptop.close().await?;
        phone.close().await?;
        Ok(())
    })
    .await
}

/// Who keeps what at sign-in, on one browser: a guest's cart moves to the user who signs in,
/// the same user signing in again keeps it and "remember me", and another user signing in
/// over it starts clean (no cart, a browser-session cookie).
async fn sign_in_keeps_only_the_same_users_session(store: &str) -> Outcome {
    in_a_browser(App::shop(&["--store", store]), async |c, app| {
        c.goto(&app.at("/")).await?;
        submit(c, "#add-1").await?;
        submit(c, "#add-4").await?;
        sign_in(c, app, "ada", true).await?;
        assert_eq!(
            text(c, "#count").await?,
            "2",
            "the guest's cart moved along"
        );
        let cookie = session_cookie(c).await?.ok_or("a session cookie")?;
        assert!(cookie.expires().is_some(), "remember me: {cookie}");

        sign_in(c, app, "ada", false).await?;
        assert_eq!(text(c, "#count").await?, "2", "ada's own session: kept");
        let cookie = session_cookie(c).await?.ok_or("a session cookie")?;
        assert!(
            cookie.expires().is_some(),
            "ada's remember me kept: {cookie}"
        );

        sign_in(c, app, "grace", false).await?;
        assert_eq!(
            text(c, "#count").await?,
            "0",
            "grace does not get ada's cart"
        );
        let cookie = session_cookie(c).await?.ok_or("a session cookie")?;
        assert_eq!(
            cookie.expires(),
            None,
            "not ada's persistent cookie: {cookie}"
        );
        assert_eq!(cookie.max_age(), None, "{cookie}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn another_user_signing_in_starts_clean_memory_store() -> Outcome {
    sign_in_keeps_only_the_same_users_session("memory").await
}

#[tokio::test]
async fn another_user_signing_in_starts_clean_cookie_store() -> Outcome {
    sign_in_keeps_only_the_same_users_session("cookie").await
}

#[tokio::test]
async fn remember_me_survives_a_browser_restart_a_session_cookie_does_not() -> Outcome {
    let app = App::shop(&[]);
    let driver = Driver::start();
    let profile = driver.profile_dir();
    bounded(async {
        let c = driver.browser(Some(&profile)).await?;
        sign_in(&c, &app, "ada", false).await?;
        let cookie = session_cookie(&c).await?.ok_or("a session cookie")?;
        assert_eq!(cookie.expires(), None, "a browser-session cookie");
        c.close().await?; // quits the browser; the profile stays

        let c = driver.browser(Some(&profile)).await?;
        c.goto(&app.at("/")).await?;
        assert!(
            has(&c, "#sign-in").await?,
            "the session cookie did not survive"
        );
        sign_in(&c, &app, "ada", true).await?;
        let cookie = session_cookie(&c).await?.ok_or("a session cookie")?;
        assert!(
            cookie.expires().is_some(),
            "remember me: a persistent cookie"
        );
        c.close().await?;

        let c = driver.browser(Some(&profile)).await?;
        c.goto(&app.at("/")).await?;
        assert_eq!(
            text(&c, "#user").await?,
            "ada",
            "remembered across the restart"
        );
        c.close().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn http_only_session_cookie_is_invisible_to_scripts() -> Outcome {
    in_a_browser(App::shop(&[]), async |c, app| {
        c.goto(&app.at("/")).await?;
        submit(c, "#add-2").await?;
        let cookie = session_cookie(c).await?.ok_or("a session cookie")?;
        assert_eq!(cookie.http_only(), Some(true), "{cookie}");
        // A script's own cookie is readable, the session's is not.
        let seen = c
            .execute(
                "document.cookie = 'probe=1; path=/'; return document.cookie;",
                vec![],
            )
            .await?;
        let seen = seen.as_str().ok_or("a string")?;
        assert!(seen.contains("probe=1"), "{seen}");
        assert!(!seen.contains("session="), "{seen}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn cookie_store_session_over_4_kib_is_an_error_page() -> Outcome {
    in_a_browser(App::shop(&["--store", "cookie"]), async |c, app| {
        c.goto(&app.at("/")).await?;
        submit(c, "#add-3").await?;
        sign_in(c, app, "ada", false).await?;
        c.goto(&app.at("/cart")).await?;
        find(c, "#note")
            .await?
            .send_keys("leave at the door")
            .await?;
        submit(c, "#save-note").await?;
        assert_eq!(text(c, ".flash").await?, "Note saved.");
        let before = session_cookie(c).await?.ok_or("a session cookie")?;

        // 5000 characters: typed in by a script, the form posted by a click.
        c.execute(
            "document.getElementById('note').value = 'x'.repeat(5000);",
            vec![],
        )
        .await?;
        submit(c, "#save-note").await?;
        let shown = text(c, "#too-large").await?;
        assert!(
            shown.contains("over the browsers' limit of 4096 bytes"),
            "{shown}"
        );
        let after = session_cookie(c)
            .await?
            .ok_or("the cookie is still there")?;
        assert_eq!(after.value(), before.value(), "the previous cookie is kept");

        c.goto(&app.at("/cart")).await?;
        assert_eq!(text(c, "#user").await?, "ada", "the previous session works");
        assert!(text(c, "#items").await?.contains("Mug"));
        let note = find(c, "#note").await?.prop("value").await?;
        assert_eq!(note.as_deref(), Some("leave at the door"));
        Ok(())
    })
    .await
}

/// A site of the attacker's: serves `pages` (path, HTML) from `localhost` on a port of its own,
/// another site to the browser than the shop's `127.0.0.1`. Stopped and joined on drop.
struct AttackerSite {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AttackerSite {
    fn start(pages: Vec<(&'static str, String)>) -> Self {
        use std::io::{BufRead as _, BufReader, Write as _};
        use std::sync::atomic::Ordering::SeqCst;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                // The rest of the head, up to the blank line.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line.split(' ').nth(1).unwrap_or_default();
                let (status, body) = match pages.iter().find(|(p, _)| *p == path) {
                    Some((_, html)) => ("200 OK", html.as_str()),
                    None => ("404 Not Found", ""),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn at(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.port)
    }
}

impl Drop for AttackerSite {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A page that posts `fields` to `action` as soon as it loads, as a forging site does.
fn auto_submit(action: &str, fields: &[(&str, &str)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{name}\" value=\"{value}\">"))
        .collect();
    format!(
        "<!doctype html><html><body><form id=\"forged\" method=\"post\" action=\"{action}\">\
         {inputs}</form><script>document.getElementById('forged').submit();</script>\
         </body></html>"
    )
}

/// Waits (up to [`WAIT`]) until the browser shows a loaded page whose address starts with
/// `url`.
async fn arrive(c: &Client, url: &str) -> Outcome {
    let deadline = Instant::now() + WAIT;
    loop {
        let here = c.current_url().await.map(String::from).unwrap_or_default();
        let loaded = c
            .execute("return document.readyState === 'complete';", vec![])
            .await;
        if here.starts_with(url) && loaded.is_ok_and(|loaded| loaded == json!(true)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no loaded page at {url} within {WAIT:?} (at {here})").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn forged_forms_from_another_site_are_refused() -> Outcome {
    let app = App::shop(&[]);
    let port: u16 = app.url.rsplit(':').next().unwrap().parse()?;
    // The attacker's own session and token (for the account `grace`), as a forging site
    // would fetch them: a token is worth nothing outside its session.
    let attackers = support::get(port, "/login", None);
    let field = "name=\"csrf_token\" value=\"";
    let token = attackers
        .body
        .split(field)
        .nth(1)
        .ok_or("a token on the form")?;
    let token = token.split('"').next().unwrap_or_default().to_owned();
    let site = AttackerSite::start(vec![
        (
            "/login.html",
            auto_submit(
                &app.at("/login"),
                &[("name", "grace"), ("csrf_token", &token)],
            ),
        ),
        (
            "/cart.html",
            auto_submit(
                &app.at("/cart/add"),
                &[("item", "3"), ("csrf_token", &token)],
            ),
        ),
    ]);
    in_a_browser(app, async |c, app| {
        c.goto(&app.at("/")).await?;
        submit(c, "#add-1").await?;
        sign_in(c, app, "ada", false).await?;
        let before = session_cookie(c).await?.ok_or("a session cookie")?;

        for (page, target) in [("/login.html", "/login"), ("/cart.html", "/cart/add")] {
            c.goto(&site.at(page)).await?;
            // The forged post lands on the shop: its answer, or where it redirected.
            arrive(c, &app.at("/")).await?;
            let landed = c.current_url().await?;
            let refusal = text(c, "body").await?;
            let after = session_cookie(c).await?.ok_or("the session cookie")?;
            assert_eq!(after.value(), before.value(), "{page}: the same session");
            c.goto(&app.at("/")).await?;
            assert_eq!(text(c, "#user").await?, "ada", "{page}: still ada");
            assert_eq!(text(c, "#count").await?, "1", "{page}: the cart unchanged");
            assert_eq!(landed.path(), target, "{page}: no redirect after a refusal");
            assert!(
                refusal.contains("could not be verified"),
                "{page} was refused: {refusal}"
            );
        }

        // The shop's own forms keep working.
        submit(c, "#add-2").await?;
        assert_eq!(text(c, ".flash").await?, "Coffee beans is in your cart.");
        assert_eq!(text(c, "#count").await?, "2");
        submit(c, "nav form button").await?;
        assert!(has(c, "#sign-in").await?, "signed out");
        sign_in(c, app, "grace", false).await?;
        Ok(())
    })
    .await
}
