//! The classes of broken certificates real servers serve, each on a real `openssl s_server`
//! (and nginx for the reversed chain file), analysed by tlsdoctor and met by the real clients:
//! openssl s_client, Python ssl, curl, Node 20, Java 17 and gnutls-cli. Every client that
//! fails must find its exact text in the finding, and every client that connects must not be
//! listed there.

use std::path::Path;
use std::sync::OnceLock;

use super::chain::{Run, Trust, assert_texts_of_every_client, cafile_store, error_ids, run_over};
use crate::common::broken_pki::BrokenPki;
use crate::common::servers::{ServerProcess, nginx_with, openssl_s_server_with};
use tlsdoctor::finding::{FindingId, Severity};
use tlsdoctor::wire::version::ProtocolVersion;

fn pki() -> &'static BrokenPki {
    static PKI: OnceLock<BrokenPki> = OnceLock::new();
    PKI.get_or_init(BrokenPki::build)
}

/// `openssl s_server` serving `NAME-chain.pem` (leaf first) with `key`.
fn serve(name: &str, key: &str, extra: &[&str]) -> ServerProcess {
    let p = pki();
    let pem = std::fs::read_to_string(p.path(&format!("{name}-chain.pem"))).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let cut = pem.find(end).unwrap() + end.len();
    let (leaf, rest) = pem.split_at(cut);
    let leaf_file = p.path(&format!("{name}-served-leaf.pem"));
    std::fs::write(&leaf_file, leaf).unwrap();
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    if !rest.trim().is_empty() {
        let rest_file = p.path(&format!("{name}-served-rest.pem"));
        std::fs::write(&rest_file, rest).unwrap();
        args.push("-cert_chain".into());
        args.push(rest_file.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    openssl_s_server_with(&args, &leaf_file, &p.path(key), None)
}

async fn check(srv: &ServerProcess, host: &str, cafile: &Path, version: ProtocolVersion) -> Run {
    run_over(
        srv,
        Trust::CaFile(cafile.to_path_buf()),
        host,
        vec![cafile_store(cafile)],
        version,
    )
    .await
}

/// `id` is the only error finding, it has evidence and a server fix, and every client's
/// outcome matches it.
fn assert_class(r: &Run, id: FindingId) {
    let shown = tlsdoctor::report::cert::render_chain(&r.analysis, false);
    assert_eq!(error_ids(&r.analysis), vec![id], "{shown}");
    let f = r.analysis.findings.iter().find(|f| f.id == id).unwrap();
    assert!(
        !f.evidence.is_empty() && !f.fix_server.is_empty(),
        "{shown}"
    );
    assert_texts_of_every_client(r, id);
}

/// The profile behind each label the chain analysis lists (s_client's profile does not abort
/// on a failed verification, so it is compared by the chain analysis only).
const SIMULATED: &[(&str, &str)] = &[
    ("Python ssl (OpenSSL 3)", "python"),
    ("curl 7.88 (OpenSSL 3)", "curl"),
    ("Node.js 20 (tls)", "node"),
    ("Java 17 (JSSE)", "java"),
    ("gnutls-cli 3.7.9", "gnutls"),
];

/// `tlsdoctor simulate` against the same server predicts what each real client did.
pub(super) fn assert_simulated(srv: &ServerProcess, host: &str, cafile: &Path, r: &Run) {
    let ca = cafile.display().to_string();
    let target = format!("127.0.0.1:{}", srv.port);
    let mut args = vec![
        "simulate", &target, "--sni", host, "--cafile", &ca, "--json",
    ];
    for (_, id) in SIMULATED {
        args.extend(["--client", id]);
    }
    let run = crate::common::cli::tlsdoctor(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j = run.json();
    let sims = j["servers"][0]["simulations"].as_array().unwrap().clone();
    let mut problems = Vec::new();
    for (label, outcome) in r.outcomes() {
        let Some((_, id)) = SIMULATED.iter().find(|(l, _)| *l == label) else {
            continue;
        };
        let sim = sims.iter().find(|s| s["client"] == *id).unwrap();
        let predicted = sim["failure"]["error"].as_str().unwrap_or("");
        let same = match (&outcome, sim["connects"].as_bool()) {
            (Ok(()), Some(true)) => true,
            (Err(t), Some(false)) if *id == "node" => t.starts_with(predicted),
            (Err(t), Some(false)) => t == predicted,
            _ => false,
        };
        if !same {
            problems.push(format!("{id}: real {outcome:?}, simulated {sim}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn failing(r: &Run) -> Vec<&'static str> {
    r.outcomes()
        .into_iter()
        .filter(|(_, o)| o.is_err())
        .map(|(l, _)| l)
        .collect()
}

const ALL: usize = 6;

#[tokio::test]
async fn issuer_without_ca_true() {
    for leaf in ["noca", "nobc"] {
        let srv = serve(leaf, &format!("{leaf}.key"), &[]);
        let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
        assert_class(&r, FindingId::CertIssuerNotCa);
        assert_simulated(&srv, "localhost", &pki().root(), &r);
        assert_eq!(failing(&r).len(), ALL, "{leaf}");
        assert_eq!(
            r.openssl.clone().unwrap_err(),
            "verify error:num=79:invalid CA certificate"
        );
    }
}

#[tokio::test]
async fn issuer_without_key_cert_sign() {
    let srv = serve("nokcs", "nokcs.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertIssuerNoKeycertsign);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    assert_eq!(
        r.java.clone().unwrap().unwrap_err(),
        "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: CA key usage check failed: keyCertSign bit is not set"
    );
}

#[tokio::test]
async fn unknown_critical_extension() {
    let srv = serve("crit", "crit.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertUnknownCriticalExtension);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    let f = &r.analysis.findings[0];
    assert!(f.title.contains("1.3.6.1.4.1.55555.1"), "{}", f.title);
}

#[tokio::test]
async fn rsa_leaf_whose_key_usage_cannot_sign() {
    let srv = serve("rsanods", "rsanods.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertRsaKeyUsageNoSignature);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    // Only Java and GnuTLS check keyUsage against the key exchange.
    assert_eq!(failing(&r), ["Java 17 (JSSE)", "gnutls-cli 3.7.9"]);
}

#[tokio::test]
async fn cn_only_certificate_is_a_warning_naming_who_refuses() {
    let srv = serve("cnonly", "cnonly.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    let shown = tlsdoctor::report::cert::render_chain(&r.analysis, false);
    assert!(error_ids(&r.analysis).is_empty(), "{shown}");
    assert!(
        failing(&r).is_empty(),
        "every local client falls back to the CN"
    );
    let f = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == FindingId::CertCnOnly)
        .unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.title.contains("browsers and Go"), "{}", f.title);
    assert!(f.breaks.is_empty());
}

#[tokio::test]
async fn wildcard_used_for_the_apex() {
    let srv = serve("wild", "wild.key", &[]);
    let r = check(&srv, "example.test", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertWildcardApex);
    assert_simulated(&srv, "example.test", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    assert_eq!(
        r.java.clone().unwrap().unwrap_err(),
        "javax.net.ssl.SSLHandshakeException: No subject alternative DNS name matching example.test found."
    );
}

#[tokio::test]
async fn rsa_512_leaf_is_refused_by_node_java_and_gnutls_too() {
    // A 512-bit key cannot sign RSA-PSS: TLS 1.2 with PKCS#1 signatures only.
    let srv = serve(
        "rsa512",
        "rsa512.key",
        &[
            "-no_tls1_3",
            "-sigalgs",
            "RSA+SHA256",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
        ],
    );
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls12).await;
    assert_class(&r, FindingId::CertWeakKey);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    assert_eq!(
        r.java.clone().unwrap().unwrap_err(),
        "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: Algorithm constraints check failed on keysize limits: RSA 512 bit key used with certificate: CN=rsa512.test"
    );
    assert_eq!(
        r.gnutls.clone().unwrap().unwrap_err(),
        "- Status: The certificate is NOT trusted. The certificate chain uses insecure algorithm."
    );
}

#[tokio::test]
async fn md5_signed_leaf_has_its_own_finding() {
    let srv = serve("md5", "md5.key", &["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertMd5Signature);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    assert!(
        !r.analysis
            .findings
            .iter()
            .any(|f| f.id == FindingId::CertSha1Signature)
    );
}

#[tokio::test]
async fn intermediate_rekeyed_under_the_same_name() {
    let srv = serve("rekeyed", "rekeyed.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertIntermediateRekeyed);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
}

#[tokio::test]
async fn chain_file_in_reverse_order() {
    // nginx takes the first certificate of the file as its own; with the CA's key it starts.
    let p = pki();
    let block = "server {\n listen 127.0.0.1:{port} ssl;\n ssl_certificate {cert};\n ssl_certificate_key {key};\n \
                 ssl_protocols TLSv1.2 TLSv1.3;\n location / { return 200 \"ok\"; }\n}\n";
    let srv = nginx_with(
        block,
        &p.path("reversed-chain.pem"),
        &p.path("int.key"),
        tempfile::tempdir().unwrap(),
    );
    let r = check(&srv, "localhost", &p.root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertChainReversed);
    assert_simulated(&srv, "localhost", &p.root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    assert_eq!(
        r.python.clone().unwrap_err(),
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unsuitable certificate purpose"
    );
    let f = &r.analysis.findings[0];
    assert!(f.title.contains("reverse order"), "{}", f.title);
}

#[tokio::test]
async fn expired_root_in_the_clients_own_store() {
    // The server's cross-signed chain is fine; the client's CA file holds only the old root.
    let srv = serve("xleaf", "xleaf.key", &[]);
    let old = pki().path("oldroot.pem");
    let r = check(&srv, "localhost", &old, ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertTrustAnchorExpired);
    assert_simulated(&srv, "localhost", &old, &r);
    // Java does not check a trust anchor's validity.
    assert_eq!(r.java, Some(Ok(())));
    assert_eq!(failing(&r).len(), ALL - 1);
    let f = &r.analysis.findings[0];
    let store = old.display().to_string();
    assert!(f.title.contains(&store), "{}", f.title);
    assert!(
        f.fix_client.iter().any(|l| l.contains(&store)),
        "{:?}",
        f.fix_client
    );
}

#[tokio::test]
async fn interception_root_is_named_with_how_to_confirm() {
    let srv = serve("mitm", "mitm.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertInterceptionRoot);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    let f = &r.analysis.findings[0];
    assert!(f.title.contains("mitmproxy"), "{}", f.title);
    assert!(f.fix_client.iter().any(|l| l.contains("HTTPS_PROXY")));
    assert!(f.fix_client.iter().any(|l| l.contains("Never trust")));
}

#[tokio::test]
async fn unknown_issuer_keeps_both_readings_open() {
    let srv = serve("private", "private.key", &[]);
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertMissingIntermediate);
    let f = &r.analysis.findings[0];
    assert!(
        f.title
            .contains("a missing intermediate, or a private or intercepting root"),
        "{}",
        f.title
    );
    for needle in [
        "reading 1",
        "reading 2",
        "no AIA caIssuers",
        "key id",
        "fingerprint",
    ] {
        assert!(
            f.evidence.iter().any(|e| e.contains(needle)),
            "{needle}: {:?}",
            f.evidence
        );
    }
}

#[tokio::test]
async fn rsa_512_intermediate() {
    let srv = serve(
        "under512",
        "under512.key",
        &["-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    let r = check(&srv, "localhost", &pki().root(), ProtocolVersion::Tls13).await;
    assert_class(&r, FindingId::CertWeakKey);
    assert_simulated(&srv, "localhost", &pki().root(), &r);
    assert_eq!(failing(&r).len(), ALL);
    assert_eq!(
        r.java.clone().unwrap().unwrap_err(),
        "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: Algorithm constraints check failed on keysize limits: RSA 512 bit key used with certificate: CN=tlsdoctor RSA-512 Intermediate"
    );
}

/// The CN-only finding says browsers and Go refuse such a certificate: Go 1.19's crypto/tls,
/// observed by `check --client go`, does, and its text is quoted under that finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_refuses_a_cn_only_certificate_as_the_finding_says() {
    let srv = serve("cnonly", "cnonly.key", &[]);
    let root = pki().root().display().to_string();
    let target = format!("localhost:{}", srv.port);
    let args = [
        "check",
        target.as_str(),
        "--cafile",
        root.as_str(),
        "--client",
        "go",
        "--timeout",
        "15",
        "--json",
    ];
    let run = crate::live::lab::live_check(&args);
    let doc = run.json();
    let go = crate::live::lab::observed(&doc, "go");
    assert_eq!(go.len(), 1, "{:#}", doc["diagnoses"][0]["live"]);
    let error = go[0]["observed"]["error"].as_str().unwrap_or("");
    assert_eq!(
        error,
        "x509: certificate relies on legacy Common Name field, use SANs instead"
    );
    let findings = doc["diagnoses"][0]["findings"].as_array().unwrap();
    let f = findings
        .iter()
        .find(|f| f["id"] == "cert-cn-only")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(
        f["breaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["error"] == error),
        "{f:#}"
    );
}
