//! `--resume OUT.jsonl`: the keys already done, read from the file a run appends to.

use super::line::{ErrorKind, LineStatus, ReadLine};
use std::collections::HashSet;
use std::io::{BufRead, Seek};
use std::path::Path;

/// Which lines of the file count as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Every line: each target is run once (`--resume`).
    Every,
    /// Lines with a result, and errors that another run would repeat (a target line that
    /// does not parse): a target that failed to resolve, connect or answer is run again
    /// (`--resume --retry-errors`).
    Settled,
}

impl Done {
    fn counts(self, line: &ReadLine) -> bool {
        match self {
            Done::Every => true,
            Done::Settled => {
                line.status == LineStatus::Ok
                    || line
                        .error
                        .as_ref()
                        .is_some_and(|e| e.kind == ErrorKind::Parse)
            }
        }
    }
}

/// The keys of the lines in `path` that `which` counts as done (none when the file does not
/// exist yet). A last line cut short (a run killed while writing it) is removed from the
/// file, so appended lines start on a line of their own and that target is run again; any
/// other line that is not a fleet line is an error naming it.
pub fn done_keys(path: &Path, which: Done) -> Result<HashSet<String>, String> {
    let shown = path.display();
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    };
    let mut reader = std::io::BufReader::new(file);
    let mut done = HashSet::new();
    let mut kept_len: u64 = 0;
    let mut number = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = buf.last() == Some(&b'\n');
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            kept_len += n as u64;
            continue;
        }
        match ReadLine::parse(text.trim_end()) {
            Ok(line) if complete => {
                if which.counts(&line) {
                    done.insert(line.key);
                }
                kept_len += n as u64;
            }
            // The last line, unfinished: cut below.
            _ if !complete => break,
            Ok(_) => unreachable!("complete lines are handled above"),
            Err(e) => return Err(format!("{shown}:{number}: not a fleet line: {e}")),
        }
    }
    let mut file = reader.into_inner();
    let len = file
        .seek(std::io::SeekFrom::End(0))
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if len > kept_len {
        file.set_len(kept_len)
            .map_err(|e| format!("cannot cut the unfinished last line of {shown}: {e}"))?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str) -> String {
        format!(
            r#"{{"fleet_line":1,"command":"scan","line":1,"target":"{key}","key":"{key}","status":"ok","finished_at":0,"elapsed_ms":0}}"#
        )
    }

    #[test]
    fn done_keys_and_an_unfinished_last_line_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        assert!(done_keys(&p, Done::Every).unwrap().is_empty());
        let whole = format!("{}\n{}\n", line("a:1"), line("b:1"));
        std::fs::write(&p, format!("{whole}{}", &line("c:1")[..30])).unwrap();
        let done = done_keys(&p, Done::Every).unwrap();
        assert_eq!(done.len(), 2);
        assert!(done.contains("a:1") && done.contains("b:1"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), whole);
        std::fs::write(&p, format!("{whole}garbage\n{}\n", line("d:1"))).unwrap();
        assert!(
            done_keys(&p, Done::Every)
                .unwrap_err()
                .contains("out.jsonl:3")
        );
    }

    fn error_line(key: &str, kind: &str) -> String {
        format!(
            r#"{{"fleet_line":1,"command":"scan","line":1,"target":"{key}","key":"{key}","status":"error","error":{{"kind":"{kind}","message":"m"}},"finished_at":0,"elapsed_ms":0}}"#
        )
    }

    #[test]
    fn retrying_errors_leaves_failed_targets_undone_unless_they_cannot_parse() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        let text = [
            line("ok:1"),
            error_line("refused:1", "connect"),
            error_line("bad", "parse"),
            error_line("later-ok:1", "deadline"),
            line("later-ok:1"),
        ]
        .join("\n")
            + "\n";
        std::fs::write(&p, &text).unwrap();
        let every = done_keys(&p, Done::Every).unwrap();
        assert_eq!(every.len(), 4);
        let settled = done_keys(&p, Done::Settled).unwrap();
        let mut keys: Vec<_> = settled.into_iter().collect();
        keys.sort();
        assert_eq!(keys, ["bad", "later-ok:1", "ok:1"]);
        // Nothing is cut from a file whose lines are all whole.
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
    }
}
