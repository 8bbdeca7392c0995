//! `tlsdoctor fleet merge`: the outputs of several workers (shards, resumed runs) as one
//! JSON Lines stream, each target once.

use super::line::ReadLine;
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;

/// What a merge did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MergeCount {
    /// Lines written.
    pub written: u64,
    /// Lines dropped because a line with the same key came earlier.
    pub duplicates: u64,
}

/// Copy every line of `inputs`, in order, to `out`, keeping the first line of each key and
/// the line's text as it was. A line that is not a fleet line is an error naming the file
/// and line (so a truncated last line from a killed worker is found, not silently kept).
pub fn merge(inputs: &[&Path], out: &mut dyn Write) -> Result<MergeCount, String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut count = MergeCount::default();
    for path in inputs {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (n, text) in std::io::BufReader::new(file).lines().enumerate() {
            let text = text.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if text.trim().is_empty() {
                continue;
            }
            let line = ReadLine::parse(&text)
                .map_err(|e| format!("{}:{}: not a fleet line: {e}", path.display(), n + 1))?;
            if !seen.insert(line.key) {
                count.duplicates += 1;
                continue;
            }
            writeln!(out, "{text}").map_err(|e| format!("cannot write: {e}"))?;
            count.written += 1;
        }
    }
    out.flush().map_err(|e| format!("cannot write: {e}"))?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, n: u64) -> String {
        format!(
            r#"{{"fleet_line":1,"command":"scan","line":{n},"target":"{key}","key":"{key}","status":"ok","finished_at":0,"elapsed_ms":0,"schema_version":2}}"#
        )
    }

    #[test]
    fn each_key_once_first_wins_and_a_broken_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        std::fs::write(&a, format!("{}\n{}\n", line("x:1", 1), line("y:1", 2))).unwrap();
        std::fs::write(&b, format!("{}\n\n{}\n", line("x:1", 9), line("z:1", 3))).unwrap();
        let mut out = Vec::new();
        let count = merge(&[&a, &b], &mut out).unwrap();
        assert_eq!(
            count,
            MergeCount {
                written: 3,
                duplicates: 1
            }
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains(r#""line":1,"#) && !text.contains(r#""line":9,"#));

        std::fs::write(&b, format!("{}\n{{\"fleet_line\":1,\"com", line("w:1", 1))).unwrap();
        let err = merge(&[&a, &b], &mut Vec::new()).unwrap_err();
        assert!(err.contains("b.jsonl:2"), "{err}");
    }
}
