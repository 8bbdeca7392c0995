//! Turns a catalogue entry's [`ServerPlan`] into a running configuration: a rustls
//! `ServerConfig`, a legacy-server configuration or plain HTTP, with the certificate the entry
//! names from the freshly generated PKI.

use std::sync::Arc;

use rsa::pkcs8::EncodePrivateKey;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio_rustls::TlsAcceptor;

use super::LabError;
use super::catalogue::{EndpointSpec, LegacyPlan, RustlsPlan, ServerPlan, Starttls};
use super::legacy::{ClientAuth, LegacyConfig};
use super::pki::Pki;
use super::serve::{self, Server};

pub(crate) struct Builder<'a> {
    pub pki: &'a Pki,
    pub provider: Arc<CryptoProvider>,
}

impl Builder<'_> {
    /// The server for one endpoint.
    pub fn server(&self, spec: &EndpointSpec) -> Result<Server, LabError> {
        let err = |reason: String| LabError::Endpoint {
            name: spec.name.clone(),
            reason,
        };
        match &spec.server {
            ServerPlan::Rustls(plan) => self.rustls(plan).map_err(err),
            ServerPlan::Legacy(plan) => self.legacy(&spec.name, plan).map_err(err),
            ServerPlan::PlainHttp => Ok(Server::PlainHttp),
            ServerPlan::HangsUp => Ok(Server::HangsUp),
        }
    }

    fn rustls(&self, plan: &RustlsPlan) -> Result<Server, String> {
        let (chain, key_der) = match self.pki.ecdsa(plan.certificate) {
            Some(id) => (id.chain.clone(), id.key_der()),
            None => {
                let id = self
                    .pki
                    .rsa(plan.certificate)
                    .ok_or_else(|| format!("no certificate {:?}", plan.certificate))?;
                let der = id.key.to_pkcs8_der().map_err(|e| e.to_string())?;
                let chain = id.chain.iter().cloned().map(CertificateDer::from).collect();
                let key = PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
                (chain, PrivateKeyDer::Pkcs8(key))
            }
        };
        // Not CertifiedKey::from_der: its key check parses the leaf with webpki, which refuses
        // the leaf of the unknown-critical-extension endpoint. The lab's keys are its own.
        let signer = self
            .provider
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| e.to_string())?;
        let mut key = CertifiedKey::new(chain, signer);
        if let Some(staple) = plan.ocsp_staple {
            key.ocsp = Some(self.pki.staple(staple).to_vec());
        }
        let key = Arc::new(key);
        let resolver: Arc<dyn ResolvesServerCert> = if plan.requires_sni {
            Arc::new(SniOnly(key))
        } else {
            Arc::new(SingleCertAndKey::from(key))
        };
        let provider = match &plan.tls12_suites {
            None => self.provider.clone(),
            Some(only) => {
                let mut p = (*self.provider).clone();
                p.cipher_suites
                    .retain(|s| s.tls13().is_some() || only.iter().any(|o| o.suite() == s.suite()));
                Arc::new(p)
            }
        };
        let versions = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&plan.versions)
            .map_err(|e| e.to_string())?;
        let mut config = if plan.client_auth || plan.client_cert_http_400 {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(self.pki.root_der.clone())
                .map_err(|e| e.to_string())?;
            let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            // nginx's ssl_verify_client on: ask, let the handshake finish without one.
            let builder = if plan.client_cert_http_400 {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            let verifier = builder.build().map_err(|e| e.to_string())?;
            versions
                .with_client_cert_verifier(verifier)
                .with_cert_resolver(resolver)
        } else {
            versions.with_no_client_auth().with_cert_resolver(resolver)
        };
        if plan.client_cert_http_400 {
            // As nginx: http/1.1 chosen by ALPN when offered.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
        }
        let acceptor = TlsAcceptor::from(Arc::new(config));
        Ok(match plan.starttls {
            None if plan.client_cert_http_400 => Server::TlsCertRequiredHttp(acceptor),
            None => Server::Tls(acceptor),
            Some(Starttls::Smtp) => Server::Smtp(acceptor),
        })
    }

    fn legacy(&self, name: &str, plan: &LegacyPlan) -> Result<Server, String> {
        let id = self
            .pki
            .rsa(plan.certificate)
            .ok_or_else(|| format!("no RSA certificate {:?}", plan.certificate))?;
        let client_auth = if plan.client_auth {
            Some(ClientAuth::new(self.pki.root_der.clone())?)
        } else {
            None
        };
        Ok(Server::Legacy(Arc::new(LegacyConfig {
            versions: plan.versions.clone(),
            suites: plan.suites.clone(),
            secure_renegotiation: plan.secure_renegotiation,
            chain: id.chain.clone(),
            key: id.key.clone(),
            dh: plan.dh.clone(),
            response: serve::http_response(name),
            client_auth,
        })))
    }
}

/// Serves its certificate only to clients that name a server (SNI).
#[derive(Debug)]
struct SniOnly(Arc<CertifiedKey>);

impl ResolvesServerCert for SniOnly {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello.server_name().map(|_| self.0.clone())
    }
}
