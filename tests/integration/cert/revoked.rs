//! A revoked certificate that only revocation-checking clients refuse: s_client, Python, curl,
//! Node 20 and Java 17 do not check a staple by default and connect; gnutls-cli checks it and
//! refuses (measured). `check` must call it a security problem, not a connection failure: its
//! own headline, `verdict = "security-problem"`, exit code 4. A server that also makes clients
//! fail keeps exit code 1.

use super::chain::{Trust, cafile_store, run_over};
use crate::common::cli::tlsdoctor;
use crate::common::ocsp::{OcspPki, Staple};
use tlsdoctor::wire::version::ProtocolVersion;

#[tokio::test]
async fn revoked_staple_is_a_security_problem_not_a_failure() {
    let p = OcspPki::build();
    let staple = p.staple(Staple::Revoked);
    let srv = p.server("leaf", Some(&staple), &[]);
    let ca = p.path("ca.crt");
    let r = run_over(
        &srv,
        Trust::CaFile(ca.clone()),
        "localhost",
        vec![cafile_store(&ca)],
        ProtocolVersion::Tls13,
    )
    .await;
    let gnutls_text = "- Status: The certificate is NOT trusted. The certificate chain is revoked.";
    for (label, outcome) in r.outcomes() {
        if label.starts_with("gnutls-cli") {
            assert_eq!(
                outcome,
                Err(gnutls_text.to_string()),
                "{label} checks the staple"
            );
        } else {
            assert_eq!(
                outcome,
                Ok(()),
                "{label} does not check staples and connects"
            );
        }
    }

    let target = format!("localhost:{}", srv.port);
    let ca_s = ca.display().to_string();
    let json = tlsdoctor(&["check", &target, "--cafile", &ca_s, "--json"]);
    assert_eq!(json.code, 4, "{}\n{}", json.stdout, json.stderr);
    let d = &json.json()["diagnoses"][0];
    assert_eq!(d["verdict"], "security-problem");
    // The simulated clients that do not check staples connect, as the real ones did.
    let sim = |id: &str| {
        d["simulations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["client"] == id)
            .unwrap()
            .clone()
    };
    for id in ["python", "openssl", "curl", "node", "java"] {
        assert_eq!(sim(id)["connects"], true, "{id}");
    }
    assert_eq!(sim("gnutls")["connects"], false);
    assert_eq!(sim("gnutls")["failure"]["error"], gnutls_text);

    let human = tlsdoctor(&["check", &target, "--cafile", &ca_s, "--color", "never"]);
    assert_eq!(human.code, 4);
    let headline = human.stdout.lines().nth(2).unwrap_or("").to_string();
    assert!(
        headline.contains(
            "1 security problem(s): clients connect, but the certificate must not be trusted"
        ) && headline.contains("PyMongo")
            && headline.contains("gnutls-cli"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("stop clients from connecting"));

    // The same revoked staple, asked for a name the certificate does not hold: that makes
    // connections fail, so exit code 1 and the failure verdict, with the security problem
    // still counted in the headline.
    let mismatch = tlsdoctor(&[
        "check",
        &target,
        "--cafile",
        &ca_s,
        "--sni",
        "other.invalid",
        "--color",
        "never",
    ]);
    assert_eq!(mismatch.code, 1, "{}", mismatch.stdout);
    assert!(
        mismatch
            .stdout
            .contains("stop clients from connecting. 1 security problem(s)."),
        "{}",
        mismatch.stdout
    );
}

/// gnutls-cli checks every staple it is given: each kind the OCSP tests make, met by the real
/// gnutls-cli and by its simulation, must give the same outcome and text.
#[test]
fn gnutls_staple_checks_match_its_simulation() {
    let p = OcspPki::build();
    let ca = p.path("ca.crt");
    let ca_s = ca.display().to_string();
    let mut problems = Vec::new();
    let mut refused = Vec::new();
    for kind in [
        Staple::Good,
        Staple::Revoked,
        Staple::Expired,
        Staple::Future,
        Staple::WrongKey,
        Staple::OtherSerial,
        Staple::Unknown,
        Staple::Delegated,
        Staple::DelegatedNoEku,
    ] {
        let staple = p.staple(kind);
        let srv = p.server("leaf", Some(&staple), &[]);
        let real = crate::common::clients::gnutls_verify(srv.port, "localhost", &ca);
        let target = format!("localhost:{}", srv.port);
        let run = tlsdoctor(&[
            "simulate", &target, "--cafile", &ca_s, "--client", "gnutls", "--json",
        ]);
        let j = run.json();
        let sim = &j["servers"][0]["simulations"][0];
        let predicted = match sim["connects"].as_bool() {
            Some(true) => Ok(()),
            _ => Err(sim["failure"]["error"].as_str().unwrap_or("").to_string()),
        };
        if real.is_err() {
            refused.push(kind);
        }
        if real != predicted {
            problems.push(format!("{kind:?}: real {real:?}, simulated {predicted:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(refused.contains(&Staple::Revoked) && !refused.contains(&Staple::Good));
}
