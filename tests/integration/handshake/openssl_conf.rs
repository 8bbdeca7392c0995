//! The client-side configuration in force while `check` runs: an OPENSSL_CONF whose
//! system_default caps MaxProtocol at TLS 1.2, against a TLS 1.3-only server. Python and
//! openssl s_client read it and fail; curl, Node 20, Java 17 and gnutls-cli do not (measured
//! here). A plain `check` run under the same environment must predict exactly that.

use super::{leaf_of_size, mismatches, rsa_root, simulations_of};
use crate::common::cli::tlsdoctor_env;
use crate::common::clients::{FIVE, RealClients, Tweaks};
use crate::common::servers::openssl_s_server_with;

#[test]
fn an_openssl_conf_in_force_applies_to_the_clients_that_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let conf = d.join("max-tls12.cnf");
    std::fs::write(
        &conf,
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n\
         system_default = system_default_sect\n[system_default_sect]\nMaxProtocol = TLSv1.2\n",
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_string();
    let server = openssl_s_server_with(
        &["-www", "-tls1_3"],
        &d.join("leaf.pem"),
        &d.join("leaf.key"),
        None,
    );
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let under = Tweaks {
        env: vec![("OPENSSL_CONF".into(), conf.clone())],
        ..Tweaks::default()
    };
    let real = clients.run_all_with(&ids, server.port, &under);
    for (id, r) in &real {
        let reads = id == "python" || id == "openssl";
        assert_eq!(r.connects, !reads, "{id}: {r:?}");
    }

    let target = server.target();
    let run = tlsdoctor_env(
        &[
            "check",
            &target,
            "--sni",
            "localhost",
            "--cafile",
            root.to_str().unwrap(),
            "--json",
        ],
        &[("OPENSSL_CONF", &conf)],
    );
    assert!(run.code <= 1, "{}", run.stderr);
    let diag = run.json()["diagnoses"][0].clone();
    let problems = mismatches("OPENSSL_CONF", &real, &simulations_of(&diag, &ids));
    assert!(problems.is_empty(), "{problems:#?}");
    let python = diag["simulations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["client"] == "python")
        .unwrap();
    assert!(
        python["client_name"]
            .as_str()
            .unwrap()
            .contains(&format!("under OPENSSL_CONF={conf}: MaxProtocol TLSv1.2")),
        "{python}"
    );
    // The lead is the protocol mismatch, whose first fix is the configuration in force.
    let lead = &diag["findings"][0];
    assert_eq!(lead["id"], "proto-client-too-old", "{:#}", diag["findings"]);
    let fix = lead["fix_client"][0].as_str().unwrap();
    assert!(fix.contains(&conf) && fix.contains("MaxProtocol"), "{fix}");
    assert!(
        lead["evidence"]
            .to_string()
            .contains("OPENSSL_CONF, in force while check ran"),
        "{lead:#}"
    );
    assert!(
        diag["findings"].to_string().contains("Python"),
        "{:#}",
        diag["findings"]
    );

    // Without it, every client connects, and so does every simulation.
    let plain = tlsdoctor_env(
        &[
            "check",
            &target,
            "--sni",
            "localhost",
            "--cafile",
            root.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    let diag = plain.json()["diagnoses"][0].clone();
    for (_, connects, text) in simulations_of(&diag, &ids) {
        assert!(connects, "{text}");
    }
}
