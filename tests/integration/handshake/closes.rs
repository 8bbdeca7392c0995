//! A front end that hangs up on the hello, with a FIN or with a TCP reset: what each real
//! client prints differs between the two, and tlsdoctor must give the texts of what it
//! measured, not one template.

use super::{check, mismatches, rsa_root, simulated};
use crate::common::clients::{FIVE, RealClients};
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
        assert_eq!(f["id"], "server-closed", "{how}: {:#}", diag["findings"]);
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
