//! Recording a fleet run as it goes without touching the loop that writes it: a writer
//! that passes the JSON Lines through to where they were going and records each complete
//! line in the store after it has been written there (so the JSON Lines file has every
//! result even when the store cannot take one).

use super::extract::TargetRecord;
use super::{RunId, Store, StoreError};
use std::io::Write;

/// Bytes of an unfinished line kept at most; a longer one is not recorded (and is not a
/// line tlsdoctor writes).
const MAX_PENDING: usize = super::import::MAX_LINE_BYTES;

/// Writes through to `inner` and records every line in `run`; the run is finished when it
/// is dropped.
pub struct RecordingWriter<W: Write> {
    inner: W,
    store: Store,
    run: RunId,
    pending: Vec<u8>,
    /// The current line grew past [`MAX_PENDING`]: skip to its end.
    overlong: bool,
}

impl<W: Write> RecordingWriter<W> {
    pub fn new(inner: W, store: Store, run: RunId) -> Self {
        RecordingWriter {
            inner,
            store,
            run,
            pending: Vec::new(),
            overlong: false,
        }
    }

    fn record_line(&mut self) -> std::io::Result<()> {
        let line = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.overlong) || line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let record = std::str::from_utf8(&line)
            .map_err(|e| format!("not UTF-8: {e}"))
            .and_then(TargetRecord::from_json_text)
            .map_err(StoreError::Input);
        record
            .and_then(|r| self.store.record(self.run, &r))
            .map_err(|e| std::io::Error::other(format!("results store: {e}")))
    }
}

impl<W: Write> Write for RecordingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        for chunk in buf[..n].split_inclusive(|b| *b == b'\n') {
            let complete = chunk.last() == Some(&b'\n');
            if !self.overlong {
                self.pending.extend_from_slice(chunk);
                if self.pending.len() > MAX_PENDING {
                    self.pending.clear();
                    self.overlong = true;
                }
            }
            if complete {
                self.record_line()?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for RecordingWriter<W> {
    fn drop(&mut self) {
        // A last line without its newline is still a result.
        let _ = self.record_line();
        let _ = self.store.finish_run(self.run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::store::NewRun;

    #[test]
    fn every_line_written_is_recorded_whatever_the_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let mut store = Store::open(&path).unwrap();
        let run = store.begin_run(&NewRun::this_process("scan")).unwrap();
        let lines = [
            r#"{"fleet_line":1,"command":"scan","target":"A:1","key":"a:1","status":"error","error":{"kind":"connect","message":"refused"}}"#,
            r#"{"fleet_line":1,"command":"scan","target":"b:2","key":"b:2","status":"ok","input":"b:2","servers":[{"address":"127.0.0.1:2","protocols":[{"version":"tls1_3","accepted":true}]}]}"#,
        ];
        let text = format!("{}\n\n{}", lines[0], lines[1]);
        let mut out = Vec::new();
        {
            let mut w = RecordingWriter::new(&mut out, store, run);
            for chunk in text.as_bytes().chunks(7) {
                w.write_all(chunk).unwrap();
            }
        }
        assert_eq!(out, text.as_bytes());
        let store = Store::open(&path).unwrap();
        let r = store.run(run).unwrap();
        assert_eq!((r.targets, r.failed), (2, 1));
        assert!(r.finished.is_some());
        let sum = store.summary(run, 30, 0).unwrap();
        assert_eq!(sum.protocols[0].version, "tls1_3");
        assert_eq!(sum.failed[0].kind.as_deref(), Some("connect"));
    }

    #[test]
    fn a_line_the_store_cannot_read_is_a_write_error_after_it_was_written() {
        let mut store = Store::in_memory().unwrap();
        let run = store.begin_run(&NewRun::this_process("scan")).unwrap();
        let mut out = Vec::new();
        let mut w = RecordingWriter::new(&mut out, store, run);
        let err = w.write_all(b"{\"no\": 1}\n").unwrap_err();
        assert!(err.to_string().contains("results store"), "{err}");
        drop(w);
        assert_eq!(out, b"{\"no\": 1}\n");
    }
}
