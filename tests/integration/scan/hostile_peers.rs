//! Servers that send hostile or broken bytes: the scan ends with a clear error, within its
//! deadline, never a panic or a hang.

use crate::common::cli::tlsdoctor;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A server that reads the client's first bytes, then writes whatever `answer` produces.
fn hostile(answer: fn(&mut std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                answer(&mut s);
            });
        }
    });
    addr.to_string()
}

fn assert_clean(target: &str, want: &str) {
    let run = tlsdoctor(&["scan", target, "--timeout", "2"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr.contains(want),
        "want {want:?} in: {}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn endless_stream_of_handshake_records() {
    // Valid record framing, but ServerHelloDone with no ServerHello, forever.
    let t = hostile(|s| {
        for _ in 0..200_000 {
            if s.write_all(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00])
                .is_err()
            {
                break;
            }
        }
    });
    assert_clean(&t, "accepted no SSL/TLS version");
}

#[test]
fn record_longer_than_the_protocol_allows() {
    let t = hostile(|s| {
        let _ = s.write_all(&[0x16, 0x03, 0x03, 0xff, 0xff]);
        let _ = s.write_all(&vec![0u8; 70_000]);
    });
    assert_clean(&t, "accepted no SSL/TLS version");
}

#[test]
fn server_hello_with_lying_lengths() {
    // A ServerHello whose inner lengths run past the record.
    let t = hostile(|s| {
        let _ = s.write_all(&[
            0x16, 0x03, 0x03, 0x00, 0x0a, 0x02, 0x00, 0xff, 0xff, 0x03, 0x03, 0x01, 0x02, 0x03,
            0x04,
        ]);
    });
    assert_clean(&t, "accepted no SSL/TLS version");
}

#[test]
fn endless_garbage() {
    let t = hostile(|s| {
        let chunk = [0x42u8; 8192];
        for _ in 0..10_000 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    assert_clean(&t, "does not speak TLS");
}

#[test]
fn trickling_server_is_cut_off_by_the_deadline() {
    let t = hostile(|s| {
        for b in [0x16u8, 0x03, 0x03, 0x00, 0x40] {
            if s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(700));
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    assert_clean(&t, "accepted no SSL/TLS version");
}
