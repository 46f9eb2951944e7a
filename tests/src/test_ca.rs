//! A throwaway certificate authority for TLS tests, made with the `openssl` command line: a CA
//! certificate and server certificates it signs for `127.0.0.1` and `localhost`, valid for a day.
//!
//! A missing `openssl` is a test failure, never a skip (`apt-get install openssl`).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// A CA whose certificate and key are files in a directory the caller owns.
#[derive(Debug)]
pub struct TestCa {
    dir: PathBuf,
    name: String,
    cert: PathBuf,
    key: PathBuf,
}

/// A server certificate and its key, signed by a [`TestCa`].
#[derive(Debug, Clone)]
pub struct ServerCert {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, unencrypted).
    pub key: PathBuf,
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`openssl` not found on PATH: the TLS tests make their certificates with it. \
             Install it with `apt-get install openssl`."
        ),
        Err(e) => panic!("could not run openssl: {e}"),
    };
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `-newkey` arguments for a P-256 key.
const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

impl TestCa {
    /// Makes a CA named `name` (files `{name}-ca.pem`, `{name}-ca.key` in `dir`).
    ///
    /// # Panics
    /// When `openssl` is missing or fails.
    #[must_use]
    pub fn new(dir: &Path, name: &str) -> Self {
        let cert = dir.join(format!("{name}-ca.pem"));
        let key = dir.join(format!("{name}-ca.key"));
        let subject = format!("/CN={name} test CA");
        let mut args = vec!["req", "-x509", "-nodes", "-days", "1", "-subj", &subject];
        args.extend(EC_KEY);
        let (cert_arg, key_arg) = (cert.to_string_lossy(), key.to_string_lossy());
        args.extend(["-keyout", &key_arg, "-out", &cert_arg]);
        // `req -x509` marks the certificate a CA (basicConstraints CA:TRUE) by default.
        openssl(&args, dir);
        Self {
            dir: dir.to_owned(),
            name: name.to_owned(),
            cert,
            key,
        }
    }

    /// The CA certificate's file.
    #[must_use]
    pub fn cert_path(&self) -> &Path {
        &self.cert
    }

    /// The CA certificate (PEM), for a client to trust.
    ///
    /// # Panics
    /// When the file cannot be read.
    #[must_use]
    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).expect("read the CA certificate")
    }

    /// A server certificate for `127.0.0.1` and `localhost`, signed by this CA.
    ///
    /// # Panics
    /// When `openssl` fails.
    #[must_use]
    pub fn issue_server(&self) -> ServerCert {
        let path = |suffix: &str| self.dir.join(format!("{}-server.{suffix}", self.name));
        let (cert, key, csr, ext) = (path("pem"), path("key"), path("csr"), path("ext"));
        std::fs::write(
            &ext,
            "subjectAltName = IP:127.0.0.1, DNS:localhost\n\
             basicConstraints = CA:FALSE\n\
             keyUsage = critical, digitalSignature\n\
             extendedKeyUsage = serverAuth\n",
        )
        .expect("write the extensions file");
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let (cert_s, key_s, csr_s, ext_s) = (s(&cert), s(&key), s(&csr), s(&ext));
        let mut request = vec!["req", "-nodes", "-subj", "/CN=127.0.0.1"];
        request.extend(EC_KEY);
        request.extend(["-keyout", &key_s, "-out", &csr_s]);
        openssl(&request, &self.dir);
        let (ca_cert, ca_key) = (s(&self.cert), s(&self.key));
        openssl(
            &[
                "x509",
                "-req",
                "-days",
                "1",
                "-in",
                &csr_s,
                "-CA",
                &ca_cert,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-extfile",
                &ext_s,
                "-out",
                &cert_s,
            ],
            &self.dir,
        );
        ServerCert { cert, key }
    }
}
