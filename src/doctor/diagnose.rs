//! Evidence → findings. Each rule reads measured facts and, when they show a problem,
//! produces a finding with those facts as evidence and the simulated clients it breaks.

use super::evidence::Evidence;
use crate::clients::{
    BreakKey, ErrorStyle, Failure, HandshakeFailure, SecurityLevel, failure_text,
};
use crate::finding::catalogue::{self, finding};
use crate::finding::{Finding, FindingId, variant};
use crate::scan::properties::NoSniBehaviour;
use crate::scan::{ScanError, ServerScan, plaintext};
use crate::simulate::Simulation;
use crate::wire::ProtocolVersion;

pub fn findings(ev: &Evidence) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    if let Some(chain) = &ev.chain {
        out.extend(chain.findings.iter().cloned());
    }
    super::served::findings(ev, &mut out);
    if let Some(o) = &ev.ocsp {
        for mut f in crate::ocsp::findings(o, &ev.profiles) {
            let id = f.id;
            add_breaks(&mut f, failing(ev, id));
            out.push(f);
        }
    }
    match &ev.observed.scan {
        Ok(scan) => {
            simulation_findings(ev, scan, &mut out);
            super::handshake::findings(ev, scan, &mut out);
            // What each check's evidence shows on its own (weak configuration that breaks
            // nobody today), from the check registry.
            out.extend(scan.findings());
        }
        Err(ScanError::NotTls { first_bytes, .. }) => out.push(not_tls(ev, first_bytes)),
        Err(ScanError::Upgrade { prelude, error, .. }) => {
            out.push(crate::starttls::failure_finding(prelude, error))
        }
        Err(e) if ev.observed.sni.is_none() && every_probe_alerted(ev) => {
            // Nothing was accepted and no name was sent: the classic SNI-only server
            // reached by IP address.
            let mut f = finding(variant::sni_required::EVERY_CONNECTION, &[])
                .evidence("no SNI was sent (the target is an IP address and no --sni was given)")
                .evidence(e.to_string());
            add_breaks(&mut f, ev.simulations.iter().filter(|s| !s.connects));
            out.push(f);
        }
        Err(e) => {
            let mut f = finding(variant::server_closed::EVERY_HELLO, &[]).evidence(e.to_string());
            add_breaks(&mut f, ev.simulations.iter().filter(|s| !s.connects));
            out.push(f);
        }
    }
    super::handshake::closed_without_alert(ev, &mut out);
    super::handshake::suites_need_other_certificate(ev, &mut out);
    dedupe(&mut out);
    local_client_context(ev, &mut out);
    out
}

/// When the verdict rests on a local client's own settings, say so on the findings those
/// settings decide.
fn local_client_context(ev: &Evidence, out: &mut [Finding]) {
    let Some(local) = &ev.local_client else {
        conf_in_force(ev, out);
        return;
    };
    let conf = local.openssl_conf.as_ref().map(|p| p.display().to_string());
    for f in out.iter_mut() {
        match f.id {
            FindingId::ProtoClientTooOld | FindingId::ProtoServerTooOld => {
                f.evidence.push(format!(
                    "{} on this machine negotiates {} to {}",
                    local.name,
                    local.min_protocol.as_deref().unwrap_or("?"),
                    local.max_protocol.as_deref().unwrap_or("?")
                ));
                if let Some(c) = &conf {
                    f.evidence.push(format!("it loads the OpenSSL configuration {c}; MinProtocol/MaxProtocol there narrow its range"));
                    let form = if f.id == FindingId::ProtoClientTooOld {
                        variant::proto_client_too_old::LOCAL_OPENSSL_CONF
                    } else {
                        variant::proto_server_too_old::LOCAL_OPENSSL_CONF
                    };
                    f.fix_client = catalogue::fix_client(form, &[("conf", c.clone())]);
                }
            }
            FindingId::NoSecureRenegotiation
                if local.unsafe_legacy_server_connect == Some(true) =>
            {
                f.evidence.push(format!(
                    "{} on this machine connects anyway: its OpenSSL configuration{} enables UnsafeLegacyServerConnect",
                    local.name,
                    conf.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
                ));
                f.evidence.push("that option re-opens the TLS renegotiation attack (CVE-2009-3555) for every connection this client makes: keep it to this one server and get the server fixed".into());
            }
            _ => {}
        }
    }
}

/// A protocol mismatch of clients whose range an OPENSSL_CONF in force while `check` ran
/// narrowed: the configuration is the cause to look at first, not the client's age.
fn conf_in_force(ev: &Evidence, out: &mut [Finding]) {
    let narrowed: Vec<(&str, &std::path::Path)> = failing(ev, FindingId::ProtoMismatch)
        .filter_map(|s| {
            let p = ev.profiles.iter().find(|p| p.id == s.client)?;
            Some((s.client_name.as_str(), p.narrowed_by.as_deref()?))
        })
        .collect();
    let Some((_, conf)) = narrowed.first() else {
        return;
    };
    let conf = conf.display().to_string();
    let names: Vec<&str> = narrowed.iter().map(|(n, _)| *n).collect();
    for f in out.iter_mut() {
        let form = match f.id {
            FindingId::ProtoClientTooOld => variant::proto_client_too_old::LOCAL_OPENSSL_CONF,
            FindingId::ProtoServerTooOld => variant::proto_server_too_old::LOCAL_OPENSSL_CONF,
            _ => continue,
        };
        f.evidence.push(format!(
            "{} read the OpenSSL configuration {conf} (OPENSSL_CONF, in force while check ran); its MinProtocol/MaxProtocol narrow their range",
            names.join(", ")
        ));
        f.fix_client = catalogue::fix_client(form, &[("conf", conf.clone())]);
    }
}

pub(super) fn add_breaks<'a>(f: &mut Finding, sims: impl Iterator<Item = &'a Simulation>) {
    for s in sims {
        if let Some(fail) = &s.failure {
            let key = Some(BreakKey::Simulated {
                profile: s.client.clone(),
            });
            if !f.breaks.iter().any(|b| b.key == key) {
                f.breaks.push(crate::finding::ClientBreak {
                    client: s.client_name.clone(),
                    error: fail.error.clone(),
                    key,
                    unquoted: fail.error.is_empty().then(|| fail.reason.clone()),
                    after: None,
                });
            }
        }
    }
}

pub(super) fn failing(ev: &Evidence, finding_id: FindingId) -> impl Iterator<Item = &Simulation> {
    ev.simulations.iter().filter(move |s| {
        s.failure
            .as_ref()
            .is_some_and(|f| f.finding == Some(finding_id))
    })
}

fn names(vs: &[ProtocolVersion]) -> String {
    vs.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
}

fn not_tls(ev: &Evidence, first_bytes: &str) -> Finding {
    // The scan already named the protocol when it could (from the first bytes, or from an
    // active probe such as a plain MongoDB hello); its hint reads " — looks like NAME: HINT".
    let named = match &ev.observed.scan {
        Err(ScanError::NotTls { hint, .. }) => {
            hint.strip_prefix(" — looks like ").map(str::to_string)
        }
        _ => None,
    }
    .or_else(|| {
        plaintext::identify(first_bytes.as_bytes()).map(|p| format!("{}: {}", p.name, p.hint))
    });
    let hint = named
        .as_ref()
        .map(|n| format!("it speaks {n}"))
        .unwrap_or_else(|| "it answers, but not with TLS".to_string());
    let mut f = match &named {
        Some(n) => {
            let name = n.split(':').next().unwrap_or(n).to_string();
            finding(
                variant::not_tls::NAMED,
                &[("hint", hint.clone()), ("name", name)],
            )
        }
        None => finding(FindingId::NotTls, &[("hint", hint.clone())]),
    };
    f = f
        .evidence(format!(
            "the answer to a TLS ClientHello began with \"{first_bytes}\""
        ))
        .evidence(hint);
    add_breaks(&mut f, ev.simulations.iter().filter(|s| !s.connects));
    let proxy = plaintext::by_probe("http-proxy")
        .is_some_and(|e| named.as_deref() == Some(format!("{}: {}", e.name, e.hint).as_str()));
    if proxy {
        forward_proxy_waits(&mut f);
    }
    f
}

/// A TLS client on an HTTP forward proxy's port waits: the proxy reads the hello as the start
/// of a request and waits for the rest of it (real clients' hellos all hold a line feed, the
/// 0x0a of the supported_groups extension's type, so the proxy reads a request line and then
/// waits for headers). Measured with tinyproxy and the real clients
/// (tests/integration/handshake/forward_proxy.rs): every one hangs until the proxy gives up
/// (tinyproxy: twice its Timeout, then HTTP 400) and then prints its usual not-TLS text. The
/// rare hello whose random bytes hold an empty line (about one in 200 of gnutls-cli's) ends
/// the request's headers, and the proxy answers it at once.
/// Where the probe saw that answer, the clients' texts are quoted with the wait; where it
/// gave up first, there is no text to quote.
fn forward_proxy_waits(f: &mut Finding) {
    for b in &mut f.breaks {
        if b.error.is_empty() {
            b.unquoted = Some(
                "it waits: the proxy reads the hello as the start of an HTTP request and waits for the rest, so the client fails only when the proxy gives up (it answers with an HTTP error or closes) or the client's own timeout ends first, and what it prints depends on which"
                    .into(),
            );
        } else {
            b.after = Some(
                "usually only after a wait: the proxy answers the hello with HTTP when it gives up waiting for the rest of a request (tinyproxy: after twice its Timeout), or at once when the hello's random bytes happen to end the request's headers (about one hello in 200)"
                    .into(),
            );
        }
    }
}

/// Findings explained by simulated clients failing.
fn simulation_findings(ev: &Evidence, scan: &ServerScan, out: &mut Vec<Finding>) {
    let accepted = scan.accepted_versions();
    // The oldest version the server speaks (SSLv2/SSLv3 count).
    let server_oldest = accepted.iter().copied().min();

    // Protocol version mismatch, in either direction.
    let proto_fails: Vec<&Simulation> = failing(ev, FindingId::ProtoMismatch).collect();
    if !proto_fails.is_empty() {
        let mut too_old_server: Vec<&Simulation> = Vec::new();
        let mut too_old_client: Vec<&Simulation> = Vec::new();
        for s in &proto_fails {
            let p = ev.profiles.iter().find(|p| p.id == s.client);
            let client_max = p.map(|p| p.policy.max()).unwrap_or(ProtocolVersion::Tls13);
            // Everything the server speaks is newer than the client can go: the client is too
            // old. Otherwise the server's versions are below what the client accepts (or it
            // accepts them on paper but refuses their handshake signatures).
            if server_oldest.is_some_and(|m| client_max < m) {
                too_old_client.push(s)
            } else {
                too_old_server.push(s)
            }
        }
        let vars = [("server_versions", names(&accepted))];
        if !too_old_server.is_empty() {
            let mut f = finding(FindingId::ProtoServerTooOld, &vars)
                .evidence(format!("the server accepts only {}", names(&accepted)));
            for s in &too_old_server {
                if let Some(fl) = &s.failure {
                    f = f.evidence(format!("{}: {}", s.client_name, fl.reason));
                }
            }
            add_breaks(&mut f, too_old_server.into_iter());
            out.push(f);
        }
        if !too_old_client.is_empty() {
            let mut f = finding(FindingId::ProtoClientTooOld, &vars)
                .evidence(format!("the server accepts {}", names(&accepted)));
            for s in &too_old_client {
                if let (Some(p), Some(fl)) =
                    (ev.profiles.iter().find(|p| p.id == s.client), &s.failure)
                {
                    f = f.evidence(format!(
                        "{} offers {} to {}: {}",
                        s.client_name,
                        p.policy.min(),
                        p.policy.max(),
                        fl.reason
                    ));
                }
            }
            add_breaks(&mut f, too_old_client.into_iter());
            out.push(f);
        }
    }

    // No shared cipher suite.
    let cipher_fails: Vec<&Simulation> = failing(ev, FindingId::NoSharedCipher).collect();
    if !cipher_fails.is_empty() {
        let server_suites: Vec<String> = scan
            .cipher_suites
            .iter()
            .flat_map(|vs| {
                vs.suites.iter().map(move |s| {
                    format!(
                        "{} ({})",
                        s.openssl.clone().unwrap_or_else(|| s.iana.clone()),
                        vs.version
                    )
                })
            })
            .collect();
        let mut f = finding(FindingId::NoSharedCipher, &[]).evidence(format!(
            "the server accepts only: {}",
            if server_suites.is_empty() {
                "nothing tlsdoctor offered".to_string()
            } else {
                server_suites.join(", ")
            }
        ));
        let only_static_rsa = scan
            .cipher_suites
            .iter()
            .flat_map(|vs| vs.suites.iter())
            .all(|s| s.kx == "RSA");
        if only_static_rsa && !server_suites.is_empty() {
            f = f.evidence("every suite the server accepts uses static RSA key exchange, which Python 3.10+ and other modern defaults no longer offer");
        }
        for s in &cipher_fails {
            f = f.evidence(format!(
                "{} answered with: {}",
                s.client_name,
                s.failure.as_ref().map(|x| x.reason.as_str()).unwrap_or("")
            ));
        }
        add_breaks(&mut f, cipher_fails.into_iter());
        out.push(f);
    }

    // Client certificate required.
    if ev.facts.client_cert_alert_tls12.is_some() || ev.facts.client_cert_alert_tls13.is_some() {
        let mut f = finding(FindingId::ClientCertRequired, &[]);
        for (v, a) in [
            ("TLS 1.2", ev.facts.client_cert_alert_tls12),
            ("TLS 1.3", ev.facts.client_cert_alert_tls13),
        ] {
            if let Some(a) = a {
                f = f.evidence(format!("{v}: the server asked for a certificate and, when none came, aborted with alert {}", a.name()));
            }
        }
        if let Some(names) = ev
            .observed
            .handshakes
            .iter()
            .find_map(|(_, r)| r.as_ref().ok()?.client_cert_request.as_ref())
        {
            if !names.ca_names.is_empty() {
                f = f.evidence(format!(
                    "acceptable CAs the server lists: {}",
                    names.ca_names.join("; ")
                ));
            }
        }
        add_breaks(&mut f, failing(ev, FindingId::ClientCertRequired));
        out.push(f);
    }

    // The user's own certificate, when given.
    for (v, verdict) in &ev.observed.client_cert_presented {
        let f = match verdict {
            None => finding(FindingId::ClientCertAccepted, &[]).evidence(format!(
                "{v}: a full handshake presenting your certificate succeeded"
            )),
            Some(why) => finding(FindingId::ClientCertRejected, &[]).evidence(format!(
                "{v}: presenting your certificate, the handshake failed: {why}"
            )),
        };
        out.push(f);
    }

    // Missing RFC 5746.
    let reneg_fails: Vec<&Simulation> = failing(ev, FindingId::NoSecureRenegotiation).collect();
    if scan.properties.secure_renegotiation.supported == Some(false) {
        let form = if reneg_fails.is_empty() {
            variant::no_secure_renegotiation::NO_CLIENT_FAILS
        } else {
            FindingId::NoSecureRenegotiation.into()
        };
        let mut f =
            finding(form, &[]).evidence(scan.properties.secure_renegotiation.evidence.clone());
        if accepted.contains(&ProtocolVersion::Tls13) {
            f = f.evidence("the server also speaks TLS 1.3, where renegotiation does not exist: only clients limited to TLS 1.2 fail");
        }
        add_breaks(&mut f, reneg_fails.into_iter());
        out.push(f);
    }

    // SNI required.
    if let Some(NoSniBehaviour::Alert { alert }) = &scan.properties.without_sni {
        let sni_fails: Vec<&Simulation> = failing(ev, FindingId::SniRequired).collect();
        let form = if sni_fails.is_empty() {
            FindingId::SniRequired.into()
        } else {
            variant::sni_required::BREAKS_CLIENTS
        };
        let mut f = finding(form, &[]).evidence(format!(
            "a hello without SNI is refused with alert {alert}; with SNI {} it is accepted",
            ev.observed.sni.as_deref().unwrap_or("")
        ));
        let failure = match alert.as_str() {
            "unrecognized_name" => HandshakeFailure::UnrecognizedNameAlert,
            "handshake_failure" => HandshakeFailure::HandshakeFailureAlert,
            _ => HandshakeFailure::OtherAlert,
        };
        f.breaks.push(crate::finding::ClientBreak {
            client: "clients that send no SNI (openssl s_client -noservername, connections by IP address, Java 6, Python 2.7.8 and older)".into(),
            error: failure_text(ErrorStyle::OpensslCli, failure, Some(alert)),
            key: Some(BreakKey::Worded {
                style: ErrorStyle::OpensslCli,
                failure: Failure::Handshake(failure),
            }),
            unquoted: None,
            after: None,
        });
        add_breaks(&mut f, sni_fails.into_iter());
        out.push(f);
    } else if failing(ev, FindingId::SniRequired).next().is_some() {
        let mut f = finding(variant::sni_required::BREAKS_CLIENTS, &[])
            .evidence("the server refused a client's hello with unrecognized_name");
        add_breaks(&mut f, failing(ev, FindingId::SniRequired));
        out.push(f);
    }

    // DH parameters.
    let min_dh = SecurityLevel::openssl3_default().limits().min_dh_bits;
    if let Some(bits) = scan.key_exchange.dh_bits.filter(|b| *b < min_dh) {
        let dh_fails: Vec<&Simulation> = failing(ev, FindingId::DhTooSmall).collect();
        let form = if dh_fails.is_empty() {
            variant::dh_too_small::NO_CLIENT_FAILS
        } else {
            FindingId::DhTooSmall.into()
        };
        let mut f = finding(form, &[]).evidence(format!("the server's DHE prime has {bits} bits; OpenSSL 3 at its default security level requires {min_dh}"));
        if dh_fails.is_empty() {
            f = f.evidence("the simulated clients negotiate another key exchange today, so they are not affected; clients that prefer DHE are");
        }
        add_breaks(&mut f, dh_fails.into_iter());
        out.push(f);
    }

    // A server that hangs up on a client's hello.
    let closed: Vec<&Simulation> = failing(ev, FindingId::ServerClosed).collect();
    if !closed.is_empty() {
        let mut f = finding(FindingId::ServerClosed, &[]);
        add_breaks(&mut f, closed.into_iter());
        out.push(f);
    }
}

/// Every version probe was answered with an alert (the server speaks TLS but refuses us).
fn every_probe_alerted(ev: &Evidence) -> bool {
    ev.simulations.iter().all(|s| !s.connects)
        && ev.simulations.iter().any(|s| {
            s.failure
                .as_ref()
                .is_some_and(|f| f.key.ends_with("_alert"))
        })
}

/// Keep the first finding of each id.
fn dedupe(out: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(f.id));
}
