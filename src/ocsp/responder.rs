//! Ask the OCSP responder a certificate names (its AIA `OCSP` URL) about that certificate:
//! one HTTP/1.0 POST of a DER OCSPRequest (RFC 6960 Appendix A), bounded in time and size.
//!
//! Which address is contacted: only the `http://` URL written in the leaf certificate the
//! checked server presented, resolved with the system resolver. tlsdoctor has no built-in
//! responders, does not follow redirects and does not retry elsewhere, so the only hosts
//! contacted are the server the user named and the responder that server's certificate
//! names. The query runs when the user passes `--ocsp-query`, or automatically when the
//! server staples nothing and the certificate names a responder (what PyMongo and other
//! revocation-checking clients do in that case).

use super::parse::{ParsedResponse, parse_response};
use super::verify::{Subject, Verdict, sha1_cert_id_hashes, validate};
use der::Encode;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Largest HTTP answer read (OCSP responses are a few KiB).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What the responder did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ResponderOutcome {
    /// No connection or no answer in time.
    Unreachable { reason: String },
    /// It answered, but not with a usable OCSP response (HTTP error, not OCSP, or an
    /// unsuccessful OCSP status).
    Error { reason: String },
    /// A parsed OCSP response and the verdict on it.
    Answered {
        response: Box<ParsedResponse>,
        verdict: Verdict,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponderQuery {
    pub url: String,
    /// The address connected to, when resolution succeeded.
    pub address: Option<String>,
    /// Time from the start of the query to the end of the answer.
    pub latency_ms: Option<u64>,
    pub http_status: Option<u16>,
    pub outcome: ResponderOutcome,
}

/// The DER OCSPRequest for the leaf (SHA-1 CertID, no nonce, unsigned), as PyMongo, OpenSSL
/// and browsers send it.
pub fn build_request(
    leaf_serial: &[u8],
    issuer_name: &[u8],
    issuer_spki: &[u8],
) -> Result<Vec<u8>, String> {
    let (name_hash, key_hash) = sha1_cert_id_hashes(issuer_name, issuer_spki)
        .ok_or("the issuer's public key could not be decoded")?;
    let e = |e: der::Error| format!("cannot encode the OCSP request: {e}");
    let cert_id = x509_ocsp::CertId {
        hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26"),
            parameters: Some(der::asn1::Any::from(der::asn1::Null)),
        },
        issuer_name_hash: der::asn1::OctetString::new(name_hash).map_err(e)?,
        issuer_key_hash: der::asn1::OctetString::new(key_hash).map_err(e)?,
        serial_number: x509_cert::serial_number::SerialNumber::new(leaf_serial).map_err(e)?,
    };
    let req = x509_ocsp::OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![x509_ocsp::Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der().map_err(e)
}

/// What one exchange with a responder returned, before any judgement: the measurement the
/// verdict in [`ResponderQuery`] is made from, kept so it can be judged again offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponderExchange {
    pub url: String,
    /// The address connected to, when resolution succeeded.
    pub address: Option<String>,
    /// Time from the start of the query to the end of the answer.
    pub latency_ms: Option<u64>,
    pub http_status: Option<u16>,
    pub answer: ResponderAnswer,
}

/// How the exchange ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponderAnswer {
    /// No connection or no answer in time.
    Unreachable { reason: String },
    /// No request could be built, or the answer was not usable HTTP.
    Failed { reason: String },
    /// The HTTP body, whatever the status said.
    Body(#[serde(with = "crate::serde_hex")] Vec<u8>),
}

/// Query the responder at `url` about `subject.leaf`, with `timeout` bounding each of
/// resolution, connect, write and the whole read (a responder that is the scanned `server`
/// itself is reached through its prober). `now_unix` judges the answer's times.
pub async fn query(
    url: &str,
    subject: &Subject<'_>,
    timeout: Duration,
    server: Option<&crate::probe::Prober>,
    now_unix: i64,
) -> ResponderQuery {
    judge(
        &fetch(url, subject, timeout, server).await,
        subject,
        now_unix,
    )
}

/// Send the OCSP request for `subject.leaf` to `url` and keep what came back, unjudged (a
/// responder that is the scanned `server` itself is reached through its prober).
pub async fn fetch(
    url: &str,
    subject: &Subject<'_>,
    timeout: Duration,
    server: Option<&crate::probe::Prober>,
) -> ResponderExchange {
    let mut out = ResponderExchange {
        url: url.to_string(),
        address: None,
        latency_ms: None,
        http_status: None,
        answer: ResponderAnswer::Failed {
            reason: String::new(),
        },
    };
    let serial = match x509_parser::parse_x509_certificate(subject.leaf) {
        Ok((_, c)) => c.raw_serial().to_vec(),
        Err(_) => {
            out.answer = ResponderAnswer::Failed {
                reason: "the leaf certificate could not be parsed".into(),
            };
            return out;
        }
    };
    let body = match build_request(&serial, subject.issuer_name, subject.issuer_spki) {
        Ok(b) => b,
        Err(e) => {
            out.answer = ResponderAnswer::Failed { reason: e };
            return out;
        }
    };
    let request = crate::http::Request {
        method: "POST",
        content_type: Some("application/ocsp-request"),
        accept: "application/ocsp-response",
        body: &body,
    };
    match crate::http::exchange(url, &request, timeout, server, MAX_RESPONSE_BYTES).await {
        Ok(a) => {
            out.address = Some(a.address);
            out.latency_ms = Some(a.latency_ms);
            out.http_status = Some(a.status);
            out.answer = ResponderAnswer::Body(a.body);
        }
        Err(crate::http::HttpError::Unreachable { address, reason }) => {
            out.address = address;
            out.answer = ResponderAnswer::Unreachable { reason };
        }
        Err(crate::http::HttpError::Bad { address, reason }) => {
            out.address = address;
            out.answer = ResponderAnswer::Failed { reason };
        }
    }
    out
}

/// The verdict on an exchange: the body parsed and validated against `subject` at
/// `now_unix`. Pure, so a recorded exchange is judged as the live one was.
pub fn judge(exchange: &ResponderExchange, subject: &Subject<'_>, now_unix: i64) -> ResponderQuery {
    let outcome = match (&exchange.answer, exchange.http_status) {
        (ResponderAnswer::Unreachable { reason }, _) => ResponderOutcome::Unreachable {
            reason: reason.clone(),
        },
        (ResponderAnswer::Failed { reason }, _) => ResponderOutcome::Error {
            reason: reason.clone(),
        },
        (ResponderAnswer::Body(_), Some(code)) if code != 200 => ResponderOutcome::Error {
            reason: format!("the responder answered HTTP {code}"),
        },
        (ResponderAnswer::Body(body), _) => match parse_response(body) {
            Err(e) => ResponderOutcome::Error {
                reason: format!("the HTTP body is not an OCSP response: {e}"),
            },
            Ok(r) if r.response_status != "successful" => ResponderOutcome::Error {
                reason: format!(
                    "the responder answered with OCSP status {}",
                    r.response_status
                ),
            },
            Ok(r) => {
                let verdict = validate(&r, subject, now_unix);
                ResponderOutcome::Answered {
                    response: Box::new(r),
                    verdict,
                }
            }
        },
    };
    ResponderQuery {
        url: exchange.url.clone(),
        address: exchange.address.clone(),
        latency_ms: exchange.latency_ms,
        http_status: exchange.http_status,
        outcome,
    }
}
