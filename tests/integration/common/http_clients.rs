//! Real HTTPS clients making one GET after the handshake, for servers that answer at the
//! HTTP level (a client certificate refused with HTTP 400). Each runner returns what the
//! client reports, in the words of data/client-errors.toml `[http_answer]`: its own error
//! text where it raises one, else the status it hands to the program and the fact that it
//! raised nothing. Every client runs under `timeout`.

use super::clients::java_truststore;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const PY_URLLIB: &str = r#"
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    r = urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10)
    print("status %d %s, no exception" % (r.status, r.reason))
except Exception as e:
    print("%s.%s: %s" % (type(e).__module__, type(e).__qualname__, e))
"#;

const PY_HTTP_CLIENT: &str = r#"
import ssl, sys, http.client
ctx = ssl.create_default_context(cafile=sys.argv[3])
try:
    c = http.client.HTTPSConnection(sys.argv[1], int(sys.argv[2]), context=ctx, timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    print("status %d %s, no exception" % (r.status, r.reason))
except Exception as e:
    print("%s.%s: %s" % (type(e).__module__, type(e).__qualname__, e))
"#;

const NODE_HTTPS: &str = r#"
const https = require('https'), fs = require('fs');
const [url, ca] = process.argv.slice(1);
https.get(url, {ca: fs.readFileSync(ca), timeout: 10000}, r => {
  console.log(`statusCode ${r.statusCode} ${r.statusMessage}, no 'error' event`);
  r.resume();
}).on('error', e => console.log(e.code + ': ' + e.message));
"#;

const JAVA_HTTPS: &str = r#"
import java.net.*;
import java.net.http.*;
public class HttpsGet {
  public static void main(String[] a) {
    try {
      if (a[1].equals("urlconnection")) {
        HttpURLConnection c = (HttpURLConnection) new URL(a[0]).openConnection();
        c.getInputStream();
        System.out.println("status " + c.getResponseCode() + ", no exception");
      } else {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(a[0])).build(), HttpResponse.BodyHandlers.ofString());
        System.out.println("statusCode " + r.statusCode() + ", no exception");
      }
    } catch (Exception e) {
      System.out.println(e.toString());
    }
  }
}
"#;

fn java_classes() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| super::clients::compile_java("HttpsGet.java", JAVA_HTTPS))
        .path()
}

fn last_line(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// What the client named `client` (as in `[http_answer]`) reports for `GET /` on
/// https://`host`:`port`/ (reached at 127.0.0.1), trusting `root`.
pub fn https_get(client: &str, host: &str, port: u16, root: &Path) -> String {
    let url = format!("https://{host}:{port}/");
    let resolve = format!("{host}:{port}:127.0.0.1");
    let mut c = Command::new("timeout");
    c.arg("30").stdin(Stdio::null());
    match client {
        "curl" | "curl --fail" => {
            c.args(["curl", "-sS", "--cacert"])
                .arg(root)
                .args(["--resolve", &resolve, &url]);
            if client == "curl --fail" {
                c.arg("--fail");
            }
            let out = c.output().expect("run curl");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = out.status.code().unwrap_or(-1);
            if code == 0 && stderr.trim().is_empty() && stdout.contains("<title>400 ") {
                "no error, exit code 0: the HTTP 400 page is its output".into()
            } else {
                stderr.lines().next().unwrap_or("").trim().to_string()
            }
        }
        "Python urllib.request.urlopen" => {
            // The host must resolve to 127.0.0.1 by itself: the tests use localhost.
            c.args(["python3", "-c", PY_URLLIB, &url]).arg(root);
            last_line(&c.output().expect("run python3"))
        }
        "Python http.client" => {
            c.args(["python3", "-c", PY_HTTP_CLIENT, host, &port.to_string()])
                .arg(root);
            last_line(&c.output().expect("run python3"))
        }
        "Node.js https.get" => {
            c.args(["node", "-e", NODE_HTTPS, &url]).arg(root);
            last_line(&c.output().expect("run node"))
        }
        "Java HttpsURLConnection.getInputStream" | "Java HttpClient" => {
            let ts = java_truststore(root);
            c.arg("java")
                .arg(format!("-Djavax.net.ssl.trustStore={}", ts.display()))
                .arg("-Djavax.net.ssl.trustStorePassword=changeit")
                .arg("-cp")
                .arg(java_classes())
                .args(["HttpsGet", &url]);
            c.arg(if client == "Java HttpClient" {
                "httpclient"
            } else {
                "urlconnection"
            });
            last_line(&c.output().expect("run java"))
        }
        "openssl s_client" => {
            let mut child = c
                .args(["openssl", "s_client", "-connect"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-servername", host, "-ign_eof", "-CAfile"])
                .arg(root)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run s_client");
            if let Some(mut i) = child.stdin.take() {
                use std::io::Write;
                let _ = write!(
                    i,
                    "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                );
            }
            let out = child.wait_with_output().expect("s_client output");
            let text = String::from_utf8_lossy(&out.stdout);
            let verify = text
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("Verify return code:"))
                .unwrap_or("no verify line");
            let status = text
                .lines()
                .find(|l| l.starts_with("HTTP/1."))
                .unwrap_or("no HTTP answer")
                .trim();
            format!("{verify}, then {status}")
        }
        other => panic!("no HTTPS client runner for {other}"),
    }
}
