//! HTTPS for `mamori serve --tls`: a certificate the hospital gives (PEM), or one made here —
//! self-signed for the listening address and `localhost`, kept in the data directory so that a
//! browser told to trust it once keeps trusting it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum Certificate {
    /// The hospital's own (PEM files: chain, private key).
    Files { cert: PathBuf, key: PathBuf },
    /// Made here and kept under `DIR/tls/` (made once, reused).
    SelfSigned { dir: PathBuf, names: Vec<String> },
}

/// The certificate's SHA-256 fingerprint, as browsers show it (`AB:CD:…`).
pub fn fingerprint(der: &[u8]) -> String {
    use std::fmt::Write;
    let digest = sha256(der);
    let mut out = String::new();
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

fn err(text: String) -> std::io::Error {
    std::io::Error::other(text)
}

/// Reads or makes the certificate; returns the TLS configuration and the leaf's fingerprint.
pub fn load(cert: &Certificate) -> std::io::Result<(Arc<ServerConfig>, String)> {
    let (cert_path, key_path) = match cert {
        Certificate::Files { cert, key } => (cert.clone(), key.clone()),
        Certificate::SelfSigned { dir, names } => {
            let tls = dir.join("tls");
            let (c, k) = (tls.join("cert.pem"), tls.join("key.pem"));
            if !c.is_file() || !k.is_file() {
                make_self_signed(&tls, &c, &k, names)?;
            }
            (c, k)
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| err(format!("{}: {e}", cert_path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("{}: {e}", cert_path.display())))?;
    let Some(leaf) = chain.first() else {
        return Err(err(format!(
            "{}: no certificate in the file",
            cert_path.display()
        )));
    };
    let fp = fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| err(format!("{}: {e}", key_path.display())))?;
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| err(format!("{}: {e}", cert_path.display())))?;
    Ok((Arc::new(config), fp))
}

fn make_self_signed(dir: &Path, cert: &Path, key: &Path, names: &[String]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let made = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| err(format!("making a self-signed certificate: {e}")))?;
    std::fs::write(cert, made.cert.pem())?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    use std::io::Write;
    opts.open(key)?
        .write_all(made.signing_key.serialize_pem().as_bytes())?;
    Ok(())
}

/// A TCP listener whose connections are TLS: handshakes run beside the accept loop (a slow
/// or silent client delays no one) and those that fail or take over 10 s are dropped.
pub struct TlsListener {
    local: std::net::SocketAddr,
    rx: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, std::net::SocketAddr)>,
}

impl TlsListener {
    /// Starts accepting on `listener`.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, addr)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if tx.is_closed() {
                    break;
                }
                let (acceptor, sender) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    {
                        let _ = sender.send((tls, addr)).await;
                    }
                });
            }
        });
        Ok(TlsListener { local, rx })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept loop ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
