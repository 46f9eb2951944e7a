//! TLS to Redis (`rediss://` URLs, feature `redis-rustls`): the root certificates a
//! [`RedisPool`](super::RedisPool) trusts. The TLS itself is redis-rs's, on rustls.

use ::redis::{Client, ConnectionInfo, RedisResult};

/// The root certificates given to [`RedisPoolBuilder::tls_root_certificates`]; without them
/// (and without the feature) clients trust the system's roots.
#[derive(Default)]
pub(super) struct Tls {
    #[cfg(feature = "redis-rustls")]
    root_certificates: Option<Vec<u8>>,
}

impl Tls {
    /// A client for `info`, trusting the configured roots.
    pub(super) fn client(&self, info: ConnectionInfo) -> RedisResult<Client> {
        #[cfg(feature = "redis-rustls")]
        if let Some(root_cert) = self.certificates() {
            return Client::build_with_tls(info, root_cert);
        }
        Client::open(info)
    }

    /// `builder`, trusting the configured roots.
    #[cfg(feature = "redis-cluster")]
    pub(super) fn cluster(
        &self,
        builder: ::redis::cluster::ClusterClientBuilder,
    ) -> ::redis::cluster::ClusterClientBuilder {
        #[cfg(feature = "redis-rustls")]
        if let Some(certificates) = self.certificates() {
            return builder.certs(certificates);
        }
        builder
    }

    #[cfg(feature = "redis-rustls")]
    fn certificates(&self) -> Option<::redis::TlsCertificates> {
        Some(::redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(self.root_certificates.clone()?),
        })
    }
}

#[cfg(feature = "redis-rustls")]
impl super::RedisPoolBuilder {
    /// Trusts these root certificates (PEM, one or more) for `rediss://` URLs instead of the
    /// system's: for a Redis whose certificate your own CA signed. Without this, the
    /// certificates of the system's trust store are used (managed Redis services sign with
    /// public CAs). A pool from [`RedisPool::from_deadpool_redis`](super::RedisPool) connects as
    /// that pool is configured and ignores this.
    ///
    /// TLS is rustls's, with its `ring` crypto provider. If your build also enables rustls's
    /// `aws-lc-rs` provider, install one at startup
    /// (`rustls::crypto::CryptoProvider::install_default`), as rustls asks.
    ///
    /// ```no_run
    /// let ca = std::fs::read("/etc/redis/ca.pem")?;
    /// let pool = actix_typed_session::store::RedisPool::builder("rediss://redis.internal:6380")
    ///     .tls_root_certificates(ca)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`build`](Self::build) fails with [`RedisConfigError::Url`](super::RedisConfigError)
    /// for a URL that is not `rediss://`, or a PEM block that is not a certificate.
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-rustls")))]
    pub fn tls_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.root_certificates = Some(pem.into());
        self
    }
}
