//! What the store keeps of one target: read from the JSON form of what the command printed
//! for it (a fleet run's line, or a single `scan`/`check --json` document), so a result
//! recorded during the run and the same result imported later from JSON Lines are one
//! and the same rows. Nothing is judged here: the facts are the document's.

use serde_json::{Map, Value};

/// One target's result, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRecord {
    /// What the target is matched by across runs (a fleet line's `key`).
    pub key: String,
    /// The target as written.
    pub target: String,
    /// `scan` or `check`.
    pub command: String,
    pub addresses: Vec<String>,
    /// Why nothing could be examined (a fleet line's `error.kind`, when it has one).
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub partial: bool,
    /// Unix seconds when the target finished (the line's `finished_at`), if it says.
    pub finished: Option<i64>,
    /// The whole line or document, as compact JSON.
    pub document: String,
    pub endpoints: Vec<Endpoint>,
}

/// The facts of one examined address.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Endpoint {
    pub address: String,
    /// Accepted protocol versions (`tls1_2`, …).
    pub versions: Vec<String>,
    pub suites: Vec<SuiteRow>,
    /// The chain as the server sent it, leaf first.
    pub certificates: Vec<CertRow>,
    /// (finding id, severity), each once.
    pub findings: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SuiteRow {
    pub version: String,
    pub id: String,
    /// The IANA name (the id when the registry does not know it).
    pub name: String,
    pub strength: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CertRow {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub not_after_unix: Option<i64>,
    /// SHA-256, as the document writes it.
    pub fingerprint: String,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_string)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The normalised target of a document that carries no `key` of its own (a single-target
/// run), by the rule of fleet input lines, so a single run and a fleet run of one target
/// match in a diff.
pub fn key_of(target: &str) -> String {
    crate::fleet::input::key(target)
}

impl TargetRecord {
    /// Read a fleet line (the envelope beside the document's keys) or a bare `scan --json`
    /// / `check --json` document.
    pub fn from_value(value: Value) -> Result<TargetRecord, String> {
        let document = value.to_string();
        TargetRecord::read(value, document)
    }

    /// Read one line of JSON text, kept as it is for the record's `document`.
    pub fn from_json_text(text: &str) -> Result<TargetRecord, String> {
        let value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        TargetRecord::read(value, text.trim().to_string())
    }

    fn read(value: Value, document: String) -> Result<TargetRecord, String> {
        let Value::Object(map) = &value else {
            return Err("not a JSON object".into());
        };
        let is_line = map.contains_key("fleet_line");
        let target = if is_line {
            text(&value, "target").ok_or("a fleet line without its \"target\"")?
        } else {
            text(&value, "input").ok_or(
                "neither a fleet line (no \"fleet_line\") nor a scan or check document (no \"input\")",
            )?
        };
        let key = text(&value, "key").unwrap_or_else(|| key_of(&target));
        let command = command_of(map);
        let endpoints: Vec<Endpoint> = if map.contains_key("diagnoses") {
            list(&value, "diagnoses").iter().map(diagnosis).collect()
        } else {
            list(&value, "servers").iter().map(server).collect()
        };
        let (error_kind, error) = match value.get("error") {
            Some(e @ Value::Object(_)) => (
                text(e, "kind"),
                Some(text(e, "message").unwrap_or_else(|| e.to_string())),
            ),
            Some(Value::String(s)) => (None, Some(s.clone())),
            _ if endpoints.is_empty() => (None, Some(document_errors(&value))),
            _ => (None, None),
        };
        Ok(TargetRecord {
            key,
            target,
            command,
            addresses: endpoints.iter().map(|e| e.address.clone()).collect(),
            error_kind,
            error,
            partial: value.get("partial").and_then(Value::as_bool) == Some(true),
            finished: value.get("finished_at").and_then(Value::as_i64),
            document,
            endpoints,
        })
    }

    /// True when no address could be examined.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

fn command_of(map: &Map<String, Value>) -> String {
    match map.get("command").and_then(Value::as_str) {
        Some(c) => c.to_string(),
        None if map.contains_key("diagnoses") => "check".into(),
        None => "scan".into(),
    }
}

/// The document's own `errors`, one line.
fn document_errors(doc: &Value) -> String {
    let errors: Vec<String> = list(doc, "errors")
        .iter()
        .filter_map(|e| text(e, "error"))
        .collect();
    if errors.is_empty() {
        "no address was examined".into()
    } else {
        errors.join("; ")
    }
}

/// A `scan` document's server: its measurement, the judgement of its chain and its audit.
fn server(s: &Value) -> Endpoint {
    let mut e = measured(s, s);
    let chain = s.get("certificate_chain").unwrap_or(&Value::Null);
    e.certificates = certificates(chain);
    findings_into(&mut e.findings, list(chain, "findings"));
    // The audit's (the scan's own findings and the vulnerabilities it shows), where the
    // document has one.
    findings_into(
        &mut e.findings,
        list(s.get("audit").unwrap_or(&Value::Null), "findings"),
    );
    findings_into(&mut e.findings, list(s, "findings"));
    e
}

/// A `check` document's diagnosis: its scan (null for a port that does not speak TLS), its
/// chain and its findings (which include the chain's).
fn diagnosis(d: &Value) -> Endpoint {
    let scan = d.get("scan").unwrap_or(&Value::Null);
    let mut e = measured(d, scan);
    e.certificates = certificates(d.get("certificate_chain").unwrap_or(&Value::Null));
    findings_into(&mut e.findings, list(d, "findings"));
    e
}

/// Address, versions and suites of a ServerScan.
fn measured(holder: &Value, scan: &Value) -> Endpoint {
    let versions = list(scan, "protocols")
        .iter()
        .filter(|p| p.get("accepted").and_then(Value::as_bool) == Some(true))
        .filter_map(|p| text(p, "version"))
        .collect();
    let suites = list(scan, "cipher_suites")
        .iter()
        .flat_map(|vs| {
            let version = text(vs, "version").unwrap_or_default();
            list(vs, "suites").iter().map(move |s| {
                let id = text(s, "id").unwrap_or_default();
                SuiteRow {
                    version: version.clone(),
                    name: text(s, "iana").unwrap_or_else(|| id.clone()),
                    id,
                    strength: s.get("strength").and_then(|st| text(st, "level")),
                }
            })
        })
        .collect();
    Endpoint {
        address: text(holder, "address").unwrap_or_default(),
        versions,
        suites,
        certificates: Vec::new(),
        findings: Vec::new(),
    }
}

fn certificates(chain: &Value) -> Vec<CertRow> {
    list(chain, "certificates")
        .iter()
        .map(|c| CertRow {
            subject: text(c, "subject").unwrap_or_default(),
            issuer: text(c, "issuer").unwrap_or_default(),
            sans: list(c, "sans")
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            not_before: text(c, "not_before"),
            not_after: text(c, "not_after"),
            not_after_unix: c.get("not_after_unix").and_then(Value::as_i64),
            fingerprint: text(c, "sha256_fingerprint").unwrap_or_default(),
        })
        .collect()
}

fn findings_into(out: &mut Vec<(String, String)>, findings: &[Value]) {
    for f in findings {
        let (Some(id), Some(severity)) = (text(f, "id"), text(f, "severity")) else {
            continue;
        };
        if !out.iter().any(|(i, s)| *i == id && *s == severity) {
            out.push((id, severity));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scan_doc() -> Value {
        json!({
            "schema_version": 2, "tool": "tlsdoctor 0.1.0", "input": "Host.Test:443",
            "notes": [], "errors": [],
            "servers": [{
                "target": "host.test:443", "address": "127.0.0.1:443",
                "protocols": [
                    {"version": "tls1_0", "accepted": false},
                    {"version": "tls1_2", "accepted": true},
                    {"version": "tls1_3", "accepted": true}
                ],
                "cipher_suites": [{"version": "tls1_2", "suites": [
                    {"id": "0xc02f", "iana": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                     "strength": {"level": "secure", "reasons": []}},
                    {"id": "0x0a0a", "iana": null, "strength": null}
                ]}],
                "certificate_chain": {
                    "certificates": [{"subject": "CN=host", "issuer": "CN=ca",
                        "sans": ["DNS:host.test"], "not_before": "2026-01-01T00:00:00Z",
                        "not_after": "2027-01-01T00:00:00Z", "not_after_unix": 1798761600,
                        "sha256_fingerprint": "AA:BB"}],
                    "findings": [{"id": "some-error", "severity": "error"},
                                 {"id": "some-error", "severity": "error"}]
                }
            }]
        })
    }

    #[test]
    fn a_bare_scan_document_gives_its_facts_and_a_normalised_key() {
        let r = TargetRecord::from_value(scan_doc()).unwrap();
        assert_eq!(r.target, "Host.Test:443");
        assert_eq!(r.key, "host.test:443");
        assert_eq!(r.command, "scan");
        assert_eq!(r.error, None);
        assert_eq!(r.addresses, ["127.0.0.1:443"]);
        let e = &r.endpoints[0];
        assert_eq!(e.versions, ["tls1_2", "tls1_3"]);
        assert_eq!(e.suites.len(), 2);
        assert_eq!(e.suites[1].name, "0x0a0a");
        assert_eq!(e.suites[0].strength.as_deref(), Some("secure"));
        assert_eq!(e.certificates[0].not_after_unix, Some(1798761600));
        assert_eq!(
            e.findings,
            [("some-error".to_string(), "error".to_string())]
        );
    }

    #[test]
    fn a_scan_servers_audit_findings_count_too() {
        let mut doc = scan_doc();
        doc["servers"][0]["audit"] = json!({"findings": [
            {"id": "some-error", "severity": "error"}, {"id": "weak-thing", "severity": "warning"}]});
        let r = TargetRecord::from_value(doc).unwrap();
        let ids: Vec<&str> = r.endpoints[0]
            .findings
            .iter()
            .map(|(i, _)| i.as_str())
            .collect();
        assert_eq!(ids, ["some-error", "weak-thing"]);
    }

    #[test]
    fn a_fleet_line_keeps_its_key_error_and_time() {
        let line = json!({"fleet_line": 1, "command": "scan", "line": 3, "target": "Nope.Test",
            "key": "nope.test", "status": "error", "finished_at": 17,
            "error": {"kind": "resolve", "message": "unknown host 'Nope.Test'"}});
        let r = TargetRecord::from_value(line).unwrap();
        assert_eq!(r.key, "nope.test");
        assert_eq!(r.error_kind.as_deref(), Some("resolve"));
        assert_eq!(r.error.as_deref(), Some("unknown host 'Nope.Test'"));
        assert_eq!(r.finished, Some(17));
        assert!(r.failed() && r.endpoints.is_empty());
    }

    #[test]
    fn a_document_with_no_server_failed_with_its_errors() {
        let doc = json!({"input": "127.0.0.1:9", "servers": [], "errors": [
            {"target": "127.0.0.1:9", "address": "127.0.0.1:9", "error": "cannot connect"}]});
        let r = TargetRecord::from_value(doc).unwrap();
        assert_eq!(r.error.as_deref(), Some("cannot connect"));
    }

    #[test]
    fn a_check_document_reads_the_scan_inside_each_diagnosis() {
        let doc = json!({"input": "h:1", "diagnoses": [{"address": "127.0.0.1:1",
            "scan": {"protocols": [{"version": "tls1_3", "accepted": true}]},
            "certificate_chain": null,
            "findings": [{"id": "another-error", "severity": "error"}]}]});
        let r = TargetRecord::from_value(doc).unwrap();
        assert_eq!(r.command, "check");
        assert_eq!(r.endpoints[0].versions, ["tls1_3"]);
        assert_eq!(r.endpoints[0].findings[0].0, "another-error");
    }

    #[test]
    fn what_is_neither_a_line_nor_a_document_is_refused() {
        assert!(TargetRecord::from_value(json!([1])).is_err());
        assert!(TargetRecord::from_value(json!({"servers": []})).is_err());
        assert!(TargetRecord::from_value(json!({"fleet_line": 1})).is_err());
    }
}
