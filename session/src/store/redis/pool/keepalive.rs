//! TCP keepalive on the pool's own connections to Redis (redis-rs sets none by default).

use std::time::Duration;

use ::redis::io::tcp::{socket2, TcpSettings};

/// `settings` with TCP keepalive on: an idle connection then still carries packets every
/// minute, so NATs and load balancers do not forget it (their idle limits are minutes), and a
/// peer that vanished is noticed within about 90 s instead of the kernel's two hours. The
/// idle check (`PING`) still guards the next call; this keeps the connection worth keeping.
pub(super) fn on(settings: &TcpSettings) -> TcpSettings {
    let probes = socket2::TcpKeepalive::new().with_time(Duration::from_secs(60));
    // Every 10 s after that, three at most; where each connection may set these (elsewhere
    // the system's defaults apply).
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "windows"
    ))]
    let probes = probes
        .with_interval(Duration::from_secs(10))
        .with_retries(3);
    settings.clone().set_keepalive(probes)
}
