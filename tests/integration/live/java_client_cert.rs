//! Java (JSSE) observed with the user's client certificate: tlsdoctor converts the PEM key to
//! the PKCS#8 DER Java's standard library reads and hands it to the client in a key store.
//! The lab's client certificate is ECDSA with a PKCS#8 key; the conversion of PKCS#1 and SEC1
//! keys is unit-tested in src/live/pkcs8.rs.

use super::lab::{check_endpoint, lab, observed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_presents_the_users_certificate() {
    let (lab, dir) = lab().await;
    let cert = dir.path().join("tlsdoctor-lab-client.pem");
    let key = dir.path().join("tlsdoctor-lab-client.key");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let with_cert = ["--client", "java", "--cert", cert, "--key", key];
    let without = ["--client", "java"];
    let ((_, tls13), (_, tls12), (_, refused)) = tokio::join!(
        check_endpoint(&lab, "client-cert-tls13", &with_cert),
        check_endpoint(&lab, "client-cert-tls12", &with_cert),
        check_endpoint(&lab, "client-cert-tls13", &without),
    );

    let java = observed(&tls13, "java");
    assert_eq!(java.len(), 1, "{:#}", tls13["diagnoses"][0]["live"]);
    assert_eq!(java[0]["observed"]["connects"], true, "{:#}", java[0]);
    assert_eq!(java[0]["observed"]["version"], "TLSv1.3");
    assert_eq!(java[0]["agreement"], "agrees", "{:#}", java[0]);

    // TLS 1.2 from the legacy server (static RSA and DHE suites only, which rustls does not
    // speak): Java connects with the certificate; tlsdoctor must not claim the server
    // rejected it.
    let java = observed(&tls12, "java");
    assert_eq!(java.len(), 1, "{:#}", tls12["diagnoses"][0]["live"]);
    assert_eq!(java[0]["observed"]["connects"], true, "{:#}", java[0]);
    assert_eq!(java[0]["observed"]["version"], "TLSv1.2");
    let ids: Vec<&str> = tls12["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"client-cert-rejected"), "{ids:?}");

    // Without the certificate, Java's own refusal text.
    let java = observed(&refused, "java");
    assert_eq!(java.len(), 1);
    assert_eq!(
        java[0]["observed"]["error"],
        "javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_required"
    );
}
