//! Client-initiated renegotiation on servers restricted to one suite family (ChaCha20,
//! AES-GCM, or CBC with ECDHE or RSA key exchange, which rustls does not speak): the probe's
//! handshake must speak the suite the server insists on. Real `openssl s_server`s, each with
//! and without `-client_renegotiation` (OpenSSL 3 refuses a client's renegotiation unless
//! told otherwise).

use super::{check_findings, plain_scan, scan_with};
use crate::common::servers::openssl_s_server;

/// (server's TLS 1.2 suites, the suite the probe must report).
const ONLY: [(&str, &str); 4] = [
    ("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    ("AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
];

#[test]
fn renegotiation_is_tested_on_servers_with_one_suite_family() {
    for (cipher, suite) in ONLY {
        for allow in [true, false] {
            let mut args = vec!["-no_tls1_3", "-cipher", cipher];
            if allow {
                args.push("-client_renegotiation");
            }
            let server = openssl_s_server(&args);
            let name = format!("{cipher} allow={allow}");
            let plain = plain_scan(&server.target());
            let s = scan_with(&server.target(), "client-renegotiation");
            let r = &s["client_renegotiation"];
            assert_eq!(r["suite"], suite, "{name}: {r:#}\n{}", server.log());
            assert_eq!(r["allowed"], allow, "{name}: {r:#}\n{}", server.log());
            assert_eq!(r["secure_renegotiation"], true, "{name}: {r:#}");
            let answer = r["answer"].as_str().unwrap();
            if allow {
                assert_eq!(answer, "handshake", "{name}: {r:#}");
            } else {
                // OpenSSL 3 answers with a warning no_renegotiation alert, which the probe
                // decrypts: the record protection is right both ways.
                assert_eq!(answer, "no_renegotiation", "{name}: {r:#}");
            }
            assert_eq!(
                s["connections"].as_u64().unwrap(),
                plain["connections"].as_u64().unwrap() + 1,
                "{name}"
            );
            let judged = check_findings(&server.target(), "client-renegotiation");
            assert_eq!(
                judged.contains(&("client-renegotiation-allowed".into(), "warning".into())),
                allow,
                "{name}: {judged:?}"
            );
        }
    }
}
