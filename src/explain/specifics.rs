//! Details that can be read straight out of an error message.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde::Serialize;

/// Facts found in the message text. Every field is optional: most messages carry only a few.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Specifics {
    /// The X.509 verify reason, e.g. `unable to get local issuer certificate`.
    pub verify_reason: Option<String>,
    /// OpenSSL packed error code, upper-case hex, e.g. `0A000410`.
    pub openssl_error_code: Option<String>,
    /// Which OpenSSL generation printed it: `3.x`, `1.1.x`, `1.0.x` (from the code/wording).
    pub openssl_generation: Option<String>,
    /// OpenSSL function name, when printed (`ssl3_read_bytes`, `SSL23_GET_SERVER_HELLO`).
    pub openssl_function: Option<String>,
    /// Python's `(_ssl.c:NNNN)` location, or OpenSSL's `file.c:line`.
    pub source_location: Option<String>,
    /// The TLS alert number OpenSSL reports (`SSL alert number 40`).
    pub alert_number: Option<u8>,
    /// curl exit code, e.g. 35 or 60.
    pub curl_exit_code: Option<u8>,
    /// Node.js error code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_SSL_WRONG_VERSION_NUMBER`.
    pub node_code: Option<String>,
    /// Host names or IP addresses mentioned, most relevant first.
    pub hosts: Vec<String>,
    /// A port number mentioned with the host.
    pub port: Option<u16>,
}

struct Res {
    verify_reason: Vec<Regex>,
    openssl_code: Regex,
    openssl_func: Regex,
    py_loc: Regex,
    c_loc: Regex,
    alert: Regex,
    curl_code: Regex,
    node_code: Regex,
    host_port: Vec<Regex>,
    hosts: Vec<Regex>,
}

fn re(p: &str) -> Regex {
    // Patterns below are fixed literals; a typo is caught by every unit test of this module.
    match RegexBuilder::new(p).case_insensitive(true).build() {
        Ok(r) => r,
        Err(e) => panic!("built-in pattern {p:?}: {e}"),
    }
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        verify_reason: vec![
            re(r"certificate verify failed: ([^()\]\n]+?)\s*(?:\(|\]|$)"),
            re(r"SSL certificate problem: ([^\n]+?)\s*$"),
            re(r"verify error:num=\d+:([^|\n]+?)\s*(?:\|\||$)"),
            re(r"Verification error: ([^|\n]+?)\s*(?:\|\||$)"),
            re(r"invalid peer certificate: ([A-Za-z]+)"),
        ],
        openssl_code: re(r"error:([0-9A-F]{8}):"),
        openssl_func: re(r"(?:SSL routines|lib\(\d+\)):([A-Za-z0-9_]+):"),
        py_loc: re(r"\((_ssl\.c:\d+)\)|\b(_ssl\.c:\d+)"),
        c_loc: re(r"([A-Za-z0-9_/.\\-]+\.c:\d+)"),
        alert: re(r"SSL alert number (\d+)"),
        curl_code: re(r"curl: \((\d+)\)"),
        node_code: re(
            r"code: '([A-Z_0-9]+)'|\b(ERR_(?:SSL|TLS)_[A-Z_0-9]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)\b",
        ),
        host_port: vec![
            // Postfix/Exim: `mx.example.net[192.0.2.7]:25`
            re(r"\b([A-Za-z0-9.-]+\.[A-Za-z0-9-]+)\[[0-9a-f.:]+\]:(\d{1,5})\b"),
            // pymongo: `host:27017: [SSL: ...` ; node: `connect ECONNREFUSED 127.0.0.1:443`
            re(r"(?:^|[\s(])([A-Za-z0-9.-]+\.[A-Za-z0-9-]+|localhost|\[[0-9a-f:]+\]):(\d{1,5}):\s"),
            re(r"E[A-Z]+ ([0-9.]+|\[[0-9a-f:]+\]):(\d{1,5})"),
            re(r"Failed to connect to (\S+) port (\d{1,5})"),
            re(r"https?://([A-Za-z0-9.-]+|\[[0-9a-f:]+\]):(\d{1,5})"),
        ],
        hosts: vec![
            re(r"not valid for '([^']+)'"),
            re(r"target host name '([^']+)'"),
            re(r"Host: ([A-Za-z0-9.-]+?)\.? is not"),
            re(r"IP: ([0-9a-f.:]+) is not"),
            re(r"No subject alternative DNS name matching (\S+?) found"),
            re(r"No subject alternative names matching IP address (\S+?) found"),
            re(r"No name matching (\S+?) found"),
            re(r"but wanted to match ([A-Za-z0-9.-]+)"),
            re(r"not ([A-Za-z0-9.-]+)$"),
            re(r"Could not resolve host: ([A-Za-z0-9.-]+)"),
            re(r"ENOTFOUND ([A-Za-z0-9.-]+)"),
            re(r"UnknownHostException: ([A-Za-z0-9.-]+)"),
            re(r"lookup ([A-Za-z0-9.-]+)"),
            re(r#"https?://([A-Za-z0-9.-]+)"#),
        ],
    })
}

fn first_group(re: &Regex, text: &str) -> Option<String> {
    let c = re.captures(text)?;
    c.iter()
        .skip(1)
        .flatten()
        .next()
        .map(|m| m.as_str().trim().to_string())
}

/// Read whatever specifics `text` carries.
pub fn extract(text: &str) -> Specifics {
    let r = res();
    let mut s = Specifics {
        verify_reason: r
            .verify_reason
            .iter()
            .find_map(|re| first_group(re, text))
            .filter(|v| !v.is_empty()),
        ..Specifics::default()
    };

    if let Some(code) = first_group(&r.openssl_code, text) {
        let code = code.to_ascii_uppercase();
        // OpenSSL 3 packs the library number into the top byte with reason flags below
        // (SSL = 0x0A); 1.x packs library 20 (0x14) in the top byte and a function code.
        s.openssl_generation = Some(
            if code.starts_with("0A") {
                "3.x"
            } else if text.contains("SSL23_")
                || text.contains("SSL3_GET_")
                || text.contains("s23_clnt")
                || text.contains("s3_pkt")
            {
                "1.0.x"
            } else {
                "1.1.x"
            }
            .to_string(),
        );
        s.openssl_error_code = Some(code);
    } else if text.contains("SSL23_GET_SERVER_HELLO") {
        s.openssl_generation = Some("1.0.x".to_string());
    }
    s.openssl_function = first_group(&r.openssl_func, text);
    s.source_location = first_group(&r.py_loc, text).or_else(|| first_group(&r.c_loc, text));
    s.alert_number = first_group(&r.alert, text).and_then(|a| a.parse().ok());
    s.curl_exit_code = first_group(&r.curl_code, text).and_then(|a| a.parse().ok());
    s.node_code = first_group(&r.node_code, text);

    for re in &r.host_port {
        if let Some(c) = re.captures(text) {
            if let (Some(h), Some(p)) = (c.get(1), c.get(2)) {
                push_host(&mut s.hosts, h.as_str());
                s.port = p.as_str().parse().ok().filter(|p: &u16| *p != 0);
                break;
            }
        }
    }
    for re in &r.hosts {
        if let Some(h) = first_group(re, text) {
            push_host(&mut s.hosts, &h);
        }
    }
    s
}

fn push_host(hosts: &mut Vec<String>, h: &str) {
    let h = h.trim_matches(|c: char| c == '.' || c == '\'' || c == '"');
    let plausible = !h.is_empty()
        && h.len() <= 253
        && (h.contains('.') || h.contains(':') || h.eq_ignore_ascii_case("localhost"))
        && !h.ends_with(".c")
        && !h.ends_with(".py");
    if plausible && !hosts.iter().any(|x| x.eq_ignore_ascii_case(h)) {
        hosts.push(h.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_verify_reason_and_location() {
        let s = extract(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
        );
        assert_eq!(
            s.verify_reason.as_deref(),
            Some("unable to get local issuer certificate")
        );
        assert_eq!(s.source_location.as_deref(), Some("_ssl.c:1006"));
        assert_eq!(s.openssl_error_code, None);
    }

    #[test]
    fn openssl3_code_function_alert() {
        let s = extract(
            "40571684037F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1601:SSL alert number 40",
        );
        assert_eq!(s.openssl_error_code.as_deref(), Some("0A000410"));
        assert_eq!(s.openssl_generation.as_deref(), Some("3.x"));
        assert_eq!(s.openssl_function.as_deref(), Some("ssl3_read_bytes"));
        assert_eq!(s.alert_number, Some(40));
        assert_eq!(
            s.source_location.as_deref(),
            Some("../ssl/record/rec_layer_s3.c:1601")
        );
    }

    #[test]
    fn openssl_generations() {
        let s = extract(
            "error:14077410:SSL routines:SSL23_GET_SERVER_HELLO:sslv3 alert handshake failure",
        );
        assert_eq!(s.openssl_generation.as_deref(), Some("1.0.x"));
        let s = extract("error:1408F10B:SSL routines:ssl3_get_record:wrong version number");
        assert_eq!(s.openssl_generation.as_deref(), Some("1.1.x"));
    }

    #[test]
    fn hosts_ports_and_codes() {
        let s = extract(
            "curl: (60) SSL: no alternative certificate subject name matches target host name 'api.example.com'",
        );
        assert_eq!(s.curl_exit_code, Some(60));
        assert_eq!(s.hosts, vec!["api.example.com".to_string()]);

        let s = extract("Error: connect ECONNREFUSED 127.0.0.1:8443 { code: 'ECONNREFUSED' }");
        assert_eq!(s.node_code.as_deref(), Some("ECONNREFUSED"));
        assert_eq!(s.hosts, vec!["127.0.0.1".to_string()]);
        assert_eq!(s.port, Some(8443));

        let s = extract(
            "pymongo.errors.ServerSelectionTimeoutError: localhost:27017: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
        );
        assert_eq!(s.hosts, vec!["localhost".to_string()]);
        assert_eq!(s.port, Some(27017));

        let s = extract(
            "javax.net.ssl.SSLHandshakeException: No subject alternative DNS name matching db.internal found.",
        );
        assert_eq!(s.hosts, vec!["db.internal".to_string()]);

        // A mail server's log names its peer as `name[address]:port`.
        let s = extract(
            "postfix/smtp[138]: Untrusted TLS connection established to mx.example.net[192.0.2.7]:25: TLSv1.3",
        );
        assert_eq!(s.hosts, vec!["mx.example.net".to_string()]);
        assert_eq!(s.port, Some(25));

        let s = extract("hello");
        assert_eq!(s, Specifics::default());
    }
}
