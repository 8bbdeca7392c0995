//! Rendering of `tlsdoctor watch`: one block per connection as it ends, then the summary;
//! JSON Lines with `--json` (one object per connection, then the summary object).

use super::style::Style;
use crate::escape::{escape, finish};
use crate::watch::{Outcome, WatchSummary, WatchedConnection};
use std::fmt::Write;

/// Everything here came from the two peers (names, certificate subjects, ALPN): escaped.
pub fn render_connection(c: &WatchedConnection, st: Style) -> String {
    let mut o = String::new();
    let outcome = match c.outcome {
        Outcome::Completed => st.green(c.outcome.as_str()),
        Outcome::Failed => st.red(c.outcome.as_str()),
        _ => st.yellow(c.outcome.as_str()),
    };
    let _ = write!(
        o,
        "#{} {} -> {}  {}",
        c.number,
        escape(&c.application),
        escape(&c.upstream),
        outcome
    );
    if let Some(h) = &c.hello {
        if let Some(a) = &c.answer {
            let _ = write!(
                o,
                "  {} {}",
                escape(a.version.as_deref().unwrap_or("?")),
                escape(a.cipher_suite.as_deref().unwrap_or(""))
            );
        } else if let Some((_, hi)) = h.range() {
            let _ = write!(o, "  (hello up to {})", hi.name());
        }
    }
    let _ = writeln!(
        o,
        "  [{} ms, {} bytes from the application, {} from the server; {}]",
        c.duration_ms,
        c.bytes_from_application,
        c.bytes_from_server,
        escape(&c.ended_by)
    );
    if let Some(r) = &c.recognised_as {
        let _ = writeln!(o, "    the application's hello is the one of {}", escape(r));
    }
    if c.outcome == Outcome::Failed {
        let who = match c.gave_up {
            Some(side) => format!("the {} gave up", side_name(side)),
            None => "nobody gave up in the handshake".into(),
        };
        let alert = match &c.alert {
            Some(a) if a.encrypted => format!(
                ", with an encrypted alert from the {} (its description cannot be read)",
                side_name(a.from)
            ),
            Some(a) => format!(
                ", with the alert {} ({}) from the {}{}",
                a.name.as_deref().unwrap_or("?"),
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                side_name(a.from),
                a.openssl_reason
                    .as_deref()
                    .map(|r| format!(": an OpenSSL peer reports \"{r}\""))
                    .unwrap_or_default()
            ),
            None => ", without an alert".into(),
        };
        let _ = writeln!(o, "    {who}{alert}");
    }
    if let Some(f) = &c.finding {
        let _ = writeln!(
            o,
            "    {} {}: {}",
            st.severity(f.severity),
            f.id,
            escape(&f.title)
        );
        for e in &f.evidence {
            let _ = writeln!(o, "      - {}", escape(e));
        }
        for b in &f.breaks {
            let _ = writeln!(
                o,
                "      {} prints: {}",
                escape(&b.client),
                escape(&b.shown())
            );
        }
        for fix in &f.fix_server {
            let _ = writeln!(o, "      fix on the server: {}", escape(fix));
        }
        for fix in &f.fix_client {
            let _ = writeln!(o, "      fix in the application: {}", escape(fix));
        }
    }
    for u in &c.unseen {
        let _ = writeln!(o, "    not visible: {}", escape(u));
    }
    finish(o, st.color)
}

fn side_name(s: crate::watch::Side) -> &'static str {
    match s {
        crate::watch::Side::Client => "application",
        crate::watch::Side::Server => "server",
    }
}

pub fn render_summary(s: &WatchSummary, st: Style) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n{} {} connection(s) through {} to {}: {} completed, {} failed, {} interrupted, {} without a hello ({} upstream connections; stopped by {} after {:.1} s)",
        st.bold("watch summary:"),
        s.connections,
        escape(&s.listen),
        escape(&s.upstream),
        s.completed,
        s.failed,
        s.interrupted,
        s.no_hello,
        s.upstream_connections,
        escape(&s.stopped_by),
        s.duration_ms as f64 / 1000.0
    );
    for (id, n) in &s.causes {
        let _ = writeln!(o, "  {n} x {}", escape(id));
    }
    finish(o, st.color)
}

/// One JSON line (no pretty-printing: JSON Lines).
pub fn json_line<T: serde::Serialize>(kind: &str, value: &T) -> String {
    let mut v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut v {
        map.insert("type".into(), kind.into());
        map.insert(
            "schema_version".into(),
            crate::document::JSON_SCHEMA_VERSION.into(),
        );
    }
    serde_json::to_string(&v).unwrap_or_default()
}
