//! `tlsdoctor fleet merge`: the outputs of several workers (shards, resumed runs) as one
//! JSON Lines stream, each target once.

use super::line::{LineStatus, ReadLine};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

/// What a merge did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MergeCount {
    /// Lines written.
    pub written: u64,
    /// Lines dropped because another line of the same key was kept.
    pub duplicates: u64,
}

/// Where a line is: input file and line number.
type At = (usize, usize);

/// Copy every input line to `out`, in input order, each key once and the line's text as it
/// was. Of the lines of one key, the first with a result is kept; a key that only has errors
/// keeps its last one (a `--resume --retry-errors` run appends the retry after the error).
/// A line that is not a fleet line is an error naming the file and line (so a truncated
/// last line from a killed worker is found, not silently kept).
///
/// Two passes over the inputs: the first picks one line per key (memory holds keys, not
/// documents), the second copies the picked lines.
pub fn merge(inputs: &[&Path], out: &mut dyn Write) -> Result<MergeCount, String> {
    // key -> (the line kept so far, whether it has a result)
    let mut kept: HashMap<String, (At, bool)> = HashMap::new();
    let mut lines = 0u64;
    for_each_line(inputs, |at, text| {
        let line = ReadLine::parse(text)
            .map_err(|e| format!("{}:{}: not a fleet line: {e}", inputs[at.0].display(), at.1))?;
        lines += 1;
        let ok = line.status == LineStatus::Ok;
        match kept.get_mut(&line.key) {
            None => {
                kept.insert(line.key, (at, ok));
            }
            Some(k) if !k.1 => *k = (at, ok),
            Some(_) => {}
        }
        Ok(())
    })?;
    let mut picked: Vec<At> = kept.into_values().map(|(at, _)| at).collect();
    picked.sort_unstable();
    let mut next = picked.iter().peekable();
    let mut count = MergeCount::default();
    for_each_line(inputs, |at, text| {
        if next.peek() == Some(&&at) {
            next.next();
            writeln!(out, "{text}").map_err(|e| format!("cannot write: {e}"))?;
            count.written += 1;
        }
        Ok(())
    })?;
    count.duplicates = lines - count.written;
    out.flush().map_err(|e| format!("cannot write: {e}"))?;
    Ok(count)
}

/// Call `each` with every non-blank line of the inputs and where it is (1-based line).
fn for_each_line(
    inputs: &[&Path],
    mut each: impl FnMut(At, &str) -> Result<(), String>,
) -> Result<(), String> {
    for (i, path) in inputs.iter().enumerate() {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (n, text) in std::io::BufReader::new(file).lines().enumerate() {
            let text = text.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if !text.trim().is_empty() {
                each((i, n + 1), &text)?;
            }
        }
    }
    Ok(())
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

    fn error(key: &str, n: u64) -> String {
        format!(
            r#"{{"fleet_line":1,"command":"scan","line":{n},"target":"{key}","key":"{key}","status":"error","error":{{"kind":"connect","message":"refused"}},"finished_at":0,"elapsed_ms":0}}"#
        )
    }

    #[test]
    fn a_retried_target_keeps_its_result_and_an_only_failing_one_its_last_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let lines = [
            error("x:1", 1),
            line("y:1", 2),
            error("z:1", 3),
            line("x:1", 4),
            error("z:1", 5),
            line("x:1", 6),
        ];
        std::fs::write(&a, lines.join("\n") + "\n").unwrap();
        let mut out = Vec::new();
        let count = merge(&[&a], &mut out).unwrap();
        assert_eq!(
            count,
            MergeCount {
                written: 3,
                duplicates: 3
            }
        );
        let text = String::from_utf8(out).unwrap();
        // In input order: y (2), x's first result (4), z's last error (5).
        let kept: Vec<&str> = text.lines().collect();
        assert_eq!(
            kept,
            [lines[1].as_str(), lines[3].as_str(), lines[4].as_str()]
        );
    }
}
