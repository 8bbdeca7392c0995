//! One recorded handshake → which side gave up, with which alert, and why. Pure: the
//! recording, how the relay ended the connection and (for version and suite failures) what a
//! probe of the server found are the only inputs, so every rule is unit-tested on bytes.
//!
//! What can be read is only the clear-text part: in TLS ≤ 1.2 everything up to each side's
//! ChangeCipherSpec (hello, certificates, key exchange, alerts); in TLS 1.3 only the two
//! hellos — the server's certificate, a CertificateRequest and every alert after the
//! ServerHello are encrypted, so the reading there is an inference from record sizes and who
//! closed first, and says so.

use super::record::{Ending, Recording, Side};
use super::summary::{AnswerSummary, CertSummary, HelloSummary};
use crate::cert::analyze::dns_name_matches;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::wire::alert::{Alert, AlertDescription};
use crate::wire::{ProtocolVersion, printable_prefix};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What TLS 1.3 hides from the relay, said on every TLS 1.3 connection.
const TLS13_UNSEEN: &str = "TLS 1.3: after the ServerHello the server's certificate, any CertificateRequest and alerts sent under the handshake keys are encrypted; the relay sees their records' sizes and who closed first. (OpenSSL clients send an alert about the server's certificate in clear, before their own keys are in use: that one is read.)";

/// How a relayed connection came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The handshake finished and data flowed (as far as the clear part and record sizes tell).
    Completed,
    /// The handshake failed.
    Failed,
    /// The application closed without sending anything.
    NoHello,
    /// The relay was stopped (`--count`, `--duration`, Ctrl-C) while it was open.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "FAILED",
            Outcome::NoHello => "no hello",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// Why the relay stopped relaying a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// Both sides closed (or one reset).
    PeersClosed,
    /// The handshake did not finish within the deadline.
    HandshakeTimeout(Duration),
    /// Nothing moved either way for the idle deadline after the handshake.
    Idle(Duration),
    /// The relay was stopped.
    Shutdown,
    /// The upstream could not be reached.
    UpstreamUnreachable(String),
}

/// The alert that ended the handshake, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenAlert {
    pub from: Side,
    /// The registry name (`unknown_ca`); `None` when the alert was encrypted.
    pub name: Option<String>,
    pub code: Option<u8>,
    pub fatal: Option<bool>,
    /// Only its record was seen (TLS 1.3, or after ChangeCipherSpec): the description is
    /// encrypted.
    pub encrypted: bool,
    /// What an OpenSSL 3 peer prints on receiving it, e.g. `tlsv1 alert unknown ca`.
    pub openssl_reason: Option<String>,
}

impl SeenAlert {
    fn clear(from: Side, a: Alert) -> SeenAlert {
        SeenAlert {
            from,
            name: Some(a.description.name().to_string()),
            code: Some(a.description.to_u8()),
            fatal: Some(a.level == crate::wire::AlertLevel::Fatal),
            encrypted: false,
            openssl_reason: a.description.openssl_reason().map(str::to_string),
        }
    }

    fn encrypted(from: Side) -> SeenAlert {
        SeenAlert {
            from,
            name: None,
            code: None,
            fatal: None,
            encrypted: true,
            openssl_reason: None,
        }
    }
}

/// What a probe of the server found, per version (through the probe engine, with the
/// application's SNI), for failures the recorded handshake alone cannot explain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerProbe {
    /// Versions the server accepted, oldest first.
    pub accepted: Vec<String>,
    /// The suite it chose per accepted version, given every suite.
    pub suites: BTreeMap<String, String>,
    /// The key-share group it chose for TLS 1.3.
    pub tls13_group: Option<String>,
    #[serde(skip)]
    pub(crate) versions: Vec<ProtocolVersion>,
}

/// The reading of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub outcome: Outcome,
    /// Who ended the handshake; `None` when it completed or nobody did.
    pub gave_up: Option<Side>,
    pub alert: Option<SeenAlert>,
    /// The cause, from the finding catalogue, with what was seen as evidence.
    pub finding: Option<Finding>,
    /// What could not be seen, and so is inferred or unknown.
    pub unseen: Vec<String>,
}

/// Whether reading this connection needs a probe of the server's versions and suites.
pub fn needs_probe(rec: &Recording) -> bool {
    let f = rec.server();
    f.server_hello.is_none()
        && matches!(
            f.alert.map(|a| a.description),
            Some(AlertDescription::ProtocolVersion | AlertDescription::HandshakeFailure)
        )
}

/// Certificate alerts: the ones a client sends when it refuses the server's chain.
fn is_certificate_alert(d: AlertDescription) -> bool {
    use AlertDescription as D;
    matches!(
        d,
        D::UnknownCa
            | D::BadCertificate
            | D::CertificateUnknown
            | D::CertificateExpired
            | D::UnsupportedCertificate
            | D::CertificateRevoked
    )
}

/// Whether reading this connection needs the server's chain fetched apart: TLS 1.3, where
/// the certificate the application saw is encrypted, and the application refused the
/// certificate or gave up right after the server's encrypted flight.
pub fn needs_chain(rec: &Recording) -> bool {
    if !rec.is_tls13() || rec.server().alert.is_some() {
        return false;
    }
    match rec.client_alert() {
        Some(a) => is_certificate_alert(a.description),
        None => rec.encrypted_records(Side::Client) <= 1 && rec.endings[0].is_some(),
    }
}

/// The encrypted record a TLS 1.3 alert makes: 2 bytes, the inner type, a 16-byte tag (an
/// 8-byte one with AES-CCM-8), no padding from the stacks seen here.
fn alert_sized(len: usize) -> bool {
    (11..=40).contains(&len)
}

pub struct Inputs<'a> {
    pub rec: &'a Recording,
    pub ended: &'a EndReason,
    pub upstream: &'a str,
    pub probe: Option<&'a ServerProbe>,
    /// The server's chain as a separate connection of the relay got it (with the
    /// application's SNI), for TLS 1.3 failures where the application's copy is encrypted.
    pub fetched_chain: Option<&'a [CertSummary]>,
}

pub fn diagnose(i: &Inputs<'_>) -> Diagnosis {
    let mut d = Diagnosis {
        outcome: Outcome::Failed,
        gave_up: None,
        alert: None,
        finding: None,
        unseen: Vec::new(),
    };
    let rec = i.rec;
    if let EndReason::UpstreamUnreachable(reason) = i.ended {
        d.finding = Some(finding(
            FindingId::WatchUpstreamUnreachable,
            &[
                ("upstream", i.upstream.to_string()),
                ("reason", reason.clone()),
            ],
        ));
        return d;
    }
    if let Some(first) = &rec.client.not_tls {
        let what = crate::scan::plaintext::identify(first)
            .map(|p| format!("{} ({})", p.name, printable_prefix(first)))
            .unwrap_or_else(|| format!("\"{}\"", printable_prefix(first)));
        d.finding = Some(
            finding(FindingId::ClientNotTls, &[("what", what)]).evidence(format!(
                "first bytes from the application: {}",
                printable_prefix(first)
            )),
        );
        return d;
    }
    let Some(hello) = rec.client.hello.as_ref().map(HelloSummary::of) else {
        if rec.bytes[0] == 0 {
            d.outcome = match i.ended {
                EndReason::Shutdown => Outcome::Interrupted,
                _ => Outcome::NoHello,
            };
        } else if let Some(e) = &rec.client.error {
            d.finding = Some(
                finding(FindingId::WatchClientClosed, &[])
                    .evidence(format!("the application's first bytes do not parse: {e}")),
            );
        }
        return d;
    };
    let answer = AnswerSummary::of(rec.server(), rec.hello_retry.as_ref());
    let ev = evidence_lines(&hello, &answer, rec);
    if answer.negotiated == Some(ProtocolVersion::Tls13) {
        d.unseen.push(TLS13_UNSEEN.into());
    }
    if let Some(first) = &rec.server_not_tls {
        d.gave_up = Some(Side::Server);
        let f = match crate::scan::plaintext::identify(first) {
            Some(p) => finding(
                crate::finding::variant::not_tls::NAMED,
                &[
                    ("name", p.name.to_string()),
                    ("hint", format!("it speaks {}: {}", p.name, p.hint)),
                ],
            ),
            None => finding(
                FindingId::NotTls,
                &[("hint", "it answers, but not with TLS".to_string())],
            ),
        };
        d.finding = Some(with_evidence(
            f.evidence(format!(
                "the server answered the hello with: {}",
                printable_prefix(first)
            )),
            &ev,
        ));
        return d;
    }

    if let Some(a) = clear_server_alert(rec) {
        d.gave_up = Some(Side::Server);
        d.alert = Some(SeenAlert::clear(Side::Server, a));
        d.finding = Some(server_alert(i, &hello, &answer, a, &ev));
        return d;
    }
    if let Some(a) = rec.client_alert() {
        d.gave_up = Some(Side::Client);
        d.alert = Some(SeenAlert::clear(Side::Client, a));
        d.finding = Some(client_alert(i, &hello, &answer, a, &ev));
        return d;
    }
    if rec.server().server_hello.is_none() {
        return no_server_hello(i, d, &hello, &ev);
    }
    if answer.negotiated == Some(ProtocolVersion::Tls13) {
        return tls13(i, d, &hello, &ev);
    }
    tls12_without_alert(i, d, &ev)
}

/// A fatal server alert in clear, else any clear server alert other than close_notify.
fn clear_server_alert(rec: &Recording) -> Option<Alert> {
    rec.server()
        .alert
        .filter(|a| a.description != AlertDescription::CloseNotify)
}

/// The facts every reading quotes: what the application offered, what the server answered.
fn evidence_lines(h: &HelloSummary, a: &AnswerSummary, rec: &Recording) -> Vec<String> {
    let mut ev = vec![format!(
        "the application offered {} (SNI {}, ALPN {}, {} cipher suites, groups {})",
        if h.versions.is_empty() {
            "no version".to_string()
        } else {
            h.versions.join(", ")
        },
        h.sni.as_deref().unwrap_or("none"),
        if h.alpn.is_empty() {
            "none".to_string()
        } else {
            h.alpn.join(", ")
        },
        h.cipher_suites.len(),
        if h.groups.is_empty() {
            "none".to_string()
        } else {
            h.groups.join(", ")
        }
    )];
    if let Some(g) = &a.hello_retry_group {
        ev.push(format!(
            "the server asked for a retry with group {g} (HelloRetryRequest)"
        ));
    }
    if let Some(v) = &a.version {
        ev.push(format!(
            "the server answered {v} with {}{}{}",
            a.cipher_suite.as_deref().unwrap_or("?"),
            a.group
                .as_deref()
                .map(|g| format!(", group {g}"))
                .unwrap_or_default(),
            a.alpn
                .as_deref()
                .map(|p| format!(", ALPN {p}"))
                .unwrap_or_default()
        ));
    }
    if let Some(leaf) = a.certificates.first() {
        ev.push(format!(
            "its certificate: {} issued by {} (valid {} to {}; {} certificate(s) sent)",
            leaf.subject,
            leaf.issuer,
            leaf.not_before,
            leaf.not_after,
            a.certificates.len()
        ));
    }
    if a.certificate_request {
        ev.push("the server asked for a client certificate (CertificateRequest)".into());
    }
    if let Some(e) = &rec.server_error {
        ev.push(format!("the server's bytes stopped parsing: {e}"));
    }
    ev
}

fn with_evidence(mut f: Finding, ev: &[String]) -> Finding {
    for line in ev {
        f = f.evidence(line.clone());
    }
    f
}

fn names(vs: &[ProtocolVersion]) -> String {
    vs.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
}

/// The server refused with an alert in clear.
fn server_alert(
    i: &Inputs<'_>,
    h: &HelloSummary,
    a: &AnswerSummary,
    alert: Alert,
    ev: &[String],
) -> Finding {
    use AlertDescription as D;
    let said = format!(
        "the server sent the alert {} ({}){}",
        alert.description.name(),
        alert.description.to_u8(),
        if a.version.is_none() {
            " in answer to the hello"
        } else {
            ""
        }
    );
    let f = match alert.description {
        D::ProtocolVersion if a.version.is_none() => versions(i, h),
        D::HandshakeFailure if a.version.is_none() => nothing_in_common(i, h),
        D::UnrecognizedName if h.sni.is_none() => {
            finding(crate::finding::variant::sni_required::EVERY_CONNECTION, &[])
                .evidence("the application sent no server name (SNI)")
        }
        D::UnrecognizedName => finding(FindingId::ServerAlert, &[]).evidence(format!(
            "the server does not serve the name the application asked for ({})",
            h.sni.as_deref().unwrap_or("")
        )),
        D::InternalError => finding(FindingId::ServerInternalError, &[]),
        D::DecodeError => finding(FindingId::ServerDecodeError, &[]),
        D::CertificateRequired => finding(FindingId::ClientCertRequired, &[]),
        D::HandshakeFailure
        | D::BadCertificate
        | D::UnknownCa
        | D::CertificateExpired
        | D::CertificateUnknown
        | D::AccessDenied
            if a.certificate_request =>
        {
            let sent = i.rec.client.certificates_sent.unwrap_or(0);
            if sent == 0 {
                finding(FindingId::ClientCertRequired, &[])
                    .evidence("the application sent no client certificate")
            } else {
                finding(FindingId::ClientCertRejected, &[])
                    .evidence(format!("the application sent {sent} certificate(s)"))
            }
        }
        _ => finding(FindingId::ServerAlert, &[]),
    };
    with_evidence(said_first(f, said), ev)
}

/// Put what the peer said before the reading's own evidence.
fn said_first(mut f: Finding, said: String) -> Finding {
    f.evidence.insert(0, said);
    f
}

/// A protocol_version alert to the hello: the versions on each side decide which finding.
fn versions(i: &Inputs<'_>, h: &HelloSummary) -> Finding {
    let client = names(&h.offered);
    let Some(p) = i.probe.filter(|p| !p.versions.is_empty()) else {
        return finding(FindingId::ProtoMismatch, &[]).evidence(format!(
            "the application offers {client}; the server accepts none of them{}",
            if i.probe.is_some() {
                " (and accepted none of tlsdoctor's probes either)"
            } else {
                ""
            }
        ));
    };
    let server = names(&p.versions);
    let vars = [
        ("server_versions", server.clone()),
        ("client_versions", client.clone()),
    ];
    let probed = format!("a probe of the server: it accepts {server}");
    let (Some((cmin, cmax)), Some(smin), Some(smax)) =
        (h.range(), p.versions.iter().min(), p.versions.iter().max())
    else {
        return finding(FindingId::ProtoMismatch, &[]).evidence(probed);
    };
    if *smax < cmin {
        if *smax < ProtocolVersion::Tls12 {
            finding(FindingId::ProtoServerTooOld, &vars).evidence(probed)
        } else {
            finding(FindingId::ProtoClientTooStrict, &vars).evidence(probed)
        }
    } else if *smin > cmax {
        finding(FindingId::ProtoClientTooOld, &vars).evidence(probed)
    } else {
        // The ranges overlap yet the server refused: it ignores a version the hello offers
        // (e.g. an old server that does not read supported_versions).
        finding(FindingId::ProtoMismatch, &[]).evidence(probed)
    }
}

/// A handshake_failure alert to the hello: whether a probe with every suite gets through at
/// the application's highest version, and with which suite.
fn nothing_in_common(i: &Inputs<'_>, h: &HelloSummary) -> Finding {
    let Some(p) = i.probe else {
        return finding(FindingId::ServerAlert, &[]);
    };
    let common: Vec<&ProtocolVersion> = h
        .offered
        .iter()
        .filter(|v| p.versions.contains(v))
        .collect();
    let Some(top) = common.iter().max() else {
        return versions(i, h);
    };
    let chosen = p.suites.get(&top.name()).cloned().unwrap_or_default();
    if !chosen.is_empty() && !h.cipher_suites.contains(&chosen) {
        finding(FindingId::NoSharedCipher, &[]).evidence(format!(
            "a probe offering every suite at {}: the server chose {chosen}, which the application does not offer",
            top.name()
        ))
    } else {
        let mut f = finding(FindingId::ServerAlert, &[]).evidence(format!(
            "a probe offering every suite at {} gets through{}: the application's groups or signature algorithms, not its suites, are what the server refuses",
            top.name(),
            if chosen.is_empty() {
                String::new()
            } else {
                format!(" ({chosen})")
            }
        ));
        if let Some(g) = &p.tls13_group {
            f = f.evidence(format!("for TLS 1.3 the server chose the group {g}"));
        }
        f
    }
}

/// The application refused with an alert in clear (TLS ≤ 1.2, or before encryption).
fn client_alert(
    i: &Inputs<'_>,
    h: &HelloSummary,
    a: &AnswerSummary,
    alert: Alert,
    ev: &[String],
) -> Finding {
    use AlertDescription as D;
    let said = format!(
        "the application sent the alert {} ({}) after the server's {}",
        alert.description.name(),
        alert.description.to_u8(),
        if !a.certificates.is_empty() {
            "certificate"
        } else if a.negotiated == Some(ProtocolVersion::Tls13) {
            "encrypted flight (its certificate included)"
        } else {
            "ServerHello"
        }
    );
    let f = match alert.description {
        D::ProtocolVersion => match a.negotiated {
            Some(v) if !h.offers(v) || v < ProtocolVersion::Tls12 => {
                let vars = [
                    ("server_versions", v.name()),
                    ("client_versions", names(&h.offered)),
                ];
                let why = format!(
                    "the server chose {}, which the application does not accept (it offers {})",
                    v.name(),
                    names(&h.offered)
                );
                if v < ProtocolVersion::Tls12 {
                    finding(FindingId::ProtoServerTooOld, &vars).evidence(why)
                } else {
                    finding(FindingId::ProtoClientTooStrict, &vars).evidence(why)
                }
            }
            _ => generic_client_alert(i, alert),
        },
        d if is_certificate_alert(d) && !a.certificates.is_empty() => {
            certificate(h, &a.certificates, alert)
        }
        d if is_certificate_alert(d) && i.fetched_chain.is_some_and(|c| !c.is_empty()) => {
            let chain = i.fetched_chain.unwrap_or_default();
            let mut f = certificate(h, chain, alert).evidence(
                "TLS 1.3 encrypts the certificate the application saw: the chain below is the one the server sent the relay's own connection, with the same SNI",
            );
            for line in chain_lines(i.fetched_chain) {
                f = f.evidence(line);
            }
            f
        }
        D::HandshakeFailure | D::InsufficientSecurity => {
            if a.secure_renegotiation == Some(false) && h.renegotiation_info {
                finding(FindingId::NoSecureRenegotiation, &[]).evidence(
                    "the server's ServerHello has no renegotiation_info: OpenSSL 3 clients refuse it",
                )
            } else if let Some(bits) = a.dh_bits.filter(|b| *b < 2048) {
                finding(FindingId::DhTooSmall, &[])
                    .evidence(format!("the server's DHE group is {bits} bits"))
            } else {
                generic_client_alert(i, alert)
            }
        }
        _ => generic_client_alert(i, alert),
    };
    with_evidence(said_first(f, said), ev)
}

fn generic_client_alert(i: &Inputs<'_>, alert: Alert) -> Finding {
    finding(
        FindingId::WatchClientAlert,
        &[
            ("alert", alert.description.name().to_string()),
            ("upstream", i.upstream.to_string()),
        ],
    )
}

/// The application refused the certificate it saw in clear: which property of the chain
/// its alert points at.
fn certificate(h: &HelloSummary, chain: &[CertSummary], alert: Alert) -> Finding {
    use AlertDescription as D;
    let leaf = &chain[0];
    let now_expired = leaf.days_left < 0;
    if alert.description == D::CertificateExpired || now_expired {
        return finding(
            FindingId::CertExpired,
            &[
                ("role", "leaf".into()),
                ("subject", leaf.subject.clone()),
                ("not_after", leaf.not_after.clone()),
            ],
        );
    }
    if let Some(host) = &h.sni {
        let dns: Vec<&str> = leaf
            .sans
            .iter()
            .filter_map(|s| s.strip_prefix("DNS:"))
            .collect();
        if !dns.is_empty() && !dns.iter().any(|p| dns_name_matches(p, host)) {
            return finding(
                FindingId::CertHostnameMismatch,
                &[("host", host.clone()), ("name_type", "DNS".to_string())],
            )
            .evidence(format!("the certificate's names: {}", leaf.sans.join(", ")));
        }
    }
    if leaf.self_issued {
        return finding(
            FindingId::CertSelfSigned,
            &[("subject", leaf.subject.clone())],
        )
        .evidence("the application does not trust this self-signed certificate");
    }
    let last = chain.last().unwrap_or(leaf);
    if last.self_issued {
        finding(
            FindingId::CertUntrustedRoot,
            &[("root", last.subject.clone())],
        )
        .evidence("the application does not trust the root the server sends")
    } else {
        finding(FindingId::CertUntrustedRoot, &[("root", last.issuer.clone())]).evidence(format!(
            "the issuer \"{}\" is not sent: either the server leaves out an intermediate, or the chain ends in a private root the application does not hold",
            last.issuer
        ))
    }
}

/// No ServerHello and no alert: the server closed, reset or never answered the hello.
fn no_server_hello(i: &Inputs<'_>, mut d: Diagnosis, h: &HelloSummary, ev: &[String]) -> Diagnosis {
    let rec = i.rec;
    match i.ended {
        EndReason::Shutdown => {
            d.outcome = Outcome::Interrupted;
            return d;
        }
        EndReason::HandshakeTimeout(t) => {
            d.finding = Some(with_evidence(
                finding(
                    FindingId::WatchHandshakeTimeout,
                    &[("seconds", format!("{}", t.as_secs_f64()))],
                )
                .evidence("the server never answered the application's hello"),
                ev,
            ));
            return d;
        }
        _ => {}
    }
    let (server_end, client_end) = (&rec.endings[1], &rec.endings[0]);
    let server_first = match (server_end, client_end) {
        (Some(s), Some(c)) => s.at_ms() <= c.at_ms(),
        (Some(_), None) => true,
        _ => false,
    };
    if !server_first {
        d.gave_up = Some(Side::Client);
        d.finding = Some(with_evidence(
            finding(FindingId::WatchClientClosed, &[])
                .evidence("the application closed before the server answered its hello"),
            ev,
        ));
        return d;
    }
    d.gave_up = Some(Side::Server);
    let how = match server_end {
        Some(Ending::Reset { .. }) => "reset the connection",
        _ => "closed the connection",
    };
    let f = if h.sni.is_none() {
        finding(crate::finding::variant::sni_required::EVERY_CONNECTION, &[])
            .evidence("the application sent no server name (SNI)")
    } else {
        finding(FindingId::ServerClosed, &[])
    };
    d.finding = Some(with_evidence(
        f.evidence(format!("the server {how} without answering the hello")),
        ev,
    ));
    d
}

/// TLS 1.3 without a clear alert: everything after the ServerHello is encrypted, so the
/// reading comes from record sizes and who closed first.
fn tls13(i: &Inputs<'_>, mut d: Diagnosis, h: &HelloSummary, ev: &[String]) -> Diagnosis {
    let rec = i.rec;
    let client_enc = rec.encrypted_records(Side::Client);
    let server_enc = rec.encrypted_records(Side::Server);
    let ended_first = first_to_end(rec);
    let last_client = rec.last_record(Side::Client).filter(|r| r.encrypted);
    let last_server = rec.last_record(Side::Server).filter(|r| r.encrypted);
    let client_aborted = client_enc <= 1
        && last_client.is_some_and(|r| alert_sized(r.length))
        && ended_first == Some(Side::Client);
    if client_aborted {
        d.gave_up = Some(Side::Client);
        d.alert = Some(SeenAlert::encrypted(Side::Client));
        d.finding = Some(with_evidence(
            finding(
                FindingId::WatchTls13ClientGaveUp,
                &[
                    ("upstream", i.upstream.to_string()),
                    ("sni", h.sni.clone().unwrap_or_else(|| "NAME".into())),
                ],
            )
            .evidence(format!(
                "after the server's {server_enc} encrypted record(s) the application sent one encrypted record of {} bytes — the size of an alert — and closed",
                last_client.map(|r| r.length).unwrap_or(0)
            )),
            &[ev, &chain_lines(i.fetched_chain)].concat(),
        ));
        return d;
    }
    let server_aborted = client_enc >= 1
        && last_server.is_some_and(|r| alert_sized(r.length))
        && ended_first == Some(Side::Server)
        && !data_flowed(rec);
    if server_aborted {
        d.gave_up = Some(Side::Server);
        d.alert = Some(SeenAlert::encrypted(Side::Server));
        d.finding = Some(with_evidence(
            finding(
                FindingId::WatchTls13ServerGaveUp,
                &[("upstream", i.upstream.to_string())],
            )
            .evidence(format!(
                "after the application's {client_enc} encrypted record(s) the server sent an encrypted record of {} bytes — the size of an alert — and closed",
                last_server.map(|r| r.length).unwrap_or(0)
            )),
            ev,
        ));
        return d;
    }
    if client_enc >= 1 && server_enc >= 1 && (data_flowed(rec) || ended_first.is_none()) {
        d.outcome = Outcome::Completed;
        return d;
    }
    unfinished(i, d, ev)
}

/// The chain a separate connection got, described, for TLS 1.3 readings.
fn chain_lines(chain: Option<&[CertSummary]>) -> Vec<String> {
    chain
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(n, c)| {
            format!(
                "certificate #{} the server sends (fetched by the relay's own connection): {} issued by {}{}, valid to {}",
                n + 1,
                c.subject,
                c.issuer,
                if c.self_issued { " (self-signed)" } else { "" },
                c.not_after
            )
        })
        .collect()
}

/// More than the handshake went both ways: the client sent at least two encrypted records
/// (Finished, then data) and the server answered after the client's first one.
fn data_flowed(rec: &Recording) -> bool {
    let first_client_enc = rec
        .log
        .iter()
        .find(|r| r.from == Side::Client && r.encrypted)
        .map(|r| r.seq);
    rec.encrypted_records(Side::Client) >= 2
        && first_client_enc.is_some_and(|seq| {
            rec.log
                .iter()
                .any(|r| r.from == Side::Server && r.encrypted && r.seq > seq)
        })
}

fn first_to_end(rec: &Recording) -> Option<Side> {
    match (&rec.endings[0], &rec.endings[1]) {
        (Some(c), Some(s)) => Some(if c.at_ms() <= s.at_ms() {
            Side::Client
        } else {
            Side::Server
        }),
        (Some(_), None) => Some(Side::Client),
        (None, Some(_)) => Some(Side::Server),
        (None, None) => None,
    }
}

/// TLS ≤ 1.2 with a ServerHello and no alert in clear.
fn tls12_without_alert(i: &Inputs<'_>, mut d: Diagnosis, ev: &[String]) -> Diagnosis {
    let rec = i.rec;
    let both_encrypting = rec.client.change_cipher_spec
        && rec.server().change_cipher_spec
        && rec.encrypted_records(Side::Client) >= 1
        && rec.encrypted_records(Side::Server) >= 1;
    if both_encrypting {
        // An encrypted alert after both Finished messages is a normal close_notify or a
        // later error; the handshake itself completed.
        d.outcome = Outcome::Completed;
        return d;
    }
    unfinished(i, d, ev)
}

/// The handshake stopped without a readable alert.
fn unfinished(i: &Inputs<'_>, mut d: Diagnosis, ev: &[String]) -> Diagnosis {
    let rec = i.rec;
    match i.ended {
        EndReason::Shutdown => {
            d.outcome = Outcome::Interrupted;
            return d;
        }
        EndReason::HandshakeTimeout(t) => {
            d.finding = Some(with_evidence(
                finding(
                    FindingId::WatchHandshakeTimeout,
                    &[("seconds", format!("{}", t.as_secs_f64()))],
                ),
                ev,
            ));
            return d;
        }
        _ => {}
    }
    // An encrypted alert record (TLS ≤ 1.2 keeps the alert content type visible).
    for side in [Side::Client, Side::Server] {
        if rec
            .last_record(side)
            .is_some_and(|r| r.encrypted && r.content_type == "alert")
        {
            d.gave_up = Some(side);
            d.alert = Some(SeenAlert::encrypted(side));
            d.unseen.push(
                "the alert was sent after ChangeCipherSpec: its description is encrypted".into(),
            );
        }
    }
    let side = d.gave_up.or_else(|| first_to_end(rec));
    d.gave_up = side;
    let f = match side {
        Some(Side::Server) => finding(FindingId::ServerClosed, &[])
            .evidence("the server closed during the handshake without a readable alert"),
        _ => finding(FindingId::WatchClientClosed, &[]),
    };
    d.finding = Some(with_evidence(f, ev));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ServerHello;
    use crate::wire::alert::Alert;
    use crate::wire::codec::Codec;
    use crate::wire::extension::ServerExtension;
    use crate::wire::groups::NamedGroup;
    use crate::wire::handshake::HandshakeMessage;
    use crate::wire::record::{ContentType, Record};
    use crate::wire::suites::CipherSuiteId;

    fn rec(typ: ContentType, payload: Vec<u8>) -> Vec<u8> {
        Record {
            typ,
            version: 0x0303,
            payload,
        }
        .to_bytes()
    }

    fn hello(v: ProtocolVersion) -> Vec<u8> {
        crate::scan::versions::probe_hello(v, Some("db.test"))
    }

    fn tls13_server_hello() -> Vec<u8> {
        let sh = ServerHello {
            legacy_version: 0x0303,
            random: [7; 32],
            session_id: vec![0; 32],
            cipher_suite: CipherSuiteId(0x1301),
            compression: 0,
            extensions: vec![
                ServerExtension::SupportedVersions(0x0304),
                ServerExtension::KeyShare {
                    group: NamedGroup::X25519,
                    key_exchange: vec![9; 32],
                },
            ],
            is_hello_retry_request: false,
        };
        rec(ContentType::Handshake, HandshakeMessage::of(&sh).to_bytes())
    }

    fn read(r: &Recording, ended: EndReason, probe: Option<&ServerProbe>) -> Diagnosis {
        diagnose(&Inputs {
            rec: r,
            ended: &ended,
            upstream: "db.test:443",
            probe,
            fetched_chain: None,
        })
    }

    fn probe(vs: &[ProtocolVersion]) -> ServerProbe {
        ServerProbe {
            accepted: vs.iter().map(|v| v.name()).collect(),
            versions: vs.to_vec(),
            ..ServerProbe::default()
        }
    }

    fn refused_hello(v: ProtocolVersion) -> Recording {
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(v), Duration::ZERO);
        r.feed(
            Side::Server,
            &rec(ContentType::Alert, vec![2, 70]),
            Duration::ZERO,
        );
        assert!(needs_probe(&r));
        r
    }

    #[test]
    fn protocol_version_alert_is_read_against_the_probed_versions() {
        use ProtocolVersion as V;
        let r = refused_hello(V::Tls13);
        let id = |p: &ServerProbe| {
            read(&r, EndReason::PeersClosed, Some(p))
                .finding
                .unwrap()
                .id
        };
        // The probe hello for TLS 1.3 lists 1.3 and 1.2.
        assert_eq!(id(&probe(&[V::Tls10])), FindingId::ProtoServerTooOld);
        let d = read(&r, EndReason::PeersClosed, Some(&probe(&[V::Tls10])));
        assert_eq!(d.gave_up, Some(Side::Server));
        assert_eq!(d.alert.unwrap().name.as_deref(), Some("protocol_version"));
        let r12 = refused_hello(V::Tls10);
        let id12 = |p: &ServerProbe| {
            read(&r12, EndReason::PeersClosed, Some(p))
                .finding
                .unwrap()
                .id
        };
        assert_eq!(
            id12(&probe(&[V::Tls12, V::Tls13])),
            FindingId::ProtoClientTooOld
        );
        assert_eq!(
            read(&r, EndReason::PeersClosed, None).finding.unwrap().id,
            FindingId::ProtoMismatch
        );
    }

    #[test]
    fn tls13_abort_is_inferred_from_record_sizes_and_who_closed() {
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(ProtocolVersion::Tls13), Duration::ZERO);
        r.feed(Side::Server, &tls13_server_hello(), Duration::ZERO);
        r.feed(
            Side::Server,
            &rec(ContentType::ChangeCipherSpec, vec![1]),
            Duration::ZERO,
        );
        for n in [40, 900, 300, 60] {
            r.feed(
                Side::Server,
                &rec(ContentType::ApplicationData, vec![0; n]),
                Duration::ZERO,
            );
        }
        r.feed(
            Side::Client,
            &rec(ContentType::ChangeCipherSpec, vec![1]),
            Duration::ZERO,
        );
        r.feed(
            Side::Client,
            &rec(ContentType::ApplicationData, vec![0; 19]),
            Duration::ZERO,
        );
        r.end(Side::Client, Ending::Closed { at_ms: 5 });
        r.end(Side::Server, Ending::Closed { at_ms: 6 });
        assert!(needs_chain(&r));
        let d = read(&r, EndReason::PeersClosed, None);
        assert_eq!(d.gave_up, Some(Side::Client));
        assert!(d.alert.as_ref().unwrap().encrypted);
        assert_eq!(d.finding.unwrap().id, FindingId::WatchTls13ClientGaveUp);
        assert!(d.unseen[0].contains("encrypted"));

        // Same start, then Finished and data from the client and an answer: completed.
        let mut ok = Recording::new();
        ok.feed(Side::Client, &hello(ProtocolVersion::Tls13), Duration::ZERO);
        ok.feed(Side::Server, &tls13_server_hello(), Duration::ZERO);
        ok.feed(
            Side::Server,
            &rec(ContentType::ApplicationData, vec![0; 900]),
            Duration::ZERO,
        );
        for n in [53, 120] {
            ok.feed(
                Side::Client,
                &rec(ContentType::ApplicationData, vec![0; n]),
                Duration::ZERO,
            );
        }
        ok.feed(
            Side::Server,
            &rec(ContentType::ApplicationData, vec![0; 300]),
            Duration::ZERO,
        );
        ok.end(Side::Client, Ending::Closed { at_ms: 50 });
        let d = read(&ok, EndReason::PeersClosed, None);
        assert_eq!(d.outcome, Outcome::Completed, "{d:?}");
    }

    #[test]
    fn silence_and_plaintext() {
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(ProtocolVersion::Tls13), Duration::ZERO);
        r.end(Side::Server, Ending::Closed { at_ms: 1 });
        let d = read(&r, EndReason::PeersClosed, None);
        assert_eq!(d.finding.unwrap().id, FindingId::ServerClosed);
        assert_eq!(d.gave_up, Some(Side::Server));
        let d = read(
            &r,
            EndReason::HandshakeTimeout(Duration::from_secs(3)),
            None,
        );
        assert_eq!(d.finding.unwrap().id, FindingId::WatchHandshakeTimeout);

        let mut p = Recording::new();
        p.feed(
            Side::Client,
            b"\x3a\x00\x00\x00mongo op_msg",
            Duration::ZERO,
        );
        let d = read(&p, EndReason::PeersClosed, None);
        assert_eq!(d.finding.unwrap().id, FindingId::ClientNotTls);
    }

    fn cert(subject: &str, issuer: &str, sans: &[&str], days_left: i64) -> CertSummary {
        CertSummary {
            subject: subject.into(),
            issuer: issuer.into(),
            sans: sans.iter().map(|s| s.to_string()).collect(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            days_left,
            self_issued: subject == issuer,
        }
    }

    /// Every certificate reading builds its finding (each catalogue placeholder filled).
    #[test]
    fn certificate_readings() {
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(ProtocolVersion::Tls12), Duration::ZERO);
        let h = HelloSummary::of(r.client.hello.as_ref().unwrap());
        let alert = |d| Alert::fatal(d);
        let leaf = |sans: &[&str], days| vec![cert("CN=db.test", "CN=Int", sans, days)];
        let id = |chain: &[CertSummary], d| certificate(&h, chain, alert(d)).id;
        use AlertDescription as D;
        assert_eq!(
            id(&leaf(&["DNS:db.test"], -3), D::CertificateExpired),
            FindingId::CertExpired
        );
        assert_eq!(
            id(&leaf(&["DNS:other.test"], 30), D::BadCertificate),
            FindingId::CertHostnameMismatch
        );
        assert_eq!(
            id(&leaf(&["DNS:db.test"], 30), D::UnknownCa),
            FindingId::CertUntrustedRoot
        );
        let with_root = [
            cert("CN=db.test", "CN=Root", &["DNS:db.test"], 30),
            cert("CN=Root", "CN=Root", &[], 300),
        ];
        let f = certificate(&h, &with_root, alert(D::UnknownCa));
        assert_eq!(f.id, FindingId::CertUntrustedRoot);
        assert!(f.title.contains("CN=Root"), "{}", f.title);
        let selfsigned = [cert("CN=db.test", "CN=db.test", &["DNS:db.test"], 30)];
        assert_eq!(id(&selfsigned, D::UnknownCa), FindingId::CertSelfSigned);
    }

    /// Every clear server alert to the hello builds its finding.
    #[test]
    fn server_alert_readings() {
        use AlertDescription as D;
        for (code, want) in [
            (D::InternalError, FindingId::ServerInternalError),
            (D::DecodeError, FindingId::ServerDecodeError),
            (D::CertificateRequired, FindingId::ClientCertRequired),
            (D::NoApplicationProtocol, FindingId::ServerAlert),
            (D::UnrecognizedName, FindingId::ServerAlert),
            (D::HandshakeFailure, FindingId::NoSharedCipher),
        ] {
            let mut r = Recording::new();
            r.feed(Side::Client, &hello(ProtocolVersion::Tls12), Duration::ZERO);
            r.feed(
                Side::Server,
                &rec(ContentType::Alert, vec![2, code.to_u8()]),
                Duration::ZERO,
            );
            let mut p = probe(&[ProtocolVersion::Tls12]);
            p.suites
                .insert("TLSv1.2".into(), "NOT-A-SUITE-THE-HELLO-HAS".into());
            let d = read(&r, EndReason::PeersClosed, Some(&p));
            assert_eq!(d.finding.unwrap().id, want, "{code:?}");
            assert_eq!(d.gave_up, Some(Side::Server));
        }
    }

    /// The application's own alerts without a certificate to judge, and TLS 1.3 server aborts.
    #[test]
    fn client_alert_and_server_abort_readings() {
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(ProtocolVersion::Tls13), Duration::ZERO);
        r.feed(Side::Server, &tls13_server_hello(), Duration::ZERO);
        r.feed(
            Side::Client,
            &rec(ContentType::Alert, vec![2, 47]),
            Duration::ZERO,
        );
        let d = read(&r, EndReason::PeersClosed, None);
        assert_eq!(d.finding.unwrap().id, FindingId::WatchClientAlert);
        assert_eq!(d.gave_up, Some(Side::Client));
        assert!(d.unseen[0].starts_with("TLS 1.3"));

        let mut r = Recording::new();
        r.feed(Side::Client, &hello(ProtocolVersion::Tls13), Duration::ZERO);
        r.feed(Side::Server, &tls13_server_hello(), Duration::ZERO);
        r.feed(
            Side::Server,
            &rec(ContentType::ApplicationData, vec![0; 900]),
            Duration::ZERO,
        );
        r.feed(
            Side::Client,
            &rec(ContentType::ApplicationData, vec![0; 53]),
            Duration::ZERO,
        );
        r.feed(
            Side::Server,
            &rec(ContentType::ApplicationData, vec![0; 19]),
            Duration::ZERO,
        );
        r.end(Side::Server, Ending::Closed { at_ms: 3 });
        r.end(Side::Client, Ending::Closed { at_ms: 4 });
        let d = read(&r, EndReason::PeersClosed, None);
        assert_eq!(d.finding.unwrap().id, FindingId::WatchTls13ServerGaveUp);
        assert_eq!(d.gave_up, Some(Side::Server));
        assert!(d.alert.unwrap().encrypted);
    }
}
