//! Rendering of the OCSP check: the staple per protocol version, fully parsed, the verdict,
//! must-staple and the responder's answer.

use super::style::Style;
use crate::escape::{escape, finish};
use crate::ocsp::check::{OcspReport, skew_note};
use crate::ocsp::parse::ParsedResponse;
use crate::ocsp::responder::ResponderOutcome;
use crate::ocsp::verify::{Signer, Verdict};

/// Every line with the responder's data escaped (it is the peer's text).
fn response_lines(r: &ParsedResponse, v: Option<&Verdict>, indent: &str) -> Vec<String> {
    raw_response_lines(r, v, indent)
        .iter()
        .map(|l| escape(l).into_owned())
        .collect()
}

fn raw_response_lines(r: &ParsedResponse, v: Option<&Verdict>, indent: &str) -> Vec<String> {
    let mut out = vec![format!("{indent}response status: {}", r.response_status)];
    if let Some(id) = &r.responder_id {
        out.push(format!("{indent}responder ID: {id}"));
    }
    if let Some(p) = &r.produced_at {
        out.push(format!("{indent}produced at: {p}"));
    }
    for (i, s) in r.responses.iter().enumerate() {
        let mark = match v.and_then(|v| v.matched) {
            Some(m) if m == i => " (this certificate)",
            _ => "",
        };
        out.push(format!("{indent}single response {}{mark}:", i + 1));
        out.push(format!(
            "{indent}  cert ID: {} issuer name hash {}, issuer key hash {}, serial {}",
            s.cert_id.hash_algorithm,
            s.cert_id.issuer_name_hash,
            s.cert_id.issuer_key_hash,
            s.cert_id.serial
        ));
        out.push(format!(
            "{indent}  cert status: {}",
            s.cert_status.describe()
        ));
        out.push(format!("{indent}  thisUpdate: {}", s.this_update));
        out.push(format!(
            "{indent}  nextUpdate: {}",
            s.next_update
                .as_deref()
                .unwrap_or("(none: newer information is always available)")
        ));
    }
    if let Some(a) = &r.signature_algorithm {
        out.push(format!("{indent}signature algorithm: {a}"));
    }
    for c in &r.certs {
        out.push(format!("{indent}included certificate: {}", c.subject));
    }
    if let Some(v) = v {
        out.push(format!(
            "{indent}signer: {}",
            match &v.signer {
                Signer::Issuer => "the leaf's issuer".to_string(),
                Signer::Delegated {
                    subject,
                    issued_by_issuer,
                    has_ocsp_signing_eku,
                } => format!(
                    "delegated responder {subject} (issued by the leaf's issuer: {}, OCSP-signing EKU: {})",
                    yes(*issued_by_issuer),
                    yes(*has_ocsp_signing_eku)
                ),
                Signer::NotFound => "not found (neither the issuer nor an included certificate)".to_string(),
            }
        ));
        out.push(format!(
            "{indent}signature: {}",
            if v.signature_valid {
                "valid"
            } else {
                "NOT valid"
            }
        ));
    }
    out
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn verdict_line(v: Option<&Verdict>, st: Style) -> String {
    match v {
        None => st.yellow("not validated: the leaf's issuer is unknown"),
        Some(v) if v.is_good() => st.green("valid, certificate good"),
        Some(v) => st.red(&escape(
            &v.problems
                .iter()
                .map(|p| p.detail.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// The OCSP section printed after a check or scan of `target`.
pub fn render_section(target: &str, r: Option<&OcspReport>, st: Style) -> String {
    let mut out = format!("\n{}\n", st.bold(&format!("OCSP ({})", escape(target))));
    let Some(r) = r else {
        out.push_str("  no certificate could be fetched with a TLS 1.2 or 1.3 handshake\n");
        return out;
    };
    out.push_str(&format!(
        "  leaf: {} (serial {})\n",
        escape(&r.leaf_subject),
        escape(&r.leaf_serial)
    ));
    out.push_str(&format!(
        "  issuer: {}\n",
        r.issuer
            .as_ref()
            .map(|i| format!("{} ({})", escape(&i.subject), escape(&i.source)))
            .unwrap_or_else(|| "unknown (not sent, not in a trust store)".into())
    ));
    out.push_str(&format!(
        "  responder URL in the certificate: {}\n",
        if r.responder_urls.is_empty() {
            "none".to_string()
        } else {
            escape(&r.responder_urls.join(", ")).into_owned()
        }
    ));
    out.push_str(&format!("  must-staple: {}\n", yes(r.must_staple)));
    for s in &r.staples {
        if !s.stapled {
            out.push_str(&format!("  {}: nothing stapled\n", s.version.name()));
            continue;
        }
        out.push_str(&format!(
            "  {}: stapled ({} bytes)\n",
            s.version.name(),
            s.bytes
        ));
        if let Some(e) = &s.parse_error {
            out.push_str(&format!(
                "    {}\n",
                st.red(&format!("unparsable: {}", escape(e)))
            ));
            continue;
        }
        let same_as_previous = r
            .staples
            .iter()
            .take_while(|x| x.version != s.version)
            .any(|x| x.response.is_some() && x.response == s.response);
        if same_as_previous {
            out.push_str("    (the same response as above)\n");
        } else if let Some(resp) = &s.response {
            for l in response_lines(resp, s.verdict.as_ref(), "    ") {
                out.push_str(&format!("{l}\n"));
            }
        }
        out.push_str(&format!(
            "    verdict: {}\n",
            verdict_line(s.verdict.as_ref(), st)
        ));
    }
    match (&r.responder, &r.responder_skipped) {
        (Some(q), _) => {
            out.push_str(&format!(
                "  responder {}{}:\n",
                escape(&q.url),
                q.address
                    .as_ref()
                    .map(|a| format!(" ({})", escape(a)))
                    .unwrap_or_default()
            ));
            match &q.outcome {
                ResponderOutcome::Unreachable { reason } => out.push_str(&format!(
                    "    {}\n",
                    st.red(&format!("unreachable: {}", escape(reason)))
                )),
                ResponderOutcome::Error { reason } => out.push_str(&format!(
                    "    {}\n",
                    st.red(&format!("error: {}", escape(reason)))
                )),
                ResponderOutcome::Answered { response, verdict } => {
                    out.push_str(&format!(
                        "    answered in {} ms (HTTP {})\n",
                        q.latency_ms.unwrap_or(0),
                        q.http_status.unwrap_or(200)
                    ));
                    for l in response_lines(response, Some(verdict), "    ") {
                        out.push_str(&format!("{l}\n"));
                    }
                    out.push_str(&format!(
                        "    verdict: {}\n",
                        verdict_line(Some(verdict), st)
                    ));
                }
            }
        }
        (None, Some(why)) => out.push_str(&format!("  responder not asked: {}\n", escape(why))),
        (None, None) => {}
    }
    out.push_str(&format!("  {}\n", st.dim(&skew_note())));
    finish(out, st.color)
}
