//! A server that enforces its ALPN list: clients that offer only other protocols (http/1.1
//! alone is what urllib3, requests and `curl --http1.1` offer) get no_application_protocol.

use crate::clients::{BreakKey, ErrorStyle, Failure, HandshakeFailure, failure_text};
use crate::finding::catalogue::finding;
use crate::finding::{ClientBreak, Finding, FindingId};
use crate::scan::ServerScan;
use crate::scan::properties::refusal_words;

/// How each client is made to offer only http/1.1 (the texts were measured that way,
/// tests/integration/handshake/refusals.rs).
const HTTP11_ONLY: &[(ErrorStyle, &str)] = &[
    (
        ErrorStyle::Python,
        "Python ssl offering only http/1.1 (what urllib3 and requests offer)",
    ),
    (ErrorStyle::OpensslCli, "openssl s_client -alpn http/1.1"),
    (ErrorStyle::Curl, "curl --http1.1"),
    (
        ErrorStyle::Node,
        "Node.js tls with ALPNProtocols: ['http/1.1']",
    ),
    (
        ErrorStyle::Java,
        "Java 17 with only http/1.1 in SSLParameters.setApplicationProtocols",
    ),
    (ErrorStyle::Gnutls, "gnutls-cli --alpn http/1.1"),
];

pub fn alpn_enforced(scan: &ServerScan) -> Option<Finding> {
    let p = &scan.properties;
    // A server without HTTP/2 refusing h2-only offers is configured as intended; the
    // finding is for servers that refuse what ordinary clients offer, http/1.1.
    let refused = p
        .alpn_refused
        .as_ref()
        .filter(|r| r.offered.iter().any(|o| o == "http/1.1"))?;
    let accepted = if p.alpn.is_empty() {
        "a protocol tlsdoctor did not offer".to_string()
    } else {
        p.alpn.join(" or ")
    };
    let mut f = finding(FindingId::AlpnRequired, &[("accepted", accepted)])
        .evidence(refusal_words(refused));
    if !p.alpn.is_empty() {
        f = f.evidence(p.alpn_evidence.clone());
    }
    f = f.evidence("clients that send no ALPN extension at all are not refused by this check; those that offer only other protocols are");
    let failure = HandshakeFailure::NoApplicationProtocolAlert;
    for (style, label) in HTTP11_ONLY {
        f.breaks.push(ClientBreak {
            client: label.to_string(),
            error: failure_text(*style, failure, Some(&refused.alert)),
            key: Some(BreakKey::Worded {
                style: *style,
                failure: Failure::Handshake(failure),
            }),
            unquoted: None,
            after: None,
        });
    }
    Some(f)
}
