//! Each client profile's key-size and digest limits (data/clients/*.toml), measured against
//! the real client: RSA-512, RSA-1024 and RSA-2048 leaves, a SHA-1 and an MD5 signed leaf,
//! each on a real `openssl s_server`, met by s_client, Python, curl, Node 20, Java 17 and
//! gnutls-cli. A profile that says a client accepts a key or a digest must connect; one that
//! says it refuses must fail. `tlsdoctor simulate` must predict the same.

use std::sync::OnceLock;

use super::chain::{Trust, cafile_store, run_over};
use crate::common::broken_pki::BrokenPki;
use crate::common::cli::tlsdoctor;
use crate::common::servers::{ServerProcess, openssl_s_server_with};
use tlsdoctor::clients::find_profile;
use tlsdoctor::wire::version::ProtocolVersion;

fn pki() -> &'static BrokenPki {
    static PKI: OnceLock<BrokenPki> = OnceLock::new();
    PKI.get_or_init(BrokenPki::build)
}

/// Serve `NAME-chain.pem` over TLS 1.2 with PKCS#1 signatures (a 512-bit key cannot sign
/// RSA-PSS) at security level 0, so the server itself refuses nothing.
fn serve(name: &str) -> ServerProcess {
    let p = pki();
    let pem = std::fs::read_to_string(p.path(&format!("{name}-chain.pem"))).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let cut = pem.find(end).unwrap() + end.len();
    let (leaf, rest) = pem.split_at(cut);
    let leaf_file = p.path(&format!("{name}-limits-leaf.pem"));
    let rest_file = p.path(&format!("{name}-limits-rest.pem"));
    std::fs::write(&leaf_file, leaf).unwrap();
    std::fs::write(&rest_file, rest).unwrap();
    let rest_s = rest_file.display().to_string();
    openssl_s_server_with(
        &[
            "-no_tls1_3",
            "-sigalgs",
            "RSA+SHA256:ECDSA+SHA256",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
            "-cert_chain",
            &rest_s,
        ],
        &leaf_file,
        &p.path(&format!("{name}.key")),
        None,
    )
}

/// The profile id behind each label the chain analysis lists.
const PROFILES: &[(&str, &str)] = &[
    ("OpenSSL 3 (openssl s_client, curl)", "openssl"),
    ("Python ssl (OpenSSL 3)", "python"),
    ("curl 7.88 (OpenSSL 3)", "curl"),
    ("Node.js 20 (tls)", "node"),
    ("Java 17 (JSSE)", "java"),
    ("gnutls-cli 3.7.9", "gnutls"),
];

#[tokio::test]
async fn profile_key_and_digest_limits_match_the_real_clients() {
    let cases: &[(&str, &str)] = &[
        ("rsa512", "RSA key of 512 bits"),
        ("rsa1024", "RSA key of 1024 bits"),
        ("rsa2048", "RSA key of 2048 bits"),
        ("sha1", "SHA-1 signature"),
        ("md5", "MD5 signature"),
    ];
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for (name, what) in cases {
        let srv = serve(name);
        let root = pki().root();
        let r = run_over(
            &srv,
            Trust::CaFile(root.clone()),
            "localhost",
            vec![cafile_store(&root)],
            ProtocolVersion::Tls12,
        )
        .await;
        for (label, outcome) in r.outcomes() {
            let id = PROFILES.iter().find(|(l, _)| *l == label).unwrap().1;
            let limits = &find_profile(id).unwrap().policy.limits;
            let predicted = match *name {
                "rsa512" => 512 >= limits.min_rsa_bits,
                "rsa1024" => 1024 >= limits.min_rsa_bits,
                "rsa2048" => 2048 >= limits.min_rsa_bits,
                "sha1" => limits.accepts_sha1_certificates,
                // No profile accepts MD5; every client must refuse it.
                _ => false,
            };
            seen.insert((id, *name), outcome.is_ok());
            if predicted != outcome.is_ok() {
                problems.push(format!(
                    "{id} ({label}) with a {what}: profile says {}, the real client {}",
                    if predicted { "accepts" } else { "refuses" },
                    match &outcome {
                        Ok(()) => "connected".to_string(),
                        Err(e) => format!("failed: {e}"),
                    }
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The limits really differ between clients (the test can fail both ways).
    assert!(seen[&("node", "rsa1024")] && !seen[&("node", "rsa512")]);
    assert!(seen[&("java", "rsa1024")] && !seen[&("java", "rsa512")]);
    assert!(!seen[&("python", "rsa1024")] && seen[&("python", "rsa2048")]);
    assert!(seen[&("java", "sha1")] && !seen[&("gnutls", "sha1")]);
}

#[test]
fn simulation_predicts_the_rsa_512_refusals() {
    let srv = serve("rsa512");
    let root = pki().root().display().to_string();
    let port = srv.port;
    let real = [
        (
            "node",
            crate::common::clients::node_verify(port, "localhost", &pki().root()),
        ),
        (
            "java",
            crate::common::clients::java_verify(port, "localhost", &pki().root()),
        ),
        (
            "gnutls",
            crate::common::clients::gnutls_verify(port, "localhost", &pki().root()),
        ),
    ];
    let r = tlsdoctor(&[
        "simulate",
        &srv.target(),
        "--sni",
        "localhost",
        "--cafile",
        &root,
        "--client",
        "node",
        "--client",
        "java",
        "--client",
        "gnutls",
        "--client",
        "python",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let sims = j["servers"][0]["simulations"].as_array().unwrap();
    for (id, outcome) in real {
        let sim = sims.iter().find(|s| s["client"] == id).unwrap();
        let text = outcome.expect_err(id);
        assert_eq!(sim["connects"], false, "{id}: {sim}");
        let predicted = sim["failure"]["error"].as_str().unwrap_or("");
        match id {
            "node" => assert!(
                text.starts_with(predicted),
                "{id}: {text:?} vs {predicted:?}"
            ),
            _ => assert_eq!(predicted, text, "{id}"),
        }
    }
}
