//! When the port is not what the target implied, examine it again the way its clients reach
//! it:
//! - a port that answered a TLS hello as a protocol with a STARTTLS upgrade (an SMTP banner,
//!   a PostgreSQL answer to the sniffer's SSLRequest, …) is examined a second time through
//!   that upgrade, so `check` gives the TLS diagnosis behind it as well as "this port speaks
//!   SMTP";
//!   (`sslnegotiation=direct` against a server before PostgreSQL 17 goes on through the
//!   SSLRequest the same way);
//! - a port whose upgrade a well-known port implied failed on every connection, but that
//!   answers a TLS hello from the first byte (SMTPS-style 465 configured on 587, a
//!   PostgreSQL proxy speaking direct TLS on 5432), is examined as direct TLS instead.
//!
//! `--starttls PROTO|none` and a URL scheme are the user's word: their examination always
//! stands as the first diagnosis, and a failed upgrade they asked for on a TLS-first port is
//! only explained ([`tls_first_instead`]).

use super::fanout::Address;
use crate::doctor::Diagnosis;
use crate::finding::{ClientBreak, FindingId};
use crate::probe::{ProbeOutcome, Prober};
use crate::scan::{ScanContext, ScanError, ServerScan, plaintext};
use crate::starttls::{Choice, Protocol, Source, StartTls, UpgradeFailure};

/// A second examination of the same address, and why.
pub(crate) struct Detour {
    pub kind: DetourKind,
    /// The address with the probe configuration of the second examination.
    pub address: Address,
}

pub(crate) enum DetourKind {
    /// The port speaks `upgrade.protocol` in plaintext: examined again through the upgrade.
    Through(StartTls),
    /// The implied upgrade failed but the port speaks TLS from the first byte.
    Direct {
        implied: StartTls,
        /// What answered the direct TLS hello, for the note.
        answer: String,
    },
}

impl Detour {
    /// The label of the second diagnosis: the address and the upgrade it went through.
    pub fn label(&self, label: &str) -> String {
        match &self.kind {
            DetourKind::Through(u) => format!("{label} through {}", u.protocol.upgrade_name()),
            DetourKind::Direct { .. } => label.to_string(),
        }
    }

    /// The upgrade the second examination goes through, if any.
    pub fn protocol(&self) -> Option<Protocol> {
        match &self.kind {
            DetourKind::Through(u) => Some(u.protocol),
            DetourKind::Direct { .. } => None,
        }
    }

    /// The line for the document's notes and the diagnosis's "checked" list.
    pub fn note(&self, label: &str) -> String {
        match &self.kind {
            DetourKind::Through(u) => format!(
                "{label} speaks {} in plaintext: tlsdoctor went on through {} ({}); the diagnosis \"{}\" is the TLS behind it",
                u.protocol.as_str().to_ascii_uppercase(),
                u.protocol.upgrade_name(),
                format_args!("--starttls {}", u.protocol),
                self.label(label)
            ),
            DetourKind::Direct { implied, answer } => format!(
                "{label}: {} failed, but the port answers a TLS hello from the first byte ({answer}), as {}: examined as direct TLS (--starttls none does this from the start)",
                implied.protocol.upgrade_name(),
                direct_name(implied.protocol)
            ),
        }
    }
}

/// How the direct-TLS form of a protocol is usually called.
fn direct_name(p: Protocol) -> String {
    match (p, p.implicit_tls_port()) {
        (Protocol::Postgres, _) => {
            "PostgreSQL 17 allows (sslnegotiation=direct, ALPN \"postgresql\")".into()
        }
        (_, Some(port)) => format!(
            "the implicit-TLS port of {} ({port}) does",
            p.as_str().to_ascii_uppercase()
        ),
        (_, None) => "a TLS-first listener does".into(),
    }
}

/// Whether the first examination of `a` calls for a second one, and with which prelude.
/// `upgrade` is the upgrade the target implied (none: TLS from the first byte), `choice`
/// what the user asked for.
pub(crate) async fn detour(
    a: &Address,
    scan: &Result<ServerScan, ScanError>,
    upgrade: Option<&StartTls>,
    choice: Choice,
) -> Option<Detour> {
    if choice != Choice::Auto {
        return None;
    }
    match (scan, upgrade) {
        (Err(e @ ScanError::NotTls { .. }), None) => {
            let protocol = plaintext::upgrade_named_by(e)?.starttls?;
            let mut u = StartTls::new(protocol, Source::Sniffed);
            u.xmpp_host = a.ctx.sni.clone();
            Some(Detour {
                address: with_prelude(a, Some(&u)),
                kind: DetourKind::Through(u),
            })
        }
        // sslnegotiation=direct against a server before PostgreSQL 17: it reads the hello
        // as a startup packet and hangs up, and answers the sniffer's SSLRequest. The TLS
        // it does have is behind the SSLRequest.
        (Err(e @ ScanError::NotTls { .. }), Some(u)) if u.protocol == Protocol::PostgresDirect => {
            let sniffed = plaintext::upgrade_named_by(e)?.starttls?;
            (sniffed == Protocol::Postgres).then(|| {
                let u = StartTls::new(Protocol::Postgres, Source::Sniffed);
                Detour {
                    address: with_prelude(a, Some(&u)),
                    kind: DetourKind::Through(u),
                }
            })
        }
        (Err(ScanError::Upgrade { .. }), Some(u)) if u.source == Source::Port => {
            // PostgreSQL's direct TLS wants ALPN "postgresql" in every hello.
            let direct_form = (u.protocol == Protocol::Postgres)
                .then(|| StartTls::new(Protocol::PostgresDirect, Source::Port));
            let direct = with_prelude(a, direct_form.as_ref());
            let answer = speaks_tls(&direct.ctx.prober, a.ctx.sni.as_deref()).await?;
            Some(Detour {
                address: direct,
                kind: DetourKind::Direct {
                    implied: u.clone(),
                    answer,
                },
            })
        }
        _ => None,
    }
}

/// [`detour`] after a diagnosis (its evidence holds the scan's outcome).
pub(crate) async fn after(
    a: &Address,
    d: &Diagnosis,
    upgrade: Option<&StartTls>,
    choice: Choice,
) -> Option<Detour> {
    let ev = d.evidence.as_ref()?;
    detour(a, &ev.observed.scan, upgrade, choice).await
}

/// The first diagnosis made with PostgreSQL's direct TLS, whose port turned out to want the
/// SSLRequest: its not-tls finding says why and quotes what libpq 17 prints there
/// (data/client-errors.toml, `[upgrade.postgres-direct.closed]`). Other first diagnoses
/// are left as the evidence gives them (the lab's fixtures judge them again); the
/// document's note points at the second.
pub(crate) fn explain_first(first: &mut Diagnosis, upgrade: Option<&StartTls>) {
    if upgrade.is_none_or(|u| u.protocol != Protocol::PostgresDirect) {
        return;
    }
    for f in first
        .findings
        .iter_mut()
        .filter(|f| f.id == FindingId::NotTls)
    {
        f.evidence.push("a server before PostgreSQL 17 reads a direct TLS hello as a malformed startup packet and hangs up; sslnegotiation=postgres (the default) asks with an SSLRequest first".into());
        let texts = crate::starttls::client_texts(Protocol::PostgresDirect, UpgradeFailure::Closed);
        f.breaks
            .extend(texts.into_iter().map(|(client, error)| ClientBreak {
                client,
                error,
                key: None,
                unquoted: None,
                after: None,
            }));
    }
}

/// An upgrade the user asked for (`--starttls`, a URL scheme) that failed on every
/// connection, on a port that answers a TLS hello from the first byte: the
/// starttls-failed finding says so and names the direct-TLS form (smtps://, --starttls none).
/// The user's choice stands; nothing is examined again.
pub(crate) async fn tls_first_instead(a: &Address, d: &mut Diagnosis, upgrade: Option<&StartTls>) {
    let Some(u) = upgrade.filter(|u| matches!(u.source, Source::Option | Source::Scheme)) else {
        return;
    };
    let failed = d
        .evidence
        .as_ref()
        .is_some_and(|ev| matches!(ev.observed.scan, Err(ScanError::Upgrade { .. })));
    if !failed {
        return;
    }
    let direct = with_prelude(a, None);
    let Some(answer) = speaks_tls(&direct.ctx.prober, a.ctx.sni.as_deref()).await else {
        return;
    };
    let instead = match u.protocol.implicit_tls_port() {
        Some(port) => format!(
            "{}s:// or --starttls none (port {port} is the usual one for TLS from the first byte)",
            u.protocol.as_str()
        ),
        None => "--starttls none".to_string(),
    };
    for f in d
        .findings
        .iter_mut()
        .filter(|f| f.id == FindingId::StarttlsFailed)
    {
        f.evidence.push(format!(
            "the same port answers a TLS hello from the first byte ({answer}): it speaks TLS at once, not {}",
            u.protocol.upgrade_name()
        ));
        f.fix_client.insert(
            0,
            format!(
                "This port speaks TLS from the first byte: connect with TLS at once ({instead})."
            ),
        );
    }
}

/// A TLS 1.2 hello from the first byte: what the server answered, when it answered as TLS.
async fn speaks_tls(prober: &Prober, sni: Option<&str>) -> Option<String> {
    let hello = crate::scan::versions::probe_hello(crate::wire::ProtocolVersion::Tls12, sni);
    match prober.send_hello(&hello).await.outcome {
        o @ (ProbeOutcome::Accepted(_) | ProbeOutcome::Alert(_)) => Some(o.describe()),
        _ => None,
    }
}

/// The same address with a fresh prober (its own connection cap and count, the same run
/// deadline) that runs `upgrade` before TLS, or nothing.
fn with_prelude(a: &Address, upgrade: Option<&StartTls>) -> Address {
    let mut cfg = a.ctx.prober.config().clone();
    cfg.prelude = upgrade.map(StartTls::prelude);
    Address {
        label: a.label.clone(),
        resolved: a.resolved.clone(),
        ctx: ScanContext::new(Prober::new(a.ctx.prober.addr(), cfg), a.ctx.sni.clone())
            .with_checks(a.ctx.checks.clone()),
    }
}
