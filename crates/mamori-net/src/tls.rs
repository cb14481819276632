//! TLS on an open port: the handshake (any certificate is accepted — mamori records what
//! the server presents, it does not trust it), the certificate's subject, issuer and
//! expiry, then HTTP over the session.

use std::sync::Arc;
use std::time::Duration;

use mamori_core::scan::PortResult;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Accepts every certificate: the scan describes, it does not authenticate.
#[derive(Debug)]
struct Describe(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Describe {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connector() -> Option<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Describe(provider)))
        .with_no_client_auth();
    Some(TlsConnector::from(Arc::new(config)))
}

/// Certificate facts: `tls.subject`, `tls.issuer`, `tls.not_after` (RFC 3339),
/// `tls.self_signed`.
pub fn certificate_facts(der: &[u8]) -> Vec<(String, String)> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return vec![("tls.certificate".into(), "unreadable".into())];
    };
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let not_after = cert.validity().not_after.to_datetime();
    let not_after = chrono::DateTime::<chrono::Utc>::from_timestamp(not_after.unix_timestamp(), 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    vec![
        ("tls.self_signed".into(), (subject == issuer).to_string()),
        (
            "tls.subject".into(),
            crate::identify::printable(subject.as_bytes(), 200),
        ),
        (
            "tls.issuer".into(),
            crate::identify::printable(issuer.as_bytes(), 200),
        ),
        ("tls.not_after".into(), not_after),
    ]
}

/// A TLS session for the credential checks (the same describe-only verifier: the checks test
/// accounts, not certificates).
pub(crate) async fn connect(
    stream: TcpStream,
    wait: Duration,
) -> Option<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = connector()?;
    let peer = stream.peer_addr().ok()?;
    let name = ServerName::IpAddress(peer.ip().into());
    tokio::time::timeout(wait * 2, connector.connect(name, stream))
        .await
        .ok()?
        .ok()
}

/// Handshake, certificate, then HTTP.
pub(crate) async fn identify(stream: TcpStream, result: &mut PortResult, wait: Duration) {
    let Some(connector) = connector() else { return };
    let Ok(peer) = stream.peer_addr() else { return };
    let name = ServerName::IpAddress(peer.ip().into());
    let mut tls = match tokio::time::timeout(wait * 2, connector.connect(name, stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            result.facts.insert(
                "tls.error".into(),
                crate::identify::printable(e.to_string().as_bytes(), 160),
            );
            return;
        }
        Err(_) => return,
    };
    {
        let (_, session) = tls.get_ref();
        if let Some(version) = session.protocol_version() {
            result
                .facts
                .insert("tls.version".into(), format!("{version:?}"));
        }
        if let Some(cert) = session.peer_certificates().and_then(|c| c.first()) {
            result.facts.extend(certificate_facts(cert.as_ref()));
        }
    }
    result.service = Some("https".into());
    result.by_port = false;
    let host = match peer {
        std::net::SocketAddr::V6(a) => format!("[{}]", a.ip()),
        a => a.ip().to_string(),
    };
    crate::probe::http(&mut tls, &host, result, wait, "https").await;
}
