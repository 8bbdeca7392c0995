//! Files the user names: read with a size limit, written without following or replacing
//! what is already there unless asked, private material readable by its owner only.
//!
//! Inputs (CA bundles, intermediates, client certificates and keys) are small; a path that
//! points at a device, a pipe that never ends or a multi-gigabyte file must end in a clear
//! error instead of filling memory. Outputs (`check --write-fixes`, `lab --write-ca`) go
//! into a directory the user chose; a file or symbolic link already there is never written
//! through.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

/// Largest input file read: CA bundles are well under 1 MiB (Mozilla's is about 230 KiB).
pub const MAX_INPUT_BYTES: u64 = 10 * 1024 * 1024;

/// The whole of `path`, at most [`MAX_INPUT_BYTES`]. The error is a short reason, for the
/// caller to put after the path (`cannot read CA file X: <reason>`).
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    let too_big = || {
        format!(
            "it is larger than {} MiB, the limit for input files",
            MAX_INPUT_BYTES / (1024 * 1024)
        )
    };
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    // Devices and pipes report no length: the limit is enforced while reading.
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// What to do when the file to write already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Fail, naming the file.
    Refuse,
    /// Remove it (a symbolic link is removed, not followed) and write a new file.
    Replace,
}

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0} already exists")]
    Exists(String),
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: String },
}

/// Write `body` to a new file at `path`: mode 0600 when `private`, else the usual 0644
/// (less the umask). The file is always created afresh, so an existing file or a symbolic
/// link planted at `path` is never written through.
pub fn write_new(
    path: &Path,
    body: &[u8],
    private: bool,
    existing: Existing,
) -> Result<(), WriteError> {
    let io = |e: std::io::Error| WriteError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        match existing {
            Existing::Refuse => return Err(WriteError::Exists(path.display().to_string())),
            Existing::Replace if meta.is_dir() => {
                return Err(WriteError::Io {
                    path: path.display().to_string(),
                    reason: "a directory is in the way".into(),
                });
            }
            Existing::Replace => std::fs::remove_file(path).map_err(io)?,
        }
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            WriteError::Exists(path.display().to_string())
        } else {
            io(e)
        }
    })?;
    file.write_all(body).map_err(io)?;
    file.sync_all().map_err(io)
}

/// `text` reduced to a safe file name: ASCII letters, digits, `.`, `-` and `_`, anything
/// else `_`; a name of dots only (`.`, `..`) or an empty one becomes `_`. For names made
/// from what a peer or a resolver said (an address, a host name).
pub fn safe_file_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    if name.chars().all(|c| c == '.') {
        "_".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_directory() {
        assert_eq!(safe_file_name("127.0.0.1:443"), "127.0.0.1_443");
        assert_eq!(safe_file_name("[::1]:8443"), "___1__8443");
        assert_eq!(safe_file_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_file_name(".."), "_");
        assert_eq!(safe_file_name(""), "_");
        assert_eq!(safe_file_name("a/b\\c\0d\x1b"), "a_b_c_d_");
        assert_eq!(safe_file_name(&"x".repeat(500)).len(), 128);
    }

    #[test]
    fn input_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"abc").unwrap();
        assert_eq!(read_input(&small).unwrap(), b"abc");
        let e = read_input(dir.path()).unwrap_err();
        assert!(e.contains("directory"), "{e}");
        let e = read_input(&dir.path().join("missing")).unwrap_err();
        assert!(e.contains("No such file"), "{e}");
        let big = dir.path().join("big");
        let f = File::create(&big).unwrap();
        f.set_len(MAX_INPUT_BYTES + 1).unwrap();
        let e = read_input(&big).unwrap_err();
        assert!(e.contains("10 MiB"), "{e}");
        #[cfg(target_os = "linux")]
        {
            // No length to check up front: the limit holds while reading.
            let e = read_input(Path::new("/dev/zero")).unwrap_err();
            assert!(e.contains("10 MiB"), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn writes_never_follow_what_is_there() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.key");
        write_new(&key, b"secret", true, Existing::Refuse).unwrap();
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let e = write_new(&key, b"again", true, Existing::Refuse).unwrap_err();
        assert!(matches!(e, WriteError::Exists(_)), "{e}");
        assert_eq!(std::fs::read(&key).unwrap(), b"secret");

        // A symbolic link planted where a file will be written: replaced, not followed.
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(write_new(&link, b"x", false, Existing::Refuse).is_err());
        write_new(&link, b"new", false, Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        assert_eq!(std::fs::read(&link).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());

        // Replacing keeps the private mode even where the old file was world-readable.
        let old = dir.path().join("old.key");
        std::fs::write(&old, b"old").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_new(&old, b"new", true, Existing::Replace).unwrap();
        let mode = std::fs::metadata(&old).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
