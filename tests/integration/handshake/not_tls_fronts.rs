//! A port that answers a TLS hello with something else: an nginx TLS listener that wants a
//! PROXY-protocol header first (it reads the hello as a broken header and hangs up). Each
//! real client's outcome and text, tlsdoctor's simulation of the same clients, and `check`'s
//! finding (not-tls, naming what the port wants, quoting every client).
//!
//! (An HTTP forward proxy's clients wait before they fail: forward_proxy.rs.)

use super::{check, mismatches, rsa_root, simulated};
use crate::common::clients::{FIVE, RealClients};
use crate::common::servers::{ServerProcess, nginx};

fn assert_named(server: &ServerProcess, case: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    // The clients never get to a certificate; they only need a root to start.
    let root = rsa_root(dir.path());
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let real = clients.run_all(&ids, server.port);
    assert!(real.iter().all(|(_, r)| !r.connects), "{case}: {real:#?}");
    let problems = mismatches(case, &real, &simulated(server.port, &root, &ids));
    assert!(problems.is_empty(), "{problems:#?}");

    let diag = check(server.port, &root);
    let lead = &diag["findings"][0];
    assert_eq!(lead["id"], "not-tls", "{case}: {:#}", diag["findings"]);
    assert!(
        lead["title"].as_str().unwrap().contains(name),
        "{case}: {lead:#}"
    );
    let breaks = lead["breaks"].to_string();
    for (id, r) in &real {
        if ["python", "openssl", "java", "gnutls"].contains(&id.as_str()) {
            let quoted = serde_json::to_string(&r.text).unwrap();
            assert!(
                breaks.contains(&quoted),
                "{case}: {id}: {quoted} not in {breaks}"
            );
        }
    }
}

#[test]
fn a_tls_port_that_wants_a_proxy_protocol_header_first() {
    let server = nginx(
        "server { listen 127.0.0.1:{port} ssl proxy_protocol; ssl_certificate {cert}; ssl_certificate_key {key}; return 200; }",
    );
    assert_named(&server, "proxy_protocol", "PROXY protocol");
}
