//! Stapled OCSP responses: openssl s_server -status_file staples each kind of response made by
//! `openssl ocsp`; `tlsdoctor check` must parse it, validate it and raise the right finding,
//! and the simulated PyMongo must fail exactly where PyMongo's own checks reject the staple
//! (tests/integration/ocsp/pymongo.rs confirms that against the real PyMongo).

use crate::common::cli::tlsdoctor;
use crate::common::ocsp::{OcspPki, Staple};
use crate::common::servers::ServerProcess;
use serde_json::Value;
use std::process::Command;
use std::sync::OnceLock;

fn pki() -> &'static OcspPki {
    static PKI: OnceLock<OcspPki> = OnceLock::new();
    PKI.get_or_init(OcspPki::build)
}

/// `tlsdoctor check localhost:PORT --json` against the leaf stapling `kind`.
fn check(cert: &str, kind: Option<Staple>, extra: &[&str]) -> Value {
    let p = pki();
    let staple = kind.map(|k| p.staple(k));
    let ca = p.path("ca.crt");
    let check_on = |srv: &ServerProcess| {
        let target = format!("localhost:{}", srv.port);
        tlsdoctor(&["check", &target, "--cafile", ca.to_str().unwrap(), "--json"])
    };
    let mut srv = p.server(cert, staple.as_deref(), extra);
    let run = check_on(&srv);
    if let Some(d) = run.first_diagnosis() {
        return d;
    }
    // Twice (CI, then test-all here) a check found a running s_server's port refusing every
    // connection after its readiness probe was answered (see common::servers::free_ports
    // for the likely cause; its log was empty). These tests are about staples, not
    // reachability: say what happened, and check once more on a fresh server.
    let alive = srv.still_running();
    // Who holds the port now, and in what state (iproute2's ss; empty without it).
    let sockets = Command::new("ss")
        .args(["-tanp", &format!("sport = :{}", srv.port)])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let first = format!(
        "port {}: {}\nserver: {alive:?}\nsockets:\n{sockets}\nlog:\n{}",
        srv.port,
        run.why_no_diagnosis(),
        srv.log()
    );
    eprintln!("first check: {first}");
    drop(srv);
    let srv = p.server(cert, staple.as_deref(), extra);
    let again = check_on(&srv);
    again.first_diagnosis().unwrap_or_else(|| {
        panic!(
            "port {}: {}\nlog:\n{}\n(first check: {first})",
            srv.port,
            again.why_no_diagnosis(),
            srv.log()
        )
    })
}

fn finding<'a>(d: &'a Value, id: &str) -> Option<&'a Value> {
    d["findings"].as_array()?.iter().find(|f| f["id"] == id)
}

fn ocsp_ids(d: &Value) -> Vec<String> {
    d["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("a diagnosis without findings: {d:#}"))
        .iter()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("ocsp-") || *id == "cert-revoked")
        .map(str::to_string)
        .collect()
}

fn evidence(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn pymongo(d: &Value) -> &Value {
    d["simulations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["client"] == "pymongo")
        .expect("the pymongo profile is simulated")
}

const PYMONGO_TEXT: &str = "[('SSL routines', '', 'invalid status response')]";

/// The finding breaks PyMongo with its text and names the clients that ignore staples.
fn assert_breaks_pymongo(d: &Value, id: &str) {
    let f = finding(d, id).unwrap_or_else(|| panic!("no {id}: {:#}", d["findings"]));
    let breaks = f["breaks"].as_array().unwrap();
    assert!(
        breaks
            .iter()
            .any(|b| b["client"].as_str().unwrap().starts_with("PyMongo")
                && b["error"].as_str().unwrap().ends_with(PYMONGO_TEXT)),
        "{id} should break PyMongo: {f:#}"
    );
    if id != "ocsp-must-staple-missing" {
        assert!(
            evidence(f).contains("not affected: Python 3.11 ssl"),
            "{f:#}"
        );
    }
    let sim = pymongo(d);
    assert_eq!(sim["connects"], false);
    assert_eq!(sim["failure"]["finding"], id);
    let text = sim["failure"]["error"].as_str().unwrap();
    assert!(
        text.starts_with("SSL handshake failed: localhost:"),
        "{text}"
    );
}

#[test]
fn good_staple_is_parsed_fully_in_tls12_and_tls13_and_raises_nothing() {
    let d = check("leaf", Some(Staple::Good), &[]);
    assert!(ocsp_ids(&d).is_empty(), "{:#}", d["findings"]);
    assert_eq!(pymongo(&d)["connects"], true);
    let o = &d["ocsp"];
    assert_eq!(o["leaf_serial"], "1001");
    assert_eq!(
        o["responder_urls"][0],
        format!("http://127.0.0.1:{}/", pki().responder_port)
    );
    let staples = o["staples"].as_array().unwrap();
    let versions: Vec<&str> = staples
        .iter()
        .map(|s| s["version"].as_str().unwrap())
        .collect();
    assert!(
        versions.contains(&"tls1_2") && versions.contains(&"tls1_3"),
        "{versions:?}"
    );
    for s in staples {
        assert_eq!(s["stapled"], true, "{s:#}");
        let r = &s["response"];
        assert_eq!(r["response_status"], "successful");
        assert_eq!(r["responder_id"]["by"], "name");
        assert_eq!(r["responder_id"]["name"], "CN=tlsdoctor OCSP Test CA");
        assert!(r["produced_at"].as_str().unwrap().ends_with('Z'));
        let single = &r["responses"][0];
        assert_eq!(single["cert_id"]["hash_algorithm"], "SHA-1");
        assert_eq!(single["cert_id"]["serial"], "1001");
        assert_eq!(
            single["cert_id"]["issuer_name_hash"]
                .as_str()
                .unwrap()
                .len(),
            40
        );
        assert_eq!(single["cert_status"]["status"], "good");
        assert!(single["next_update"].is_string());
        assert_eq!(r["signature_algorithm"], "sha256WithRSAEncryption");
        let v = &s["verdict"];
        assert_eq!(v["signer"]["kind"], "issuer");
        assert_eq!(v["signature_valid"], true);
        assert_eq!(v["matched"], 0);
        assert!(v["problems"].as_array().unwrap().is_empty());
    }
    // Stapled, so the responder is not asked without --ocsp-query.
    assert!(o["responder"].is_null());
}

#[test]
fn revoked_staple() {
    let d = check("leaf", Some(Staple::Revoked), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-revoked"]);
    let f = finding(&d, "ocsp-staple-revoked").unwrap();
    assert_eq!(f["severity"], "error");
    let ev = evidence(f);
    assert!(
        ev.contains("revoked at 2026-11-01T00:00:00Z (reason: keyCompromise)"),
        "{ev}"
    );
    assert!(ev.contains("cert-revoked"), "{ev}");
    assert_breaks_pymongo(&d, "ocsp-staple-revoked");
}

#[test]
fn expired_staple() {
    let d = check("leaf", Some(Staple::Expired), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-expired"]);
    let ev = evidence(finding(&d, "ocsp-staple-expired").unwrap());
    assert!(ev.contains("nextUpdate") && ev.contains("passed"), "{ev}");
    assert!(ev.contains("tolerance 300 s"), "{ev}");
    assert_breaks_pymongo(&d, "ocsp-staple-expired");
}

#[test]
fn not_yet_valid_staple() {
    let d = check("leaf", Some(Staple::Future), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-expired"]);
    let ev = evidence(finding(&d, "ocsp-staple-expired").unwrap());
    assert!(
        ev.contains("thisUpdate") && ev.contains("in the future"),
        "{ev}"
    );
    assert_breaks_pymongo(&d, "ocsp-staple-expired");
}

#[test]
fn staple_signed_by_the_wrong_key() {
    let d = check("leaf", Some(Staple::WrongKey), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-invalid"]);
    let ev = evidence(finding(&d, "ocsp-staple-invalid").unwrap());
    assert!(ev.contains("the signature does not verify"), "{ev}");
    assert_breaks_pymongo(&d, "ocsp-staple-invalid");
}

#[test]
fn staple_for_another_serial_is_invalid_but_pymongo_does_not_notice() {
    let d = check("leaf", Some(Staple::OtherSerial), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-invalid"]);
    let f = finding(&d, "ocsp-staple-invalid").unwrap();
    let ev = evidence(f);
    assert!(
        ev.contains("about serial 1002 but the leaf's serial is 1001"),
        "{ev}"
    );
    // PyMongo never compares the CertID with the leaf (measured in ocsp_pymongo.rs);
    // gnutls-cli does and refuses (measured in cert/revoked.rs): it is the only client broken.
    let broken: Vec<&str> = f["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["client"].as_str())
        .collect();
    assert_eq!(broken, ["gnutls-cli 3.7.9"], "{f:#}");
    assert!(
        ev.contains("PyMongo 4.20 with pymongo[ocsp] (pyOpenSSL 26.4) accepts this staple"),
        "{ev}"
    );
    assert_eq!(pymongo(&d)["connects"], true);
}

#[test]
fn unknown_staple() {
    let d = check("leaf", Some(Staple::Unknown), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-unknown"]);
    assert_eq!(
        finding(&d, "ocsp-staple-unknown").unwrap()["severity"],
        "warning"
    );
    assert_eq!(pymongo(&d)["connects"], true);
}

#[test]
fn delegated_responder_with_eku_is_accepted() {
    let d = check("leaf", Some(Staple::Delegated), &[]);
    assert!(ocsp_ids(&d).is_empty(), "{:#}", d["findings"]);
    let v = &d["ocsp"]["staples"][0]["verdict"];
    assert_eq!(v["signer"]["kind"], "delegated");
    assert_eq!(v["signer"]["subject"], "CN=tlsdoctor OCSP Responder");
    assert_eq!(v["signer"]["issued_by_issuer"], true);
    assert_eq!(v["signer"]["has_ocsp_signing_eku"], true);
    assert_eq!(v["signature_valid"], true);
    assert_eq!(
        d["ocsp"]["staples"][0]["response"]["signature_algorithm"],
        "ecdsa-with-SHA256"
    );
}

#[test]
fn delegated_responder_without_eku_is_invalid() {
    let d = check("leaf", Some(Staple::DelegatedNoEku), &[]);
    assert_eq!(ocsp_ids(&d), ["ocsp-staple-invalid"]);
    let ev = evidence(finding(&d, "ocsp-staple-invalid").unwrap());
    assert!(
        ev.contains("lacks the OCSP-signing extended key usage"),
        "{ev}"
    );
    assert_breaks_pymongo(&d, "ocsp-staple-invalid");
}

#[test]
fn must_staple_without_staple() {
    // Nothing listens on the responder port: the automatic query finds it unreachable too.
    let d = check("must", None, &[]);
    let ids = ocsp_ids(&d);
    assert!(
        ids.contains(&"ocsp-must-staple-missing".to_string()),
        "{ids:?}"
    );
    assert!(
        !ids.contains(&"ocsp-stapling-absent".to_string()),
        "{ids:?}"
    );
    assert_eq!(d["ocsp"]["must_staple"], true);
    assert_breaks_pymongo(&d, "ocsp-must-staple-missing");
}

#[test]
fn tls12_only_and_tls13_only_servers_are_asked_in_their_version() {
    for (flag, key, version) in [
        ("-no_tls1_3", "tls1_2", "TLSv1.2"),
        ("-tls1_3", "tls1_3", "TLSv1.3"),
    ] {
        let d = check("leaf", Some(Staple::Revoked), &[flag]);
        let staples = d["ocsp"]["staples"].as_array().unwrap();
        assert_eq!(staples.len(), 1, "{flag}: {staples:#?}");
        assert_eq!(staples[0]["version"], key);
        assert_eq!(staples[0]["stapled"], true);
        let f = finding(&d, "ocsp-staple-revoked").unwrap();
        assert!(
            evidence(f).contains(&format!("stapled in: {version}")),
            "{f:#}"
        );
    }
}

#[test]
fn tls11_staple_comes_from_the_raw_flight() {
    let d = check(
        "leaf",
        Some(Staple::Expired),
        &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    let staples = d["ocsp"]["staples"].as_array().unwrap();
    assert_eq!(staples.len(), 1, "{staples:#?}");
    assert_eq!(staples[0]["version"], "tls1_1");
    assert_eq!(staples[0]["stapled"], true);
    assert_eq!(
        staples[0]["response"]["responses"][0]["cert_id"]["serial"],
        "1001"
    );
    let f = finding(&d, "ocsp-staple-expired").unwrap();
    assert!(evidence(f).contains("stapled in: TLSv1.1"), "{f:#}");
}

/// Every truncation and many single-byte corruptions of a real response are parsed or
/// rejected without a panic, and a corrupted signed part never validates.
#[test]
fn corrupted_responses_never_panic_or_validate() {
    use tlsdoctor::ocsp::{Subject, parse_response, validate};
    let p = pki();
    let der = std::fs::read(p.staple(Staple::Good)).unwrap();
    let pem = |name: &str| {
        let out = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(p.path(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl x509 {name}");
        out.stdout
    };
    let leaf = pem("leaf.crt");
    let ca = pem("ca.crt");
    let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca).unwrap();
    let subject = Subject {
        leaf: &leaf,
        issuer_name: ca_cert.subject().as_raw(),
        issuer_spki: ca_cert.public_key().raw,
        issuer_label: "test CA".into(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let good = parse_response(&der).unwrap();
    assert!(validate(&good, &subject, now).is_good());
    for n in 0..der.len() {
        let _ = parse_response(&der[..n]);
    }
    for i in (0..der.len()).step_by(3) {
        let mut bad = der.clone();
        bad[i] ^= 0x5a;
        if let Ok(r) = parse_response(&bad) {
            let v = validate(&r, &subject, now);
            // Only the included certificates are outside the signature; the leaf's issuer
            // signed this response, so corrupting them changes nothing that matters.
            if r.signed != good.signed {
                assert!(!v.is_good(), "byte {i} corrupted and still valid");
            }
        }
    }
}
