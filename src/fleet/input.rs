//! The input of a fleet run: one target per line, `#` comments and blank lines skipped,
//! each target with its line number and its normalised key (docs/json.md, "Fleet runs").

/// One target read from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputTarget {
    /// 1-based line number (comments and blank lines count).
    pub line: u64,
    /// As written, surrounding blanks removed.
    pub target: String,
    /// What `--resume` matches and `--shard` hashes.
    pub key: String,
}

/// The longest input line accepted; a longer one is an error line, not an allocation.
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// What one input line holds: nothing (blank, comment) or a target.
pub fn target_of(line_number: u64, text: &str) -> Option<InputTarget> {
    let target = text.trim();
    if target.is_empty() || target.starts_with('#') {
        return None;
    }
    Some(InputTarget {
        line: line_number,
        target: target.to_string(),
        key: key(target),
    })
}

/// The normalised target: without `scheme://`, all of it in ASCII lower case (host names
/// and ports only); with one, the scheme and authority in lower case and the rest (a path,
/// a query with options whose case may matter) as written. No default port is added.
pub fn key(target: &str) -> String {
    let target = target.trim();
    let Some(at) = target.find("://") else {
        return target.to_ascii_lowercase();
    };
    let rest_start = at + 3;
    let authority_end = target[rest_start..]
        .find(['/', '?', '#'])
        .map_or(target.len(), |i| rest_start + i);
    let mut out = target[..authority_end].to_ascii_lowercase();
    out.push_str(&target[authority_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_hold_no_target() {
        assert_eq!(target_of(1, ""), None);
        assert_eq!(target_of(2, "   \t"), None);
        assert_eq!(target_of(3, "  # a comment"), None);
        let t = target_of(4, "  Example.TEST:8443 \r").unwrap();
        assert_eq!(t.line, 4);
        assert_eq!(t.target, "Example.TEST:8443");
        assert_eq!(t.key, "example.test:8443");
    }

    #[test]
    fn a_urls_path_and_query_keep_their_case() {
        assert_eq!(
            key("MongoDB://Db.Example.Test:27017/App?tlsCAFile=/Etc/CA.pem"),
            "mongodb://db.example.test:27017/App?tlsCAFile=/Etc/CA.pem"
        );
        assert_eq!(key("HTTPS://Example.Test"), "https://example.test");
        assert_ne!(key("example.test"), key("example.test:443"));
    }
}
