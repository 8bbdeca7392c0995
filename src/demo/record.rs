//! Recording the built-in lab: one fixture per endpoint, each the evidence of
//! `tlsdoctor check 127.0.0.1:PORT [--sni NAME] --cafile LAB-ROOT` (what the golden check
//! files show), and each proved to load back to the diagnosis the live check made.

use crate::doctor::fixture::EvidenceFixture;
use crate::doctor::{Diagnosis, diagnose};
use crate::lab::{Lab, LabOptions};
use crate::pipeline::{CheckRequest, check};
use futures::StreamExt;
use std::path::{Path, PathBuf};

/// Endpoints checked at once (the machine may be small).
const AT_ONCE: usize = 4;

/// Start the lab, check every endpoint, and write `DIR/<endpoint>.json` for each. Returns
/// the files written. Fails, writing nothing more, when a check finds no server or when a
/// fixture does not load back to the same diagnosis.
pub async fn record_lab(dir: &Path) -> Result<Vec<PathBuf>, String> {
    // The lab root goes where `--cafile` can read it, for as long as the recording runs.
    let ca_dir = std::env::temp_dir().join(format!("tlsdoctor-record-{}", std::process::id()));
    let result = record_with_root_in(&ca_dir, dir).await;
    let _ = std::fs::remove_dir_all(&ca_dir);
    result
}

async fn record_with_root_in(ca_dir: &Path, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let opts = LabOptions {
        write_ca: Some(ca_dir.to_path_buf()),
        ..LabOptions::default()
    };
    let lab = Lab::start(&opts).await.map_err(|e| e.to_string())?;
    let root = lab
        .root_ca_path
        .clone()
        .ok_or("the lab wrote no root certificate")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // The lab's certificates are whole days from the second it made them: in that second
    // every "days left" would be one more than the golden files say.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let jobs = lab.endpoints.iter().map(|e| {
        let root = root.clone();
        async move {
            let mut req = CheckRequest::new(e.addr.to_string());
            req.connect.sni = e.sni.clone();
            req.trust.cafile = Some(root);
            // The fixtures hold predictions only: what is judged offline.
            req.live.enabled = false;
            let doc = check(&req)
                .await
                .map_err(|err| format!("{}: {err}", e.name))?;
            let d = doc
                .diagnoses
                .into_iter()
                .next()
                .ok_or_else(|| format!("{}: the check examined no server", e.name))?;
            let fixture = fixture_of(&d, e.name)?;
            let path = dir.join(format!("{}.json", e.name));
            fixture.save(&path)?;
            same_diagnosis(&d, &EvidenceFixture::load(&path)?)
                .map_err(|why| format!("{}: {why}", path.display()))?;
            Ok::<_, String>(path)
        }
    });
    let mut written: Vec<PathBuf> = futures::stream::iter(jobs)
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    written.sort();
    Ok(written)
}

fn fixture_of(d: &Diagnosis, endpoint: &str) -> Result<EvidenceFixture, String> {
    let ev = d
        .evidence
        .as_ref()
        .ok_or_else(|| format!("{endpoint}: the diagnosis kept no evidence"))?;
    Ok(EvidenceFixture::of(format!("lab endpoint {endpoint}"), ev))
}

/// The loaded fixture, judged again, gives the live diagnosis (as JSON, every field).
fn same_diagnosis(live: &Diagnosis, fixture: &EvidenceFixture) -> Result<(), String> {
    let again = diagnose(fixture.evidence()?, None);
    let (a, b) = (
        serde_json::to_value(live).map_err(|e| e.to_string())?,
        serde_json::to_value(&again).map_err(|e| e.to_string())?,
    );
    if a == b {
        return Ok(());
    }
    let (a, b) = (a.to_string(), b.to_string());
    let at = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |s: &str| {
        s.get(at.saturating_sub(80)..(at + 80).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    Err(format!(
        "the fixture does not load back to the live diagnosis: live …{}… vs loaded …{}…",
        around(&a),
        around(&b)
    ))
}
