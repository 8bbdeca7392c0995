//! Every profile made from a client installed here, checked against the real client: the
//! real client and `tlsdoctor simulate` meet the same misconfigured local servers and must agree
//! on the outcome and on the error text.
//!
//! Servers (each started once, on 127.0.0.1): TLS 1.0 only, no secure renegotiation
//! (gnutls-serv), only RSA key exchange, 1024-bit DHE, an RSA-1024 leaf, a SHA-1 signed leaf,
//! a required client certificate, and a healthy one. Clients: Python 3.11 `ssl`, `openssl
//! s_client`, curl, Node.js, Java 17 (JSSE with endpoint identification) and gnutls-cli, all
//! trusting the test root. Real clients run concurrently.

use crate::common::cli::tlsdoctor;
use crate::common::pki::Pki;
use crate::common::servers::{ServerProcess, free_port, openssl_s_server_with, spawn_listening};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a real client did: connected (and read the server's HTTP answer) or printed `text`.
#[derive(Debug, Clone)]
struct Real {
    connects: bool,
    text: String,
}

fn run(mut cmd: Command, stdin: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start client");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    // Every client gets a deadline through `timeout`; wait_with_output then cannot hang.
    let out = child.wait_with_output().expect("wait client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn timeout(secs: u32, prog: &str) -> Command {
    let mut c = Command::new("timeout");
    c.arg(secs.to_string()).arg(prog);
    c
}

const GET: &str = "GET / HTTP/1.0\r\n\r\n";

fn python(port: u16, root: &Path) -> Real {
    let script = r#"
import ssl, socket, sys, re
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if not t.recv(16):
                raise OSError("no answer")
            print("OK")
except Exception as e:
    print("ERR " + re.sub(r" \(_ssl\.c:\d+\)$", "", str(e)))
"#;
    let mut c = timeout(15, "python3");
    c.arg("-c").arg(script).arg(port.to_string()).arg(root);
    let (_, out) = run(c, "");
    let line = out.lines().last().unwrap_or("").to_string();
    Real {
        connects: line == "OK",
        text: line.trim_start_matches("ERR ").to_string(),
    }
}

fn s_client(port: u16, root: &Path) -> Real {
    let mut c = timeout(15, "openssl");
    c.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "localhost", "-ign_eof", "-CAfile"])
        .arg(root);
    let (_, out) = run(c, GET);
    let connects = out.contains("HTTP/1.0 200");
    let err = regex::Regex::new(r"error:[0-9A-F]{8}:SSL routines:[a-z_0-9]*:[^:]*")
        .unwrap()
        .find(&out)
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    Real {
        connects,
        text: err,
    }
}

fn curl(port: u16, root: &Path) -> Real {
    let mut c = timeout(15, "curl");
    c.args(["-sS", "-o", "/dev/null", "--cacert"])
        .arg(root)
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg(format!("https://localhost:{port}/"));
    let (ok, out) = run(c, "");
    Real {
        connects: ok,
        text: out.lines().next().unwrap_or("").to_string(),
    }
}

fn node(port: u16, root: &Path) -> Real {
    let script = r#"
const tls = require('tls');
const s = tls.connect({host: '127.0.0.1', port: +process.argv[1], servername: 'localhost'}, () => {
  s.write('GET / HTTP/1.0\r\n\r\n');
});
let done = false;
s.on('data', () => { if (!done) { done = true; console.log('OK'); s.destroy(); } });
s.on('error', e => { if (!done) { done = true; console.log('ERR ' + e.code + ': ' + e.message); } });
s.setTimeout(8000, () => { console.log('ERR timeout'); s.destroy(); });
"#;
    let mut c = timeout(15, "node");
    c.arg("-e")
        .arg(script)
        .arg(port.to_string())
        .env("NODE_EXTRA_CA_CERTS", root);
    let (_, out) = run(c, "");
    let line = out
        .lines()
        .find(|l| l.starts_with("OK") || l.starts_with("ERR"));
    let line = line.unwrap_or("").to_string();
    Real {
        connects: line == "OK",
        text: line.trim_start_matches("ERR ").to_string(),
    }
}

fn java(port: u16, classes: &Path, truststore: &Path) -> Real {
    let mut c = timeout(30, "java");
    c.arg(format!(
        "-Djavax.net.ssl.trustStore={}",
        truststore.display()
    ))
    .arg("-Djavax.net.ssl.trustStorePassword=changeit")
    .arg("-cp")
    .arg(classes)
    .arg("SimClient")
    .arg(port.to_string());
    let (_, out) = run(c, "");
    let line = out.lines().last().unwrap_or("").to_string();
    Real {
        connects: line == "OK",
        text: line.trim_start_matches("ERR ").to_string(),
    }
}

fn gnutls(port: u16, root: &Path) -> Real {
    let mut c = timeout(15, "gnutls-cli");
    c.arg("--x509cafile")
        .arg(root)
        .args(["-p", &port.to_string(), "localhost"]);
    let (_, out) = run(c, GET);
    let connects = out.contains("HTTP/1.0 200");
    Real {
        connects,
        text: out,
    }
}

const JAVA_CLIENT: &str = r#"
import javax.net.ssl.*;
public class SimClient {
  public static void main(String[] a) {
    try {
      SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
      try (SSLSocket s = (SSLSocket) f.createSocket("localhost", Integer.parseInt(a[0]))) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
        s.getOutputStream().flush();
        if (s.getInputStream().read(new byte[16]) <= 0) throw new java.io.IOException("no answer");
        System.out.println("OK");
      }
    } catch (Exception e) {
      System.out.println("ERR " + e.toString());
    }
  }
}
"#;

struct Setup {
    pki: Pki,
    classes: PathBuf,
    truststore: PathBuf,
}

fn setup() -> Setup {
    let pki = Pki::build();
    let classes = pki.path("classes");
    std::fs::create_dir_all(&classes).unwrap();
    let src = classes.join("SimClient.java");
    std::fs::write(&src, JAVA_CLIENT).unwrap();
    let st = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(&src)
        .status()
        .expect("javac");
    assert!(st.success(), "javac failed");
    let truststore = pki.path("trust.p12");
    let st = Command::new("keytool")
        .args(["-importcert", "-noprompt", "-alias", "root", "-file"])
        .arg(pki.path("root.pem"))
        .arg("-keystore")
        .arg(&truststore)
        .args(["-storetype", "PKCS12", "-storepass", "changeit"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("keytool");
    assert!(st.success(), "keytool failed");
    Setup {
        pki,
        classes,
        truststore,
    }
}

fn s_server(pki: &Pki, leaf: &str, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["-www", "-cert_chain"];
    let chain = pki.path("int.pem");
    let chain = chain.to_str().unwrap().to_string();
    args.push(&chain);
    args.extend_from_slice(extra);
    openssl_s_server_with(
        &args,
        &pki.path(&format!("{leaf}.pem")),
        &pki.path(&format!("{leaf}.key")),
        None,
    )
}

fn gnutls_serv(pki: &Pki, priority: &str) -> ServerProcess {
    let port = free_port();
    let chain = pki.bundle("good-chain.pem", &["good.pem", "int.pem"]);
    let mut cmd = Command::new("gnutls-serv");
    cmd.arg("--http")
        .arg("--port")
        .arg(port.to_string())
        .arg("--x509certfile")
        .arg(chain)
        .arg("--x509keyfile")
        .arg(pki.path("good.key"))
        .arg("--priority")
        .arg(priority);
    spawn_listening("gnutls-serv", cmd, port, None)
}

/// Compare one real client with its simulation; returns a description of a mismatch.
fn compare(case: &str, id: &str, real: &Real, sim: &serde_json::Value) -> Option<String> {
    let sim_connects = sim["connects"].as_bool().unwrap_or(false);
    let sim_text = sim["failure"]["error"].as_str().unwrap_or("").to_string();
    if real.connects != sim_connects {
        return Some(format!(
            "{case}/{id}: real connects={} ({}), simulation connects={sim_connects} ({sim_text})",
            real.connects, real.text
        ));
    }
    if real.connects {
        return None;
    }
    let same = match id {
        // curl prints the full OpenSSL version ("OpenSSL/3.0.19: error:…"); the profile keeps
        // the series. Certificate texts have no version.
        "curl" => {
            let tail = sim_text.trim_start_matches("OpenSSL/3.0: ");
            real.text.contains(tail) && (tail != sim_text || real.text.ends_with(&sim_text))
        }
        // Node: the profile text is err.code (+ message for certificate errors); the real
        // line is "code: message".
        "node" => real.text.starts_with(&sim_text),
        // gnutls-cli prints several lines; the simulated one must be one of them.
        "gnutls" => real.text.lines().any(|l| l.trim() == sim_text),
        _ => real.text == sim_text,
    };
    (!same).then(|| {
        format!(
            "{case}/{id}: real error {:?}, simulated {:?}",
            real.text, sim_text
        )
    })
}

#[test]
fn real_clients_and_simulation_agree() {
    let s = setup();
    let pki = &s.pki;
    let dh = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dh1024.pem");
    let dh = dh.to_str().unwrap().to_string();
    let root = pki.path("root.pem");
    pki.rsa_leaf();
    let servers: Vec<(&str, ServerProcess)> = vec![
        (
            "tls10-only",
            s_server(pki, "good", &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        ),
        (
            "no-secure-renegotiation",
            gnutls_serv(pki, "NORMAL:%DISABLE_SAFE_RENEGOTIATION:-VERS-TLS1.3"),
        ),
        (
            "rsa-kx-only",
            s_server(
                pki,
                "rsa",
                &[
                    "-no_tls1_3",
                    "-cipher",
                    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA",
                ],
            ),
        ),
        (
            "dh1024",
            s_server(
                pki,
                "rsa",
                &[
                    "-no_tls1_3",
                    "-cipher",
                    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
                    "-dhparam",
                    &dh,
                ],
            ),
        ),
        (
            "rsa1024-leaf",
            s_server(pki, "weak", &["-cipher", "DEFAULT:@SECLEVEL=0"]),
        ),
        (
            "sha1-leaf",
            s_server(pki, "sha1", &["-cipher", "DEFAULT:@SECLEVEL=0"]),
        ),
        (
            "client-cert-required",
            s_server(
                pki,
                "good",
                &["-Verify", "1", "-CAfile", root.to_str().unwrap()],
            ),
        ),
        ("healthy", s_server(pki, "good", &[])),
    ];

    // Real clients, all at once (one thread per client run).
    let real: Vec<(String, String, Real)> = std::thread::scope(|sc| {
        let mut handles = Vec::new();
        for (case, srv) in &servers {
            let port = srv.port;
            for id in ["python", "openssl", "curl", "node", "java", "gnutls"] {
                let (root, classes, ts) = (&root, &s.classes, &s.truststore);
                handles.push(sc.spawn(move || {
                    let r = match id {
                        "python" => python(port, root),
                        "openssl" => s_client(port, root),
                        "curl" => curl(port, root),
                        "node" => node(port, root),
                        "java" => java(port, classes, ts),
                        _ => gnutls(port, root),
                    };
                    (case.to_string(), id.to_string(), r)
                }));
            }
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // The simulation of the same clients against the same servers, also concurrently.
    let sims: Vec<(String, serde_json::Value)> = std::thread::scope(|sc| {
        let handles: Vec<_> = servers
            .iter()
            .map(|(case, srv)| {
                let target = srv.target();
                let root = root.to_str().unwrap().to_string();
                sc.spawn(move || {
                    let r = tlsdoctor(&[
                        "simulate",
                        &target,
                        "--sni",
                        "localhost",
                        "--cafile",
                        &root,
                        "--client",
                        "python",
                        "--client",
                        "openssl",
                        "--client",
                        "curl",
                        "--client",
                        "node",
                        "--client",
                        "java",
                        "--client",
                        "gnutls",
                        "--json",
                    ]);
                    assert_eq!(r.code, 0, "{case}: {}", r.stderr);
                    (case.to_string(), r.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut problems = Vec::new();
    for (case, id, r) in &real {
        let doc = &sims.iter().find(|(c, _)| c == case).unwrap().1;
        let sims = doc["servers"][0]["simulations"].as_array().unwrap();
        let sim = sims
            .iter()
            .find(|x| x["client"] == id.as_str())
            .unwrap_or_else(|| panic!("{case}: no simulation of {id}"));
        if let Some(p) = compare(case, id, r, sim) {
            problems.push(p);
        }
    }
    assert!(problems.is_empty(), "mismatches:\n{}", problems.join("\n"));

    // The cases must really differ between clients (a test that cannot fail proves nothing):
    let get = |case: &str, id: &str| {
        real.iter()
            .find(|(c, i, _)| c == case && i == id)
            .map(|(_, _, r)| r.clone())
            .unwrap()
    };
    assert!(get("healthy", "python").connects && get("healthy", "java").connects);
    assert!(!get("no-secure-renegotiation", "python").connects);
    assert!(get("no-secure-renegotiation", "java").connects);
    assert!(
        !get("rsa-kx-only", "python").connects && get("rsa-kx-only", "openssl").connects,
        "{:?} {:?}",
        get("rsa-kx-only", "python"),
        get("rsa-kx-only", "openssl")
    );

    // TLS 1.0 only: Python never offers TLS 1.0 and gets the server's alert; s_client offers
    // it, and OpenSSL 3 then refuses the MD5+SHA-1 key-exchange signature. The simulation
    // says both in plain words.
    let tls10 =
        &sims.iter().find(|(c, _)| c == "tls10-only").unwrap().1["servers"][0]["simulations"];
    let by = |id: &str| {
        tls10
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["client"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        get("tls10-only", "python").text,
        "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"
    );
    assert!(
        get("tls10-only", "openssl")
            .text
            .ends_with("legacy sigalg disallowed or unsupported")
    );
    let py_reason = by("python")["failure"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        py_reason.contains("offers only TLSv1.2–TLSv1.3") && py_reason.contains("protocol_version"),
        "{py_reason}"
    );
    let os_reason = by("openssl")["failure"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        os_reason.contains("picked TLSv1.0") && os_reason.contains("MD5+SHA-1"),
        "{os_reason}"
    );
}

#[test]
fn simulate_all_recorded_clients_is_fast() {
    let pki = Pki::build();
    let srv = s_server(&pki, "good", &[]);
    let r = tlsdoctor(&[
        "simulate",
        &srv.target(),
        "--sni",
        "localhost",
        "--cafile",
        pki.path("root.pem").to_str().unwrap(),
        "--client",
        "all",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let sims = j["servers"][0]["simulations"].as_array().unwrap();
    assert!(sims.len() >= 183, "{} simulations", sims.len());
    // A modern server: current browsers connect with TLS 1.3; SSLv2/SSLv3-only IE 6 cannot.
    let find = |name: &str| {
        sims.iter()
            .find(|s| s["client_name"].as_str().unwrap_or("").starts_with(name))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(find("Chrome 101")["version"], "tls1_3");
    assert_eq!(find("IE 6")["connects"], false);
    assert!(r.elapsed < Duration::from_secs(20), "took {:?}", r.elapsed);
}
