//! The system store follows SSL_CERT_FILE / SSL_CERT_DIR like OpenSSL and Python do. This binary
//! holds a single test because it changes the process environment.

mod common;

use tlsdoctor::cert::stores;

#[test]
fn system_store_honours_ssl_cert_file_and_dir() {
    let pki = common::pki::Pki::build();
    let file = pki.path("root.pem");
    let empty_dir = pki.path("empty-dir");
    std::fs::create_dir(&empty_dir).unwrap();
    // SAFETY: this test binary runs exactly one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &file);
        std::env::set_var("SSL_CERT_DIR", &empty_dir);
    }
    let s = stores::system();
    assert_eq!(s.name, "system");
    assert!(
        s.source
            .contains(&format!("SSL_CERT_FILE={}", file.display())),
        "{}",
        s.source
    );
    assert!(s.source.contains("SSL_CERT_DIR="), "{}", s.source);
    assert_eq!(s.roots.len(), 1, "{:?}", s.load_errors);
    assert_eq!(
        s.roots[0].subject,
        "CN=tlsdoctor Test Root, O=tlsdoctor tests"
    );

    // What OpenSSL itself reads with the same environment: the same single root.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import ssl; c=ssl.create_default_context(); print(len(c.get_ca_certs()))",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    // Without the variables the store is the real system bundle, and names where it came from.
    unsafe {
        std::env::remove_var("SSL_CERT_FILE");
        std::env::remove_var("SSL_CERT_DIR");
    }
    let s = stores::system();
    assert!(!s.source.contains("SSL_CERT_FILE"), "{}", s.source);
    assert!(
        s.roots.len() > 50,
        "{} roots from {}",
        s.roots.len(),
        s.source
    );
}
