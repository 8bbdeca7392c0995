//! `inspect` on environments built by the tests: a venv with and without certifi, trust
//! variables pointing to missing, empty and valid bundles, and OpenSSL configurations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tlsdoctor::env::{EnvOptions, EnvReport, inspect};
use tlsdoctor::finding::FindingId;

/// A minimal environment: system PATH only, HOME in a temp dir (so no version managers).
fn base_env(home: &Path) -> HashMap<String, String> {
    let mut env = HashMap::new();
    env.insert(
        "PATH".to_string(),
        "/usr/local/bin:/usr/bin:/bin".to_string(),
    );
    env.insert("HOME".to_string(), home.display().to_string());
    env
}

fn opts(env: HashMap<String, String>, pythons: Vec<PathBuf>) -> EnvOptions {
    EnvOptions {
        pythons,
        timeout: Duration::from_secs(30),
        env: Some(env),
    }
}

fn ids(r: &EnvReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

fn has_finding(r: &EnvReport, id: FindingId, mentioning: &str) -> bool {
    r.findings.iter().any(|f| {
        f.id == id
            && (f.title.contains(mentioning) || f.evidence.iter().any(|e| e.contains(mentioning)))
    })
}

#[tokio::test]
async fn venv_without_then_with_old_certifi() {
    let home = tempfile::tempdir().unwrap();
    let venv = home.path().join("venv");
    let host_env: HashMap<String, String> = std::env::vars().collect();
    let python3 = tlsdoctor::env::exec::which("python3", &host_env).expect("python3 on PATH");
    let st = Command::new(&python3)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(st.success(), "python3 -m venv failed");
    let vpy = venv.join("bin/python");

    let r = inspect(&opts(base_env(home.path()), vec![vpy.clone()])).await;
    let p = r
        .pythons
        .iter()
        .find(|p| p.path == vpy)
        .expect("venv python reported");
    assert!(p.is_venv, "{p:?}");
    assert_eq!(p.found_via, "--python");
    assert!(
        p.openssl_version
            .as_deref()
            .unwrap_or("")
            .starts_with("OpenSSL"),
        "{p:?}"
    );
    assert_eq!(p.protocols.get("TLSv1.3"), Some(&true));
    assert!(p.certifi.is_none());
    assert!(
        has_finding(&r, FindingId::EnvCertifiMissing, vpy.to_str().unwrap()),
        "{:?}",
        ids(&r)
    );
    let text = tlsdoctor::report::env::render_env(&r, false);
    assert!(text.contains("certifi: not installed") && !text.contains('\x1b'));
    assert!(tlsdoctor::report::env::render_env(&r, true).contains("\x1b["));
    serde_json::to_string(&r).expect("report serialises");

    let st = Command::new(&vpy)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "certifi==2020.12.5",
        ])
        .status()
        .unwrap();
    assert!(st.success(), "pip install certifi failed (needs PyPI)");
    let r = inspect(&opts(base_env(home.path()), vec![vpy.clone()])).await;
    let p = r.pythons.iter().find(|p| p.path == vpy).unwrap();
    let c = p.certifi.as_ref().expect("certifi now found");
    assert_eq!(c.version.as_deref(), Some("2020.12.05"));
    assert!(c.bundle.path.starts_with(&venv), "{:?}", c.bundle.path);
    assert!(c.bundle.certificates > 100, "{:?}", c.bundle);
    assert!(
        c.bundle.expired > 0,
        "a 2020 bundle holds roots expired since"
    );
    assert!(c.release_age_days.unwrap() > 365);
    assert!(
        has_finding(&r, FindingId::EnvCertifiOld, "2020.12.05"),
        "{:?}",
        ids(&r)
    );
    assert!(!has_finding(
        &r,
        FindingId::EnvCertifiMissing,
        vpy.to_str().unwrap()
    ));
    let stack = r
        .clients
        .iter()
        .find(|c| c.path == vpy)
        .expect("ClientStack for venv python");
    assert!(
        stack.basis.iter().any(|b| b.contains("certifi 2020.12.05")),
        "{:?}",
        stack.basis
    );
}

fn pem_cert(dir: &Path) -> PathBuf {
    let (cert, _key) = crate::common::servers::self_signed(dir, "ca", "rsa:2048");
    cert
}

#[tokio::test]
async fn trust_variables_missing_empty_garbage_and_valid() {
    let home = tempfile::tempdir().unwrap();
    let d = home.path();
    let missing = d.join("nope.pem");
    let empty = d.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let garbage = d.join("garbage.pem");
    std::fs::write(&garbage, "hello\n").unwrap();
    let valid = pem_cert(d);
    let mut env = base_env(d);
    env.insert("SSL_CERT_FILE".into(), missing.display().to_string());
    env.insert("SSL_CERT_DIR".into(), d.join("nodir").display().to_string());
    env.insert("REQUESTS_CA_BUNDLE".into(), empty.display().to_string());
    env.insert("NODE_EXTRA_CA_CERTS".into(), garbage.display().to_string());
    env.insert("CURL_CA_BUNDLE".into(), valid.display().to_string());
    let r = inspect(&opts(env, vec![])).await;

    let var = |n: &str| r.variables.iter().find(|v| v.name == n).unwrap();
    assert!(!var("SSL_CERT_FILE").bundle.as_ref().unwrap().exists);
    assert_eq!(
        var("CURL_CA_BUNDLE").bundle.as_ref().unwrap().certificates,
        1
    );
    assert_eq!(var("PIP_CERT").value, None);
    assert!(
        has_finding(&r, FindingId::EnvVarMissingFile, "SSL_CERT_FILE"),
        "{:?}",
        ids(&r)
    );
    assert!(has_finding(
        &r,
        FindingId::EnvVarMissingFile,
        "SSL_CERT_DIR"
    ));
    assert!(has_finding(
        &r,
        FindingId::EnvVarEmptyBundle,
        "REQUESTS_CA_BUNDLE"
    ));
    assert!(has_finding(
        &r,
        FindingId::EnvVarEmptyBundle,
        "NODE_EXTRA_CA_CERTS"
    ));
    assert!(
        !r.findings
            .iter()
            .any(|f| f.title.contains("CURL_CA_BUNDLE"))
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.title.contains("REQUESTS_CA_BUNDLE"))
        .unwrap();
    assert!(!f.breaks.is_empty() && !f.fix_client.is_empty());

    // ClientStacks carry the overrides.
    for c in r
        .clients
        .iter()
        .filter(|c| c.kind == "python" || c.kind == "openssl")
    {
        assert_eq!(c.cafile.as_deref(), Some(missing.as_path()), "{c:?}");
        assert_eq!(
            c.capath.as_deref(),
            Some(d.join("nodir").as_path()),
            "{c:?}"
        );
    }
    if let Some(curl) = r.clients.iter().find(|c| c.kind == "curl") {
        assert_eq!(curl.cafile.as_deref(), Some(valid.as_path()));
    }
    assert!(
        r.clients.iter().any(|c| c.kind == "python"),
        "python3 from /usr/bin expected"
    );
}

fn conf(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!("openssl_conf = init\n[init]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = sysdef\n[sysdef]\n{body}\n"),
    )
    .unwrap();
    p
}

#[tokio::test]
async fn openssl_conf_min_protocol_legacy_and_seclevel() {
    let home = tempfile::tempdir().unwrap();
    let d = home.path();

    let mut env = base_env(d);
    env.insert(
        "OPENSSL_CONF".into(),
        conf(d, "min13.cnf", "MinProtocol = TLSv1.3")
            .display()
            .to_string(),
    );
    let r = inspect(&opts(env, vec![])).await;
    assert_eq!(r.openssl_conf.source, "OPENSSL_CONF");
    assert_eq!(
        r.openssl_conf.effect.min_protocol.as_deref(),
        Some("TLSv1.3")
    );
    assert!(
        has_finding(&r, FindingId::EnvOpensslConfMinProtocol, "TLSv1.3"),
        "{:?}",
        ids(&r)
    );
    let ossl = r
        .clients
        .iter()
        .find(|c| c.kind == "openssl")
        .expect("openssl CLI");
    assert_eq!(ossl.min_protocol.as_deref(), Some("TLSv1.3"));
    assert_eq!(ossl.unsafe_legacy_server_connect, Some(false));
    assert!(!ids(&r).contains(&"env-openssl-conf-unsafe-legacy"));

    let mut env = base_env(d);
    let legacy = conf(
        d,
        "legacy.cnf",
        "Options = UnsafeLegacyServerConnect\nCipherString = DEFAULT:@SECLEVEL=0",
    );
    env.insert("OPENSSL_CONF".into(), legacy.display().to_string());
    let r = inspect(&opts(env, vec![])).await;
    assert!(
        has_finding(
            &r,
            FindingId::EnvOpensslConfUnsafeLegacy,
            "UnsafeLegacyServerConnect"
        ),
        "{:?}",
        ids(&r)
    );
    assert!(
        has_finding(&r, FindingId::EnvOpensslConfSeclevel, "SECLEVEL=0"),
        "{:?}",
        ids(&r)
    );
    for c in r
        .clients
        .iter()
        .filter(|c| c.kind == "python" || c.kind == "openssl")
    {
        assert_eq!(c.unsafe_legacy_server_connect, Some(true), "{c:?}");
        assert_eq!(c.openssl_conf.as_deref(), Some(legacy.as_path()));
    }
    let ossl = r.clients.iter().find(|c| c.kind == "openssl").unwrap();
    assert_eq!(ossl.security_level, Some(0));
    assert_eq!(
        ossl.min_protocol.as_deref(),
        Some("TLSv1"),
        "level 0 re-enables TLS 1.0 in OpenSSL 3"
    );

    let mut env = base_env(d);
    env.insert(
        "OPENSSL_CONF".into(),
        d.join("absent.cnf").display().to_string(),
    );
    let r = inspect(&opts(env, vec![])).await;
    assert!(!r.openssl_conf.exists);
    assert!(
        has_finding(&r, FindingId::EnvVarMissingFile, "OPENSSL_CONF"),
        "{:?}",
        ids(&r)
    );
}

#[tokio::test]
async fn local_tools_and_trust_stores_of_this_machine() {
    let home = tempfile::tempdir().unwrap();
    let r = inspect(&opts(base_env(home.path()), vec![])).await;
    let cli = r.openssl_cli.as_ref().expect("openssl CLI installed here");
    assert!(cli.version.as_deref().unwrap().starts_with("OpenSSL"));
    assert!(cli.openssl_dir.is_some());
    assert!(
        r.libraries
            .iter()
            .any(|l| l.family == "OpenSSL libssl" && l.version.is_some()),
        "{:?}",
        r.libraries
    );
    assert!(r.libraries.iter().any(|l| l.family == "GnuTLS"));
    assert!(
        r.trust_stores.iter().any(|t| t.info.certificates > 50),
        "{:?}",
        r.trust_stores
    );
    assert!(!ids(&r).contains(&"env-trust-store-empty"));
    let curl = r.curl.as_ref().expect("curl installed here");
    assert!(curl.tls_library.is_some());
    assert!(
        r.node
            .as_ref()
            .and_then(|n| n.openssl_version.clone())
            .is_some()
    );
    let java = r.java.as_ref().expect("java installed here");
    assert!(java.trust_store_exists, "{java:?}");

    // A tool that is absent is reported, not an error.
    let mut env = base_env(home.path());
    env.insert("PATH".into(), home.path().display().to_string());
    let r = inspect(&opts(env, vec![])).await;
    assert!(r.openssl_cli.is_none() && r.node.is_none());
    assert!(
        r.missing_tools.contains(&"openssl".to_string()),
        "{:?}",
        r.missing_tools
    );
    let none = tlsdoctor::env::local_client("python3", &opts(base_env(home.path()), vec![])).await;
    assert!(none.is_some());
    let mut env = base_env(home.path());
    env.insert("PATH".into(), "/nonexistent".into());
    assert!(
        tlsdoctor::env::local_client("python3", &opts(env, vec![]))
            .await
            .is_none()
    );
}
