//! The OpenSSL configuration file format as OpenSSL's NCONF reads it: sections (same-named
//! sections merge), `.include` of files and directories, `.pragma includedir`, `$var`
//! expansion, backslash continuations and comments. Bounded: file size, include depth and the
//! number of files are capped.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const MAX_CONF_BYTES: u64 = 1 << 20;
const MAX_INCLUDE_DEPTH: usize = 8;
const MAX_FILES: usize = 64;

/// One `name = value` line, with where it was read.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}

/// A parsed configuration: sections (same-named sections merge) with entries in file order.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub sections: BTreeMap<String, Vec<Entry>>,
    /// Every file read, including `.include`d ones, in order.
    pub files_read: Vec<PathBuf>,
    /// Includes that failed, lines that are not `name = value`, limits reached.
    pub problems: Vec<String>,
    include_dir: Option<PathBuf>,
}

impl Parsed {
    /// Read `path` and everything it includes; what cannot be read is a problem, not an error.
    pub fn read(path: &Path, env: &HashMap<String, String>) -> Parsed {
        let mut parsed = Parsed::default();
        let mut section = "default".to_string();
        parsed.load(path, &mut section, 0, env);
        parsed
    }

    /// The last value of `key` in `section`.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.sections
            .get(section)?
            .iter()
            .rev()
            .find(|e| e.key == key)
    }

    fn load(
        &mut self,
        path: &Path,
        section: &mut String,
        depth: usize,
        env: &HashMap<String, String>,
    ) {
        if depth > MAX_INCLUDE_DEPTH {
            self.problems.push(format!(
                "{}: includes nested deeper than {MAX_INCLUDE_DEPTH}",
                path.display()
            ));
            return;
        }
        if self.files_read.len() >= MAX_FILES {
            self.problems.push(format!(
                "more than {MAX_FILES} configuration files; rest ignored"
            ));
            return;
        }
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_CONF_BYTES => {
                self.problems.push(format!(
                    "{}: too large ({} bytes), not read",
                    path.display(),
                    m.len()
                ));
                return;
            }
            Ok(_) => match std::fs::read(path) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    self.problems.push(format!("{}: {e}", path.display()));
                    return;
                }
            },
            Err(e) => {
                self.problems.push(format!("{}: {e}", path.display()));
                return;
            }
        };
        self.files_read.push(path.to_path_buf());
        for (line_no, line) in logical_lines(&text) {
            let line = strip_comment(&line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.trim_end_matches(']').trim();
                *section = name.to_string();
                self.sections.entry(name.to_string()).or_default();
                continue;
            }
            if let Some(rest) = line.strip_prefix(".pragma") {
                let rest = rest.trim().trim_start_matches('=').trim();
                if let Some(dir) = rest.strip_prefix("includedir:") {
                    self.include_dir = Some(PathBuf::from(dir.trim()));
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix(".include") {
                let target = rest.trim().trim_start_matches('=').trim();
                let target = self.expand(target, section, env);
                self.include(&target, path, section, depth, env);
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                self.problems.push(format!(
                    "{}:{line_no}: not `name = value`: {line}",
                    path.display()
                ));
                continue;
            };
            let value = self.expand(unquote(value.trim()), section, env);
            self.sections
                .entry(section.clone())
                .or_default()
                .push(Entry {
                    key: key.trim().to_string(),
                    value,
                    file: path.to_path_buf(),
                    line: line_no,
                });
        }
    }

    fn include(
        &mut self,
        target: &str,
        from: &Path,
        section: &mut String,
        depth: usize,
        env: &HashMap<String, String>,
    ) {
        let mut p = PathBuf::from(target);
        if p.is_relative() {
            // OpenSSL resolves relative includes against `.pragma includedir` or
            // OPENSSL_CONF_INCLUDE, and otherwise against the process's working directory.
            match self
                .include_dir
                .clone()
                .or_else(|| env.get("OPENSSL_CONF_INCLUDE").map(PathBuf::from))
            {
                Some(base) => p = base.join(p),
                None => self.problems.push(format!(
                    "{}: relative `.include {target}` depends on the directory the client runs in",
                    from.display()
                )),
            }
        }
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|f| {
                            matches!(f.extension().and_then(|x| x.to_str()), Some("cnf" | "conf"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            for f in files {
                self.load(&f, section, depth + 1, env);
            }
        } else if p.is_file() {
            self.load(&p, section, depth + 1, env);
        } else {
            self.problems.push(format!(
                "{}: `.include {target}`: no such file or directory",
                from.display()
            ));
        }
    }

    /// `$name`, `${name}`, `$(name)`, `$section::name`, `$ENV::name` as in OpenSSL's NCONF.
    fn expand(&self, value: &str, section: &str, env: &HashMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => (&inner[..end], end + 2),
                    None => (inner, after.len()),
                }
            } else if let Some(inner) = after.strip_prefix('(') {
                match inner.find(')') {
                    Some(end) => (&inner[..end], end + 2),
                    None => (inner, after.len()),
                }
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            };
            let (sec, key) = match name.split_once("::") {
                Some((s, k)) => (s, k),
                None => (section, name),
            };
            let replacement = if sec == "ENV" {
                env.get(key).cloned()
            } else {
                self.get(sec, key)
                    .or_else(|| self.get("default", key))
                    .map(|e| e.value.clone())
            };
            match replacement {
                Some(r) => out.push_str(&r),
                None => {
                    out.push('$');
                    out.push_str(&after[..consumed]);
                }
            }
            rest = &after[consumed..];
        }
        out.push_str(rest);
        out
    }
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

/// Lines joined across trailing-backslash continuations, with their first line number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        let trailing = raw.len() - raw.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            acc.push_str(&raw[..raw.len() - 1]);
            pending = Some((start, acc));
        } else {
            acc.push_str(raw);
            out.push((start, acc));
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

fn strip_comment(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '#' => break,
            _ => out.push(c),
        }
    }
    out
}
