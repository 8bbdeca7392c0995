//! A front end that hangs up on the hello, with a FIN or with a TCP reset: what each real
//! client prints differs between the two, and tlsdoctor must give the texts of what it
//! measured, not one template. And a front end that routes by SNI (tests/peers/sni_front.py)
//! and hangs up on a name it has no route for.

use super::{check, leaf_of_size, mismatches, rsa_root, simulated};
use crate::common::cli::tlsdoctor;
use crate::common::clients::{FIVE, RealClients};
use crate::common::servers::openssl_s_server_with;
use crate::common::servers::{ServerProcess, free_port, spawn_listening};
use std::process::Command;

/// tests/peers/sni_front.py on a free port; `args` after the port.
pub fn sni_front(args: &[&str]) -> ServerProcess {
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/sni_front.py"
    ))
    .arg(port.to_string())
    .args(args);
    spawn_listening("sni-front", cmd, port, None)
}

#[test]
fn a_silent_close_and_a_reset_are_worded_as_measured() {
    let dir = tempfile::tempdir().unwrap();
    let root = rsa_root(dir.path());
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let mut problems = Vec::new();
    let mut texts = Vec::new();
    for how in ["close", "reset"] {
        let front = sni_front(&["--unknown", how]);
        let real = clients.run_all(&ids, front.port);
        assert!(real.iter().all(|(_, r)| !r.connects), "{real:?}");
        problems.extend(mismatches(how, &real, &simulated(front.port, &root, &ids)));
        let python = real
            .iter()
            .find(|(i, _)| i == "python")
            .unwrap()
            .1
            .text
            .clone();
        texts.push(python);

        // The diagnosis lists each client's text for what the scan recorded.
        let diag = check(front.port, &root);
        let f = &diag["findings"][0];
        // A silent close of every hello reads as an SNI router without a route; a reset not.
        let id = if how == "close" {
            "closed-on-server-name"
        } else {
            "server-closed"
        };
        assert_eq!(f["id"], id, "{how}: {:#}", diag["findings"]);
        let breaks = f["breaks"].to_string();
        for (id, r) in &real {
            if id == "curl" || id == "node" {
                continue; // compared through `agrees` above
            }
            assert!(
                breaks.contains(&serde_json::to_string(&r.text).unwrap()),
                "{how}: {id}: {:?} not in {breaks}",
                r.text
            );
        }
    }
    assert_eq!(
        texts,
        [
            "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol",
            "[Errno 104] Connection reset by peer"
        ]
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn an_sni_router_hangs_up_on_a_name_it_has_no_route_for() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let backend = openssl_s_server_with(&["-www"], &d.join("leaf.pem"), &d.join("leaf.key"), None);
    let backend_port = backend.port.to_string();
    // It knows app.example.test only; the clients ask for localhost.
    let front = sni_front(&["--known", "app.example.test", "--backend", &backend_port]);
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let real = clients.run_all(&ids, front.port);
    assert!(real.iter().all(|(_, r)| !r.connects), "{real:#?}");
    let problems = mismatches("sni router", &real, &simulated(front.port, &root, &ids));
    assert!(problems.is_empty(), "{problems:#?}");

    let diag = check(front.port, &root);
    let f = &diag["findings"][0];
    assert_eq!(f["id"], "closed-on-server-name", "{:#}", diag["findings"]);
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .ends_with("no route for localhost"),
        "{f}"
    );
    let breaks = f["breaks"].to_string();
    for (id, r) in &real {
        if ["python", "openssl", "java", "gnutls"].contains(&id.as_str()) {
            let quoted = serde_json::to_string(&r.text).unwrap();
            assert!(breaks.contains(&quoted), "{id}: {quoted} not in {breaks}");
        }
    }

    // With the name it routes, the front end passes the connection to the server.
    let target = front.target();
    let routed = tlsdoctor(&[
        "check",
        &target,
        "--sni",
        "app.example.test",
        "--cafile",
        root.to_str().unwrap(),
        "--json",
    ]);
    let diag = routed.json()["diagnoses"][0].clone();
    assert!(!diag["scan"].is_null(), "{:#}", diag["findings"]);
    assert!(
        diag["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "closed-on-server-name" && f["id"] != "server-closed"),
        "{:#}",
        diag["findings"]
    );
}
