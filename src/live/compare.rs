//! Observation against prediction: the verdict (connects or fails) decides agreement; the
//! text is compared as each client prints it, since a profile keeps only the stable part
//! (no source locations, the OpenSSL series rather than the build, the cause line of a
//! multi-line report).

use super::clients::Kind;
use serde::Serialize;

/// How an observed client's verdict compares with the prediction for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// Same verdict, and where it fails, the predicted text is what it printed.
    Agrees,
    /// Same verdict, but the client words its failure otherwise.
    TextDiffers,
    /// The client connects where the prediction says it fails, or the other way round.
    Contradicts,
    /// No profile predicts this client.
    NoPrediction,
}

impl Agreement {
    pub fn is_contradiction(self) -> bool {
        self == Agreement::Contradicts
    }
}

/// Compare an observed verdict with a predicted one.
pub fn compare(
    kind: Kind,
    observed: (bool, Option<&str>),
    predicted: Option<(bool, Option<&str>)>,
) -> Agreement {
    let Some((p_connects, p_text)) = predicted else {
        return Agreement::NoPrediction;
    };
    let (o_connects, o_text) = observed;
    if o_connects != p_connects {
        return Agreement::Contradicts;
    }
    if o_connects {
        return Agreement::Agrees;
    }
    match (o_text, p_text) {
        (Some(o), Some(p)) if same_text(kind, o, p) => Agreement::Agrees,
        _ => Agreement::TextDiffers,
    }
}

/// Whether `observed` (as the client printed it) is the profile's `predicted` text.
pub fn same_text(kind: Kind, observed: &str, predicted: &str) -> bool {
    let observed = observed.trim();
    let predicted = predicted.trim();
    match kind {
        // "(_ssl.c:1006)" is where in CPython the error was raised, not part of the text.
        Kind::PythonSsl => without_ssl_location(observed) == predicted,
        // PyMongo wraps the TLS error in its own message (server selection, topology).
        Kind::Pymongo => observed.contains(predicted),
        // "curl: (35) OpenSSL/3.0.19: error:…": the profile keeps the series ("OpenSSL/3.0: ").
        Kind::Curl => {
            let tail = predicted
                .split_once("OpenSSL/")
                .and_then(|(_, rest)| rest.split_once(": "))
                .map(|(_, t)| t)
                .unwrap_or(predicted);
            observed.contains(tail)
        }
        // Node: "CODE: message"; a profile may keep only the code.
        Kind::Node => observed.starts_with(predicted),
        // s_client: the error line carries the source file and line after the reason.
        Kind::OpensslCli => observed.contains(predicted),
        // gnutls-cli prints several lines; the reading keeps the one that names the cause.
        Kind::Gnutls => observed == predicted,
        Kind::Java | Kind::Go => observed == predicted,
    }
}

fn without_ssl_location(text: &str) -> &str {
    match text.rfind(" (_ssl.c:") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_compare_as_each_client_prints_them() {
        assert!(same_text(
            Kind::PythonSsl,
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)",
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"
        ));
        assert!(same_text(
            Kind::Curl,
            "curl: (35) OpenSSL/3.0.19: error:0A00042E:SSL routines::tlsv1 alert protocol version",
            "OpenSSL/3.0: error:0A00042E:SSL routines::tlsv1 alert protocol version"
        ));
        assert!(same_text(
            Kind::Curl,
            "curl: (60) SSL certificate problem: certificate has expired",
            "SSL certificate problem: certificate has expired"
        ));
        assert!(!same_text(
            Kind::Curl,
            "curl: (60) SSL certificate problem: self-signed certificate",
            "SSL certificate problem: certificate has expired"
        ));
        assert!(same_text(
            Kind::Node,
            "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 40E7:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version",
            "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"
        ));
    }

    #[test]
    fn the_verdict_decides_agreement() {
        let fails = (false, Some("[SSL: X] x"));
        assert_eq!(
            compare(Kind::PythonSsl, (true, None), Some(fails)),
            Agreement::Contradicts
        );
        assert_eq!(
            compare(Kind::PythonSsl, (false, Some("[SSL: Y] y")), Some(fails)),
            Agreement::TextDiffers
        );
        assert_eq!(
            compare(Kind::PythonSsl, fails, Some(fails)),
            Agreement::Agrees
        );
        assert_eq!(
            compare(Kind::PythonSsl, fails, None),
            Agreement::NoPrediction
        );
    }
}
