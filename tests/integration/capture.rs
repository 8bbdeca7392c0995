//! `tlsdoctor capture-client` against real clients: the recorded hello is the client's own
//! (its SNI, its version range) and the skeleton is a loadable profile that replays.

use crate::common::servers::free_port;
use std::process::{Command, Stdio};
use std::time::Duration;

fn capture_with(client: impl FnOnce(u16)) -> (i32, String, String) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.toml");
    let mut cap = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(["capture-client", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--id", "captured-test", "--wait", "20", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start capture-client");
    // Wait until it listens, then run the client.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "capture-client never listened"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    // That probe connection counts as a client: it sent nothing, so restart cleanly.
    let status = cap.wait().unwrap();
    assert_ne!(
        status.code(),
        Some(0),
        "a silent peer must not produce a profile"
    );
    let cap = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(["capture-client", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--id", "captured-test", "--wait", "20", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start capture-client");
    std::thread::sleep(Duration::from_millis(300));
    client(port);
    let o = cap.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        std::fs::read_to_string(&out).unwrap_or_default(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn captures_python_and_s_client() {
    let (code, text, err) = capture_with(|port| {
        let _ = Command::new("timeout")
            .args(["10", "python3", "-c"])
            .arg(format!(
                "import ssl,socket\nc=ssl.create_default_context()\ntry:\n c.wrap_socket(socket.create_connection(('127.0.0.1',{port})),server_hostname='capture.example')\nexcept Exception as e: print(e)"
            ))
            .output();
    });
    assert_eq!(code, 0, "{err}");
    let p: tlsdoctor::clients::ClientProfile = toml::from_str(&text).expect("profile parses");
    assert!(p.sends_sni && text.contains("capture.example"));
    assert_eq!(
        p.policy.min_version, "tls1_2",
        "Python's default context offers TLS 1.2+"
    );
    assert!(tlsdoctor::wire::ClientHello::parse_record(&p.hello_bytes()).is_ok());
    assert!(tlsdoctor::simulate::replay_hello(&p, Some("other.example")).is_some());

    let (code, text, err) = capture_with(|port| {
        let _ = Command::new("timeout")
            .args(["10", "openssl", "s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-servername", "sclient.example"])
            .stdin(Stdio::null())
            .output();
    });
    assert_eq!(code, 0, "{err}");
    let p: tlsdoctor::clients::ClientProfile = toml::from_str(&text).expect("profile parses");
    assert!(text.contains("sclient.example"));
    assert_eq!(
        p.policy.min_version, "tls1_0",
        "s_client offers TLS 1.0 to 1.3"
    );
    assert_eq!(p.policy.max_version, "tls1_3");
}

#[test]
fn non_tls_peer_gets_a_clear_error() {
    let (code, text, err) = capture_with(|port| {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        std::thread::sleep(Duration::from_millis(200));
    });
    assert_eq!(code, 2);
    assert!(text.is_empty());
    assert!(err.contains("did not start a TLS handshake"), "{err}");
    assert_eq!(
        err.trim().lines().filter(|l| l.contains("error")).count(),
        1
    );
}
