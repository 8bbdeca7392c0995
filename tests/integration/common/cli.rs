//! Running the tlsdoctor binary from tests.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Run `tlsdoctor ARGS` with colour off.
pub fn tlsdoctor(args: &[&str]) -> Run {
    tlsdoctor_env(args, &[])
}

/// Run `tlsdoctor ARGS` with extra environment variables.
pub fn tlsdoctor_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let out: Output = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .expect("run tlsdoctor");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}
