//! Certificate chain analysis against real servers (openssl s_server, nginx) serving a test PKI,
//! compared with what real clients (openssl s_client, Python ssl) print against the same server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::common::clients;
use crate::common::pki::{AIA_URL, Pki};
use crate::common::servers::{ServerProcess, nginx_with, openssl_s_server_with};
use tlsdoctor::cert::{ChainAnalysis, TrustStore, analyze, fetch_chain, stores};
use tlsdoctor::finding::{FindingId, Severity};
use tlsdoctor::probe::{ProbeConfig, Prober};
use tlsdoctor::wire::version::ProtocolVersion;

/// The probe engine for `addr`, with every deadline at `secs`.
fn prober(addr: std::net::SocketAddr, secs: u64) -> Prober {
    Prober::new(addr, ProbeConfig::with_timeout(Duration::from_secs(secs)))
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(Pki::build)
}

/// What a real client said: Ok, or the stable error text.
type ClientResult = Result<(), String>;

/// How a real client is told what to trust.
#[derive(Clone)]
pub(super) enum Trust {
    /// `-CAfile` / `cafile=`.
    CaFile(PathBuf),
    /// The client's default store, pointed at this bundle with SSL_CERT_FILE (and an empty
    /// SSL_CERT_DIR), the way an outdated or minimal system store looks.
    SystemFile(PathBuf),
}

impl Trust {
    fn apply(&self, cmd: &mut Command) {
        if let Trust::SystemFile(f) = self {
            cmd.env("SSL_CERT_FILE", f)
                .env("SSL_CERT_DIR", f.with_extension("nodir"));
        }
    }
}

fn s_client(port: u16, trust: &Trust, name: &str) -> ClientResult {
    let mut cmd = Command::new("timeout");
    cmd.args(["10", "openssl", "s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-verify_return_error");
    if let Trust::CaFile(f) = trust {
        cmd.arg("-CAfile").arg(f);
    }
    trust.apply(&mut cmd);
    let out = cmd
        .args(["-servername", name, "-verify_hostname", name])
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(line) = text.lines().find(|l| l.starts_with("verify error:")) {
        return Err(line.trim().to_string());
    }
    assert!(
        text.contains("Verify return code: 0 (ok)"),
        "s_client neither failed verification nor succeeded: {text}"
    );
    Ok(())
}

const PY: &str = r#"
import ssl, socket, sys
ctx = ssl.create_default_context(cafile=sys.argv[1] or None)
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10), server_hostname=sys.argv[3])
    print("OK")
    s.close()
except ssl.SSLError as e:
    print("ERR " + str(e))
"#;

fn python(port: u16, trust: &Trust, name: &str) -> ClientResult {
    let mut cmd = Command::new("timeout");
    cmd.args(["20", "python3", "-c", PY]);
    match trust {
        Trust::CaFile(f) => cmd.arg(f),
        Trust::SystemFile(_) => cmd.arg(""),
    };
    trust.apply(&mut cmd);
    let out = cmd
        .arg(port.to_string())
        .arg(name)
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text == "OK" {
        return Ok(());
    }
    let err = text.strip_prefix("ERR ").unwrap_or_else(|| {
        panic!(
            "python printed {text:?}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // Drop the unstable "(_ssl.c:NNNN)" suffix.
    let stable = match err.rfind(" (_ssl.c:") {
        Some(i) => &err[..i],
        None => err,
    };
    Err(stable.to_string())
}

const NODE: &str = r#"
const tls = require('tls'), fs = require('fs');
const [ca, port, name] = process.argv.slice(1);
const opts = { host: '127.0.0.1', port: +port, servername: name };
if (ca) opts.ca = fs.readFileSync(ca);
const s = tls.connect(opts, () => { console.log('OK'); s.destroy(); });
s.setTimeout(10000, () => { console.log('TIMEOUT'); s.destroy(); });
s.on('error', e => { console.log('ERR ' + e.code + ': ' + e.message); });
"#;

/// Node's own TLS client (OpenSSL 3 inside, its own Mozilla root copy). Only with a CA file:
/// Node ignores SSL_CERT_FILE unless started with --use-openssl-ca.
fn node(port: u16, trust: &Trust, name: &str) -> Option<ClientResult> {
    let Trust::CaFile(f) = trust else { return None };
    let out = Command::new("timeout")
        .args(["20", "node", "-e", NODE])
        .arg(f)
        .arg(port.to_string())
        .arg(name)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text == "OK" {
        return Some(Ok(()));
    }
    match text.strip_prefix("ERR ") {
        Some(e) => Some(Err(e.to_string())),
        None => panic!(
            "node printed {text:?}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// curl (built on OpenSSL 3 here). The servers speak no HTTP, so a finished handshake shows up
/// as a timeout waiting for the response, which counts as success.
fn curl(port: u16, trust: &Trust, name: &str) -> ClientResult {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "/dev/null", "--max-time", "3", "--resolve"])
        .arg(format!("{name}:{port}:127.0.0.1"));
    if let Trust::CaFile(f) = trust {
        cmd.arg("--cacert").arg(f);
    }
    trust.apply(&mut cmd);
    let out = cmd
        .arg(format!("https://{name}:{port}/"))
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match out.status.code() {
        Some(0) | Some(28) | Some(52) | Some(56) => Ok(()),
        _ => {
            // "curl: (60) SSL certificate problem: ..." -> the stable part after the code.
            let stable = err.split_once(") ").map(|(_, t)| t).unwrap_or(&err);
            Err(stable.lines().next().unwrap_or("").to_string())
        }
    }
}

pub(super) struct Run {
    pub curl: ClientResult,
    pub analysis: ChainAnalysis,
    pub openssl: ClientResult,
    pub python: ClientResult,
    pub node: Option<ClientResult>,
    /// Java 17 and gnutls-cli, with a CA file only (their own stores are not redirected).
    pub java: Option<ClientResult>,
    pub gnutls: Option<ClientResult>,
}

impl Run {
    /// Every client run, by the label the chain analysis lists its texts under.
    pub fn outcomes(&self) -> Vec<(&'static str, ClientResult)> {
        let mut v = vec![
            ("OpenSSL 3 (openssl s_client, curl)", self.openssl.clone()),
            ("Python ssl (OpenSSL 3)", self.python.clone()),
            ("curl 7.88 (OpenSSL 3)", self.curl.clone()),
        ];
        for (label, r) in [
            ("Node.js 20 (tls)", &self.node),
            ("Java 17 (JSSE)", &self.java),
            ("gnutls-cli 3.7.9", &self.gnutls),
        ] {
            if let Some(r) = r {
                v.push((label, r.clone()));
            }
        }
        v
    }
}

/// Fetch the chain over TLS 1.3 with tlsdoctor, analyse it, and run both real clients at the
/// same time against the same server.
pub(super) async fn run(
    server: &ServerProcess,
    cafile: &Path,
    name: &str,
    stores: Vec<TrustStore>,
) -> Run {
    run_with(server, Trust::CaFile(cafile.to_path_buf()), name, stores).await
}

async fn run_with(
    server: &ServerProcess,
    trust: Trust,
    name: &str,
    stores: Vec<TrustStore>,
) -> Run {
    run_over(server, trust, name, stores, ProtocolVersion::Tls13).await
}

/// [`run`] with the chain fetched over `version` (TLS 1.2 for servers whose key cannot sign
/// a TLS 1.3 handshake); a handshake that fails after the certificate arrived still counts.
pub(super) async fn run_over(
    server: &ServerProcess,
    trust: Trust,
    name: &str,
    stores: Vec<TrustStore>,
    version: ProtocolVersion,
) -> Run {
    let port = server.port;
    let (ca1, n1) = (trust.clone(), name.to_string());
    let (ca2, n2) = (trust.clone(), name.to_string());
    let (ca3, n3) = (trust.clone(), name.to_string());
    let (ca4, n4) = (trust.clone(), name.to_string());
    let (ca5, n5) = (trust.clone(), name.to_string());
    let (ca6, n6) = (trust, name.to_string());
    let j = std::thread::spawn(move || match ca5 {
        Trust::CaFile(f) => Some(clients::java_verify(port, &n5, &f)),
        Trust::SystemFile(_) => None,
    });
    let g = std::thread::spawn(move || match ca6 {
        Trust::CaFile(f) => Some(clients::gnutls_verify(port, &n6, &f)),
        Trust::SystemFile(_) => None,
    });
    let o = std::thread::spawn(move || s_client(port, &ca1, &n1));
    let p = std::thread::spawn(move || python(port, &ca2, &n2));
    let n = std::thread::spawn(move || node(port, &ca3, &n3));
    let c = std::thread::spawn(move || curl(port, &ca4, &n4));
    let fetched = fetch_chain(&prober(server.addr(), 10), Some(name), version)
        .await
        .unwrap_or_else(|e| panic!("fetch from {}: {e}; log {}", server.name, server.log()));
    assert_eq!(fetched.version, version);
    assert!(
        fetched.handshake_error.is_none() || version != ProtocolVersion::Tls13,
        "{:?}",
        fetched.handshake_error
    );
    let analysis = analyze(&fetched.chain, Some(name), &stores, SystemTime::now());
    Run {
        analysis,
        openssl: o.join().unwrap(),
        python: p.join().unwrap(),
        node: n.join().unwrap(),
        curl: c.join().unwrap(),
        java: j.join().unwrap(),
        gnutls: g.join().unwrap(),
    }
}

pub(super) fn cafile_store(path: &Path) -> TrustStore {
    stores::from_file(path).unwrap()
}

pub(super) fn error_ids(a: &ChainAnalysis) -> Vec<FindingId> {
    a.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.id)
        .collect()
}

/// Every client that failed has its exact text among the finding's breaks, and every client
/// that connected is not listed there.
pub(super) fn assert_texts_of_every_client(r: &Run, id: FindingId) {
    let shown = tlsdoctor::report::cert::render_chain(&r.analysis, false);
    let f = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id:?}: {shown}"));
    for (label, outcome) in r.outcomes() {
        let listed: Vec<&str> = f
            .breaks
            .iter()
            .filter(|b| b.client == label)
            .map(|b| b.error.as_str())
            .collect();
        match outcome {
            Err(text) => assert!(
                listed.contains(&text.as_str()),
                "{id:?}: {label} printed {text:?}, the finding lists {listed:?}"
            ),
            Ok(()) => assert!(
                listed.is_empty(),
                "{id:?}: {label} connected, the finding lists {listed:?}"
            ),
        }
    }
}

/// The case's only error finding is `id`, and it carries exactly the texts the clients printed.
pub(super) fn assert_single_cause(r: &Run, id: FindingId) {
    let shown = tlsdoctor::report::cert::render_chain(&r.analysis, false);
    assert_eq!(error_ids(&r.analysis), vec![id], "{shown}");
    let f = r.analysis.findings.iter().find(|f| f.id == id).unwrap();
    let openssl_text = r.openssl.clone().expect_err("openssl s_client should fail");
    let python_text = r.python.clone().expect_err("python should fail");
    assert!(
        f.breaks.iter().any(|b| b.error == openssl_text),
        "openssl printed {openssl_text:?}, finding has {:?}",
        f.breaks
    );
    assert!(
        f.breaks.iter().any(|b| b.error == python_text),
        "python printed {python_text:?}, finding has {:?}",
        f.breaks
    );
    assert!(
        !f.evidence.is_empty() && !f.fix_server.is_empty(),
        "{shown}"
    );
    assert_texts_of_every_client(r, id);
}

pub(super) fn s_server(leaf: &str, chain: Option<&str>, extra: &[&str]) -> ServerProcess {
    let p = pki();
    let chain_path: Option<PathBuf> = chain.map(|c| p.path(c));
    let chain_s = chain_path.as_ref().map(|c| c.display().to_string());
    let mut args: Vec<&str> = extra.to_vec();
    if let Some(c) = &chain_s {
        args.push("-cert_chain");
        args.push(c);
    }
    openssl_s_server_with(
        &args,
        &p.path(&format!("{leaf}.pem")),
        &p.path(&format!("{leaf}.key")),
        None,
    )
}

fn nginx_serving(bundle: &Path, key: &Path) -> ServerProcess {
    let block = "server {\n listen 127.0.0.1:{port} ssl;\n ssl_certificate {cert};\n ssl_certificate_key {key};\n \
                 ssl_protocols TLSv1.2 TLSv1.3;\n location / { return 200 \"ok\"; }\n}\n";
    nginx_with(block, bundle, key, tempfile::tempdir().unwrap())
}

fn root() -> PathBuf {
    pki().path("root.pem")
}

#[tokio::test]
async fn valid_chain_is_trusted_with_full_path() {
    let srv = s_server("good", Some("int.pem"), &[]);
    let r = run(
        &srv,
        &root(),
        "localhost",
        vec![stores::mozilla(), cafile_store(&root())],
    )
    .await;
    assert_eq!(r.openssl, Ok(()));
    assert_eq!(r.python, Ok(()));
    assert_eq!(r.node, Some(Ok(())));
    assert_eq!(r.curl, Ok(()));
    let shown = tlsdoctor::report::cert::render_chain(&r.analysis, false);
    assert!(error_ids(&r.analysis).is_empty(), "{shown}");
    let moz = &r.analysis.verdicts[0];
    assert!(!moz.trusted && moz.problem.is_some(), "{shown}");
    let ca = &r.analysis.verdicts[1];
    assert!(ca.trusted, "{shown}");
    assert_eq!(ca.path.len(), 3, "{shown}");
    assert!(
        ca.path[1].contains("tlsdoctor Test Intermediate")
            && ca.path[2].contains("tlsdoctor Test Root")
    );
    assert_eq!(
        r.analysis.certificates[0].aia_ca_issuers,
        vec![AIA_URL.to_string()]
    );
    assert!(
        shown.contains("cafile") && shown.contains("trusted"),
        "{shown}"
    );
}

#[tokio::test]
async fn expired_leaf() {
    let srv = s_server("expired", Some("int.pem"), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertExpired);
    assert_eq!(
        r.openssl.clone().unwrap_err(),
        "verify error:num=10:certificate has expired"
    );
}

#[tokio::test]
async fn not_yet_valid_leaf() {
    let srv = s_server("notyet", Some("int.pem"), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertNotYetValid);
}

#[tokio::test]
async fn wrong_host() {
    let srv = s_server("wronghost", Some("int.pem"), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertHostnameMismatch);
    let f = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == FindingId::CertHostnameMismatch)
        .unwrap();
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("DNS:other.example, DNS:*.other.example")),
        "{:?}",
        f.evidence
    );
}

#[tokio::test]
async fn self_signed_leaf() {
    let srv = s_server("selfsigned", None, &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertSelfSigned);
}

#[tokio::test]
async fn complete_chain_to_root_the_client_lacks() {
    // leaf + intermediate sent; the client has only the test root, not the corporate root.
    let srv = s_server("untrusted", Some("other-int.pem"), &[]);
    let r = run(
        &srv,
        &root(),
        "localhost",
        vec![stores::mozilla(), stores::system(), cafile_store(&root())],
    )
    .await;
    assert_single_cause(&r, FindingId::CertUntrustedRoot);
    assert!(r.analysis.verdicts.iter().all(|v| !v.trusted));
    let f = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == FindingId::CertUntrustedRoot)
        .unwrap();
    assert!(
        f.title.contains("tlsdoctor Private Corporate Root"),
        "{}",
        f.title
    );
    assert!(f.fix_client.iter().any(|l| l.contains("tlsCAFile")));
}

#[tokio::test]
async fn missing_intermediate_told_apart_from_unknown_root() {
    // Same OpenSSL message as the unknown-root case, different cause.
    let srv = s_server("good", None, &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertMissingIntermediate);
    let f = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == FindingId::CertMissingIntermediate)
        .unwrap();
    assert!(
        f.title.contains("tlsdoctor Test Intermediate"),
        "{}",
        f.title
    );
    assert!(
        f.evidence.iter().any(|e| e.contains(AIA_URL)),
        "{:?}",
        f.evidence
    );
    assert!(f.evidence.iter().any(|e| e.contains("browsers may fetch")));
}

#[tokio::test]
async fn rsa_1024_leaf() {
    let srv = s_server("weak", Some("int.pem"), &["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertWeakKey);
    assert_eq!(r.analysis.certificates[0].key_bits, 1024);
}

#[tokio::test]
async fn sha1_signed_leaf() {
    let srv = s_server("sha1", Some("int.pem"), &["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertSha1Signature);
    assert_eq!(r.analysis.certificates[0].sig_hash, "sha1");
}

#[tokio::test]
async fn client_auth_only_leaf() {
    let srv = s_server("clientonly", Some("int.pem"), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertUsageForbidsServer);
    super::classes::assert_simulated(&srv, "localhost", &root(), &r);
}

#[tokio::test]
async fn name_constraints_violation() {
    let srv = s_server("ncleaf", Some("nc-int.pem"), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertNameConstraints);
    super::classes::assert_simulated(&srv, "localhost", &root(), &r);
}

#[tokio::test]
async fn path_length_violation() {
    let chain = pki().bundle("deep-chain.pem", &["deep-int.pem", "int.pem"]);
    let chain = chain.file_name().unwrap().to_str().unwrap().to_string();
    let srv = s_server("deepleaf", Some(&chain), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertPathLength);
    super::classes::assert_simulated(&srv, "localhost", &root(), &r);
}

#[tokio::test]
async fn expires_soon_is_a_warning_only() {
    let srv = s_server("soon", Some("int.pem"), &[]);
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_eq!(r.openssl, Ok(()));
    assert_eq!(r.python, Ok(()));
    assert_eq!(r.node, Some(Ok(())));
    assert_eq!(r.curl, Ok(()));
    assert!(error_ids(&r.analysis).is_empty());
    assert!(
        r.analysis
            .findings
            .iter()
            .any(|f| f.id == FindingId::CertExpiresSoon && f.severity == Severity::Warning)
    );
}

#[tokio::test]
async fn nginx_sends_root_of_untrusted_chain() {
    let p = pki();
    let bundle = p.bundle(
        "untrusted-full.pem",
        &["untrusted.pem", "other-int.pem", "other-root.pem"],
    );
    let srv = nginx_serving(&bundle, &p.path("untrusted.key"));
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertUntrustedRoot);
    assert_eq!(
        r.openssl.clone().unwrap_err(),
        "verify error:num=19:self-signed certificate in certificate chain"
    );
}

#[tokio::test]
async fn nginx_missing_intermediate() {
    let p = pki();
    let srv = nginx_serving(&p.path("good.pem"), &p.path("good.key"));
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    assert_single_cause(&r, FindingId::CertMissingIntermediate);
}

#[tokio::test]
async fn nginx_wrong_order_and_extra_certs_are_warnings() {
    let p = pki();
    let bundle = p.bundle(
        "disordered.pem",
        &["good.pem", "other-int.pem", "root.pem", "int.pem"],
    );
    let srv = nginx_serving(&bundle, &p.path("good.key"));
    let r = run(&srv, &root(), "localhost", vec![cafile_store(&root())]).await;
    // OpenSSL and Python reorder and ignore the stray certificate.
    assert_eq!(r.openssl, Ok(()));
    assert_eq!(r.python, Ok(()));
    assert_eq!(r.node, Some(Ok(())));
    assert_eq!(r.curl, Ok(()));
    let shown = tlsdoctor::report::cert::render_chain(&r.analysis, false);
    assert!(error_ids(&r.analysis).is_empty(), "{shown}");
    let ids: Vec<&str> = r.analysis.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(
        ids.contains(&"cert-chain-order") && ids.contains(&"cert-extra-certs"),
        "{shown}"
    );
    let extra = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == FindingId::CertExtraCerts)
        .unwrap();
    assert!(
        extra
            .evidence
            .iter()
            .any(|e| e.contains("Private Corporate Intermediate")),
        "{shown}"
    );
    assert_eq!(r.analysis.verdicts[0].path.len(), 3, "{shown}");
}

#[tokio::test]
async fn tls12_fetch_gets_same_chain_and_client_ca_names() {
    let p = pki();
    let root_s = p.path("root.pem").display().to_string();
    let srv = s_server(
        "good",
        Some("int.pem"),
        &["-verify", "1", "-CAfile", &root_s],
    );
    let c12 = fetch_chain(
        &prober(srv.addr(), 10),
        Some("localhost"),
        ProtocolVersion::Tls12,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}: {}", srv.log()));
    let c13 = fetch_chain(
        &prober(srv.addr(), 10),
        Some("localhost"),
        ProtocolVersion::Tls13,
    )
    .await
    .unwrap();
    assert_eq!(c12.version, ProtocolVersion::Tls12);
    assert!(
        c12.cipher_suite.starts_with("TLS_ECDHE_"),
        "{}",
        c12.cipher_suite
    );
    assert!(
        c13.cipher_suite.starts_with("TLS13_"),
        "{}",
        c13.cipher_suite
    );
    assert_eq!(c12.chain, vec![p.der("good.pem"), p.der("int.pem")]);
    assert_eq!(c12.chain, c13.chain);
    for c in [&c12, &c13] {
        let req = c
            .client_cert_request
            .as_ref()
            .expect("server asked for a client certificate");
        assert!(
            req.ca_names
                .iter()
                .any(|n| n.contains("tlsdoctor Test Root")),
            "{:?}",
            req.ca_names
        );
    }
}

#[tokio::test]
async fn fetch_errors_are_clear() {
    // Nothing listens: a connect error naming the address.
    let port = crate::common::servers::free_port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let e = fetch_chain(&prober(addr, 5), None, ProtocolVersion::Tls13)
        .await
        .unwrap_err();
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    // A TLS 1.2-only server asked for TLS 1.3 answers with an alert.
    let srv = s_server("good", Some("int.pem"), &["-tls1_2"]);
    let e = fetch_chain(
        &prober(srv.addr(), 5),
        Some("localhost"),
        ProtocolVersion::Tls13,
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("alert") && e.to_string().to_lowercase().contains("protocolversion"),
        "{e}"
    );
    assert_eq!(
        e.alert(),
        Some(tlsdoctor::wire::AlertDescription::ProtocolVersion),
        "{e:?}"
    );
    // Old versions are not fetched here.
    let e = fetch_chain(&prober(srv.addr(), 5), None, ProtocolVersion::Tls10)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("TLSv1.0"), "{e}");
    // A plain-text server: a clear handshake error, no panic, within the timeout.
    let plain =
        crate::common::servers::banner_server(b"220 smtp.example ESMTP\r\n", b"500 what\r\n");
    let e = fetch_chain(&prober(plain, 5), None, ProtocolVersion::Tls12)
        .await
        .unwrap_err();
    assert!(!e.to_string().is_empty());
}

#[tokio::test]
async fn root_trusted_by_mozilla_but_missing_from_system_store() {
    // We cannot get a real Mozilla root to sign for us, so the "mozilla" store here holds the
    // test root (standing for an up-to-date root set), while the system store — what OpenSSL
    // and Python load by default — is pointed (SSL_CERT_FILE) at a bundle without it.
    let p = pki();
    let moz = TrustStore {
        name: "mozilla".to_string(),
        ..stores::from_file(&p.path("root.pem")).unwrap()
    };
    let outdated = p.path("other-root.pem");
    let system = stores::from_paths("system", Some(&outdated), None);
    assert_eq!(system.roots.len(), 1);
    let srv = s_server("good", Some("int.pem"), &[]);
    let r = run_with(
        &srv,
        Trust::SystemFile(outdated.clone()),
        "localhost",
        vec![moz, system],
    )
    .await;
    assert_single_cause(&r, FindingId::CertRootMissingLocally);
    let f = r
        .analysis
        .findings
        .iter()
        .find(|f| f.id == FindingId::CertRootMissingLocally)
        .unwrap();
    assert!(f.title.contains("tlsdoctor Test Root"), "{}", f.title);
    assert!(
        f.fix_client
            .iter()
            .any(|l| l.contains("update-ca-certificates"))
    );
    assert!(r.analysis.verdicts[0].trusted && !r.analysis.verdicts[1].trusted);
}

/// An OCSP response for good.pem signed by the intermediate, made with `openssl ocsp`.
fn ocsp_response(p: &Pki) -> PathBuf {
    let d = p.dir.path();
    let serial = Command::new("openssl")
        .args(["x509", "-serial", "-noout", "-in", "good.pem"])
        .current_dir(d)
        .output()
        .unwrap();
    let serial = String::from_utf8_lossy(&serial.stdout);
    let serial = serial.trim().trim_start_matches("serial=").to_string();
    std::fs::write(
        d.join("index.txt"),
        format!("V\t301231000000Z\t\t{serial}\tunknown\t/CN=good.test\n"),
    )
    .unwrap();
    for args in [
        &[
            "ocsp",
            "-issuer",
            "int.pem",
            "-cert",
            "good.pem",
            "-no_nonce",
            "-reqout",
            "ocsp-req.der",
        ][..],
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "int.pem",
            "-rkey",
            "int.key",
            "-CA",
            "int.pem",
            "-reqin",
            "ocsp-req.der",
            "-respout",
            "ocsp-resp.der",
            "-ndays",
            "1",
        ][..],
    ] {
        let st = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl {args:?}");
    }
    d.join("ocsp-resp.der")
}

#[tokio::test]
async fn stapled_ocsp_response_is_recorded() {
    let p = pki();
    let resp = ocsp_response(p);
    let resp_s = resp.display().to_string();
    let srv = s_server("good", Some("int.pem"), &["-status_file", &resp_s]);
    let want = std::fs::read(&resp).unwrap();
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let c = fetch_chain(&prober(srv.addr(), 10), Some("localhost"), v)
            .await
            .unwrap_or_else(|e| panic!("{v}: {e}: {}", srv.log()));
        assert_eq!(c.ocsp_staple.as_deref(), Some(&want[..]), "{v}");
    }
    // And a server without a staple gives none.
    let plain = s_server("good", Some("int.pem"), &[]);
    let c = fetch_chain(
        &prober(plain.addr(), 10),
        Some("localhost"),
        ProtocolVersion::Tls13,
    )
    .await
    .unwrap();
    assert_eq!(c.ocsp_staple, None);
}
