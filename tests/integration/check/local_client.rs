//! `check --client python` uses this machine's real Python and its OpenSSL settings: the
//! verdict changes with OPENSSL_CONF exactly as the real client's behaviour does.

use crate::common::cli::tlsdoctor_env;
use crate::common::clients::{python_with, stable};
use crate::common::servers::{gnutls_serv, openssl_s_server};

fn conf(dir: &std::path::Path, name: &str, line: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("openssl_conf = i\n[i]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\n{line}\n"),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn max_protocol_in_openssl_conf_makes_the_client_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let cnf = conf(dir.path(), "max12.cnf", "MaxProtocol = TLSv1.2");
    let server = openssl_s_server(&["-tls1_3"]);
    let ca = server.cert.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let env = [("OPENSSL_CONF", cnf.as_str())];
    let real = python_with(server.port, "localhost", Some(ca), &env).expect_err("python must fail");
    let run = tlsdoctor_env(
        &[
            "check",
            &format!("localhost:{}", server.port),
            "--client",
            "python",
            "--cafile",
            ca,
            "--json",
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let f = doc["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "proto-client-too-old")
        .cloned()
        .unwrap_or_else(|| panic!("{:#}", doc["diagnoses"][0]["findings"]));
    assert!(
        f["breaks"].to_string().contains(&stable(&real)),
        "{:#} vs {real}",
        f["breaks"]
    );
    assert!(
        f["evidence"].to_string().contains(&cnf),
        "names the config file: {:#}",
        f["evidence"]
    );
    assert!(
        f["fix_client"][0]
            .as_str()
            .is_some_and(|l| l.starts_with(&format!("Check MinProtocol/MaxProtocol in {cnf} "))),
        "the first client fix is the configuration: {:#}",
        f["fix_client"]
    );

    // Without the configuration the same client connects, and tlsdoctor agrees.
    assert!(python_with(server.port, "localhost", Some(ca), &[]).is_ok());
    let run = tlsdoctor_env(
        &[
            "check",
            &format!("localhost:{}", server.port),
            "--client",
            "python",
            "--cafile",
            ca,
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn unsafe_legacy_server_connect_makes_the_server_reachable_and_is_called_risky() {
    let dir = tempfile::tempdir().unwrap();
    let cnf = conf(
        dir.path(),
        "legacy.cnf",
        "Options = UnsafeLegacyServerConnect",
    );
    let server = gnutls_serv("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]);
    let ca = server.cert.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let env = [("OPENSSL_CONF", cnf.as_str())];
    assert!(
        python_with(server.port, "localhost", Some(ca), &env).is_ok(),
        "real python connects with the option"
    );
    let run = tlsdoctor_env(
        &[
            "check",
            &format!("localhost:{}", server.port),
            "--client",
            "python",
            "--cafile",
            ca,
        ],
        &env,
    );
    assert_eq!(
        run.code, 0,
        "the client connects, so no error: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no-secure-renegotiation"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("UnsafeLegacyServerConnect"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("CVE-2009-3555"),
        "says why it is risky: {}",
        run.stdout
    );

    // Without it, both the real client and the verdict fail.
    assert!(python_with(server.port, "localhost", Some(ca), &[]).is_err());
    let run = tlsdoctor_env(
        &[
            "check",
            &format!("localhost:{}", server.port),
            "--client",
            "python",
            "--cafile",
            ca,
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
}
