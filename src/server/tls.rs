//! TLS termination with rustls: PEM files reloaded when they change, or a self-signed
//! certificate kept in the data folder for local use.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, TlsMode};
use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read certificate {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("cannot read private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the private key {key} does not belong to the certificate {cert}")]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("cannot create a self-signed certificate in {path}: {reason}")]
    SelfSigned { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificate served to new handshakes; swapped atomically on reload.
#[derive(Debug)]
struct CurrentCert(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The acceptor plus, for certificate files, the task that reloads them.
pub struct Tls {
    acceptor: TlsAcceptor,
    reloader: Option<Reloader>,
}

impl Tls {
    /// `None` when TLS is off.
    pub fn setup(config: &Config, metrics: &Metrics) -> Result<Option<Tls>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (cert_path, key_path, reload) = match &config.tls {
            TlsMode::Off => return Ok(None),
            TlsMode::Files { cert, key } => (cert.clone(), key.clone(), true),
            TlsMode::SelfSigned => {
                let (cert, key) = self_signed(&config.data_dir.join("tls"))?;
                (cert, key, false)
            }
        };
        let (key, fingerprint) = load(&provider, &cert_path, &key_path)?;
        let current = Arc::new(CurrentCert(ArcSwap::from_pointee(key)));
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let reloader = reload.then(|| Reloader {
            current,
            provider,
            cert: cert_path,
            key: key_path,
            interval: config.tls_reload_interval,
            fingerprint,
            metrics: metrics.clone(),
        });
        Ok(Some(Tls { acceptor: TlsAcceptor::from(Arc::new(server)), reloader }))
    }

    pub fn split(self) -> (TlsAcceptor, Option<Reloader>) {
        (self.acceptor, self.reloader)
    }
}

/// Watches the certificate files and swaps in a new certificate when they change.
pub struct Reloader {
    current: Arc<CurrentCert>,
    provider: Arc<CryptoProvider>,
    cert: PathBuf,
    key: PathBuf,
    interval: Duration,
    fingerprint: u64,
    metrics: Metrics,
}

impl Reloader {
    /// Checks the files' contents every interval; a bad pair is logged and the old
    /// certificate stays in service.
    pub async fn watch(mut self, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {}
                () = stop.cancelled() => return,
            }
            let Ok(now) = fingerprint(&self.cert, &self.key) else {
                continue;
            };
            if now == self.fingerprint {
                continue;
            }
            self.fingerprint = now;
            match load(&self.provider, &self.cert, &self.key) {
                Ok((key, _)) => {
                    self.current.0.store(Arc::new(key));
                    self.metrics.tls_reloads.with_label_values(&["ok"]).inc();
                    tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                }
                Err(e) => {
                    self.metrics.tls_reloads.with_label_values(&["failed"]).inc();
                    tracing::warn!(error = %e, "new TLS files are not usable; the previous certificate stays");
                }
            }
        }
    }
}

fn fingerprint(cert: &Path, key: &Path) -> std::io::Result<u64> {
    let mut hasher = DefaultHasher::new();
    std::fs::read(cert)?.hash(&mut hasher);
    std::fs::read(key)?.hash(&mut hasher);
    Ok(hasher.finish())
}

fn load(provider: &CryptoProvider, cert: &Path, key: &Path) -> Result<(CertifiedKey, u64), TlsError> {
    let cert_err = |reason: String| TlsError::Cert { path: cert.to_owned(), reason };
    let key_err = |reason: String| TlsError::Key { path: key.to_owned(), reason };
    let fp = fingerprint(cert, key).map_err(|e| cert_err(e.to_string()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_err("no CERTIFICATE block found".to_owned()));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| key_err(e.to_string()))?;
    let signing = provider.key_provider.load_private_key(der).map_err(|e| key_err(e.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    if certified.keys_match().is_err() {
        return Err(TlsError::Mismatch { cert: cert.to_owned(), key: key.to_owned() });
    }
    Ok((certified, fp))
}

/// Reuses `dir/self-signed.{crt,key}` or creates them for localhost, 127.0.0.1 and ::1.
fn self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert = dir.join("self-signed.crt");
    let key = dir.join("self-signed.key");
    if cert.is_file() && key.is_file() {
        return Ok((cert, key));
    }
    let err = |reason: String| TlsError::SelfSigned { path: dir.to_owned(), reason };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names).map_err(|e| err(e.to_string()))?;
    write_private(&key, generated.signing_key.serialize_pem().as_bytes()).map_err(|e| err(e.to_string()))?;
    std::fs::write(&cert, generated.cert.pem()).map_err(|e| err(e.to_string()))?;
    tracing::info!(cert = %cert.display(), "created a self-signed certificate for local use");
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
