//! Running local programs (interpreters, `openssl version`, `ldconfig -p`) with a hard timeout,
//! a cap on how much output is kept, and an explicit environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Output kept per stream; the rest is read and dropped so the child never blocks on a full pipe.
const OUTPUT_CAP: u64 = 1 << 20;

/// What a finished program printed.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Why a program gave no output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("not found")]
    NotFound,
    #[error("timed out after {0:?} (killed)")]
    Timeout(Duration),
    #[error("could not run: {0}")]
    Io(String),
}

async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>) -> Vec<u8> {
    let Some(mut reader) = reader else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let _ = (&mut reader).take(OUTPUT_CAP).read_to_end(&mut kept).await;
    let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
    kept
}

/// Run `program args` with exactly the environment `env`, stdin closed, working directory `/`
/// (so a stray `ssl.py` in the user's directory cannot shadow a module), killed after `timeout`.
pub async fn run(
    program: &Path,
    args: &[&str],
    env: &HashMap<String, String>,
    timeout: Duration,
) -> Result<RunOutput, RunError> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound,
        _ => RunError::Io(e.to_string()),
    })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let finished = async {
        let (out, err, status) =
            tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
        (out, err, status)
    };
    match tokio::time::timeout(timeout, finished).await {
        Ok((out, err, status)) => {
            let status = status.map_err(|e| RunError::Io(e.to_string()))?;
            Ok(RunOutput {
                code: status.code(),
                stdout: String::from_utf8_lossy(&out).into_owned(),
                stderr: String::from_utf8_lossy(&err).into_owned(),
            })
        }
        Err(_) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            Err(RunError::Timeout(timeout))
        }
    }
}

/// Find `name` on the `PATH` of `env` (not of this process). Absolute or relative paths
/// containing a slash are returned as they are if they name a file.
pub fn which(name: &str, env: &HashMap<String, String>) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = env.get("PATH")?;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        std::env::vars().collect()
    }

    #[tokio::test]
    async fn missing_program_is_not_found() {
        let r = run(
            Path::new("/nonexistent/tlsdoctor-nope"),
            &[],
            &env(),
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(r.unwrap_err(), RunError::NotFound);
    }

    #[tokio::test]
    async fn slow_program_is_killed_at_timeout() {
        let sleep = which("sleep", &env()).expect("sleep on PATH");
        let start = std::time::Instant::now();
        let r = run(&sleep, &["30"], &env(), Duration::from_millis(300)).await;
        assert!(matches!(r, Err(RunError::Timeout(_))), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn child_sees_only_the_given_environment() {
        let sh = which("sh", &env()).expect("sh on PATH");
        let mut e = HashMap::new();
        e.insert("TLSDOCTOR_MARK".to_string(), "x1".to_string());
        let r = run(
            &sh,
            &["-c", "echo \"$TLSDOCTOR_MARK:$HOME\""],
            &e,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(r.stdout.trim(), "x1:");
        assert!(r.success());
    }
}
