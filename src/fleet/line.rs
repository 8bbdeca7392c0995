//! One line of a fleet run's JSON Lines output: the shape every consumer of `scan -i` /
//! `check -i` output reads (the results store imports it), so it is defined here once and
//! described in docs/json.md ("Fleet runs"). Fields are only ever added; an incompatible
//! change raises [`LINE_SCHEMA_VERSION`].
//!
//! A line is the command's `--json` document with the envelope fields beside its own keys
//! (`D` is flattened), or, for a target that produced no document (it could not be parsed
//! or resolved), the envelope alone with its `error`. Writers use `FleetLine<ScanDocument>`
//! or `FleetLine<CheckDocument>`; readers that do not need the typed document use
//! [`FleetLine::parse`], which gives the document as a JSON map.

use serde::{Deserialize, Serialize};

/// Version of the envelope (the `fleet_line` key of every line). The document inside keeps
/// its own `schema_version`.
pub const LINE_SCHEMA_VERSION: u32 = 1;

/// Which command made the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetCommand {
    Scan,
    Check,
}

impl FleetCommand {
    /// The command's name, as in the JSON line and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            FleetCommand::Scan => "scan",
            FleetCommand::Check => "check",
        }
    }
}

/// The outcome of one target, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// At least one address of the target was examined.
    Ok,
    /// Nothing could be examined: see `error`.
    Error,
}

/// Why a target produced no result, by kind. The kinds are stable names; `message` is the
/// one-line text `tlsdoctor` prints on stderr for the same failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The line is not a target tlsdoctor understands (bad syntax, port, scheme, option).
    Parse,
    /// The name did not resolve (unknown host, DNS failure or timeout, SRV/TXT problems).
    Resolve,
    /// No TCP connection could be made (refused, unreachable, connect timeout).
    Connect,
    /// The port answered, but not with TLS (the document's `errors` names what it speaks).
    NotTls,
    /// The port speaks TLS but accepted no protocol version.
    NoTls,
    /// The plaintext upgrade before TLS (STARTTLS …) failed.
    Upgrade,
    /// The run's deadline came before anything was confirmed.
    Deadline,
    /// Anything else that stopped the request (an unreadable CA file, …).
    Other,
}

/// A target's error: its kind and the one-line message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetError {
    pub kind: ErrorKind,
    pub message: String,
}

/// A wait-and-retry after the server, which had accepted connections before, refused or
/// reset one (the per-target backoff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    /// Connections retried after a refusal or reset.
    pub retries: u32,
    /// Total time waited before those retries, in milliseconds.
    pub waited_ms: u64,
    /// Connections that still failed after the last permitted retry.
    pub gave_up: u32,
}

/// One target's line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetLine<D> {
    /// Envelope version ([`LINE_SCHEMA_VERSION`]).
    pub fleet_line: u32,
    pub command: FleetCommand,
    /// 1-based line number in the input (for matching a line to its input; it changes when
    /// the input is edited, `key` does not).
    pub line: u64,
    /// The target exactly as written on the input line (surrounding blanks removed).
    pub target: String,
    /// The normalised target: what `--resume` matches and `--shard` hashes.
    pub key: String,
    pub status: LineStatus,
    /// Present when `status` is `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TargetError>,
    /// Present when the server refused connections part-way and some were retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Seconds since the Unix epoch when the target finished.
    pub finished_at: u64,
    /// Wall time spent on this target, in milliseconds.
    pub elapsed_ms: u64,
    /// The command's `--json` document, its keys at the top level of the line; absent when
    /// the target could not be parsed or resolved.
    #[serde(flatten)]
    pub document: Option<D>,
}

/// A line as a reader sees it: the document as a JSON map (empty when the line has none).
pub type ReadLine = FleetLine<serde_json::Map<String, serde_json::Value>>;

impl ReadLine {
    /// Parse one line of a fleet run's output.
    pub fn parse(text: &str) -> Result<ReadLine, serde_json::Error> {
        let mut line: ReadLine = serde_json::from_str(text)?;
        // Flattening gives the document whatever keys the envelope did not take; a line
        // without a document leaves none.
        if line.document.as_ref().is_some_and(|d| d.is_empty()) {
            line.document = None;
        }
        Ok(line)
    }
}

impl<D: Serialize> FleetLine<D> {
    /// The line as written: one JSON object, no newline inside.
    pub fn to_json_line(&self) -> String {
        // Serialising plain data to a string cannot fail (no non-string map keys).
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"fleet_line":{LINE_SCHEMA_VERSION},"status":"error","error":{{"kind":"other","message":"cannot serialise: {e}"}}}}"#)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(document: Option<serde_json::Value>, error: Option<TargetError>) -> String {
        FleetLine {
            fleet_line: LINE_SCHEMA_VERSION,
            command: FleetCommand::Scan,
            line: 7,
            target: " Example.test:443 ".trim().into(),
            key: "example.test:443".into(),
            status: if error.is_some() {
                LineStatus::Error
            } else {
                LineStatus::Ok
            },
            error,
            backoff: None,
            finished_at: 1,
            elapsed_ms: 2,
            document,
        }
        .to_json_line()
    }

    #[test]
    fn a_document_line_has_the_documents_keys_beside_the_envelope() {
        let text = line(Some(json!({"schema_version": 2, "servers": []})), None);
        assert!(!text.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["fleet_line"], LINE_SCHEMA_VERSION);
        assert_eq!(v["status"], "ok");
        assert!(v.get("error").is_none());
        let back = ReadLine::parse(&text).unwrap();
        assert_eq!(back.line, 7);
        assert_eq!(back.document.unwrap()["schema_version"], 2);
    }

    #[test]
    fn an_error_line_has_a_typed_error_and_no_document() {
        let err = TargetError {
            kind: ErrorKind::Resolve,
            message: "unknown host 'nope.test'".into(),
        };
        let text = line(None, Some(err.clone()));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["kind"], "resolve");
        assert!(v.get("schema_version").is_none());
        let back = ReadLine::parse(&text).unwrap();
        assert_eq!(back.error, Some(err));
        assert_eq!(back.status, LineStatus::Error);
        assert!(back.document.is_none());
    }
}
