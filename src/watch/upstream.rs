//! The upstream server, reached through the probe engine: every relayed connection is opened
//! by the [`Prober`] (connect deadline, the per-server cap, the count), and so is the probe
//! of the server's versions that some readings need.

use super::diagnose::ServerProbe;
use super::summary::CertSummary;
use crate::probe::{ConnectError, Connection, ProbeConfig, ProbeOutcome, Prober};
use crate::scan::versions::{judge, probe_hello};
use crate::wire::ProtocolVersion;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Versions probed, oldest first (SSLv2 has no ClientHello of the same form to compare with).
const PROBED: [ProtocolVersion; 5] = [
    ProtocolVersion::Ssl3,
    ProtocolVersion::Tls10,
    ProtocolVersion::Tls11,
    ProtocolVersion::Tls12,
    ProtocolVersion::Tls13,
];

/// The upstream of one `watch` run.
#[derive(Clone)]
pub struct Upstream {
    /// `HOST:PORT` as the user gave it.
    pub label: String,
    prober: Prober,
    /// Probe results per SNI (`None`: no name), so a run of failing connections probes once.
    probes: Arc<Mutex<HashMap<Option<String>, ServerProbe>>>,
}

impl Upstream {
    pub fn new(label: String, addr: SocketAddr, cfg: ProbeConfig) -> Upstream {
        Upstream {
            label,
            prober: Prober::new(addr, cfg),
            probes: Arc::default(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.prober.addr()
    }

    /// Connections opened to the upstream so far (relayed and probes).
    pub fn connections_opened(&self) -> usize {
        self.prober.connections_opened()
    }

    /// A connection for one relayed application connection. Its slot is held (so at most the
    /// cap of connections are relayed at once) until the relay drops it.
    ///
    /// The probe engine's whole-probe deadline (`Connection::deadline`) is not applied to
    /// the relayed bytes: a relay is a long-lived pipe that must live as long as the
    /// application keeps it open. The relay applies its own deadlines instead: the
    /// handshake must finish within the handshake deadline, and afterwards the connection
    /// ends when nothing moves for the idle deadline.
    pub async fn connect(&self) -> Result<Connection, ConnectError> {
        self.prober.open().await
    }

    /// The chain the server sends for `sni` over TLS 1.3, fetched by a connection of our own
    /// (a full handshake through the probe engine): what a TLS 1.3 application saw encrypted.
    pub async fn chain(&self, sni: Option<&str>) -> Option<Vec<CertSummary>> {
        let f = crate::cert::fetch_chain(&self.prober, sni, ProtocolVersion::Tls13)
            .await
            .ok()?;
        Some(
            f.chain
                .iter()
                .filter_map(|d| CertSummary::from_der(d))
                .collect(),
        )
    }

    /// What the server accepts per version with tlsdoctor's probe hellos (every suite of
    /// that version), sent with `sni`. Cached per SNI.
    pub async fn probe(&self, sni: Option<&str>) -> ServerProbe {
        let key = sni.map(str::to_string);
        if let Some(p) = self.probes.lock().await.get(&key) {
            return p.clone();
        }
        let jobs = PROBED.map(|v| {
            let prober = self.prober.clone();
            let hello = probe_hello(v, sni);
            async move { (v, prober.send_hello(&hello).await.outcome) }
        });
        let results = futures::future::join_all(jobs).await;
        let mut p = ServerProbe::default();
        for (v, outcome) in results {
            let group = match &outcome {
                ProbeOutcome::Accepted(f) => f
                    .server_hello
                    .as_ref()
                    .and_then(|sh| sh.selected_group())
                    .map(|g| g.to_string()),
                _ => None,
            };
            let r = judge(v, outcome);
            if r.accepted {
                p.versions.push(v);
                p.accepted.push(v.name());
                if let Some(s) = r.cipher_suite {
                    p.suites.insert(v.name(), s);
                }
                if v == ProtocolVersion::Tls13 {
                    p.tls13_group = group;
                }
            }
        }
        self.probes.lock().await.insert(key, p.clone());
        p
    }
}
