//! `simulate`: examine every address as `check` does, and keep what each client would do.

use super::request::SimulateRequest;
use super::{PipelineError, check::examine};
use super::{fanout, follow};
use crate::doctor::{Evidence, Examination};
use crate::document::{SimulateDocument, SimulatedServer};
use crate::ocsp::QueryPolicy;

/// Simulate the request's clients against every address of its target.
pub async fn simulate(req: &SimulateRequest) -> Result<SimulateDocument, PipelineError> {
    let profiles = crate::clients::select_profiles(&req.clients).map_err(PipelineError::Client)?;
    let loaded = req.trust.load()?;
    let run = req.connect.start_run();
    let (spec, targets) = fanout::resolve(&req.connect).await?;
    let examination = Examination {
        stores: loaded.stores(None),
        profiles,
        local_client: None,
        client_key: None,
        ocsp: QueryPolicy::WhenNotStapled,
    };
    let mut doc = SimulateDocument::new(&req.connect.target);
    doc.notes = spec.notes.clone();
    let upgrade = spec.upgrade.as_ref();
    let (servers, errors) = fanout::each_address(&targets, &req.connect, &run, |a| {
        let examination = &examination;
        async move {
            let ev = examine(&a, examination).await?;
            // As `check` does (pipeline/follow.rs): a port that speaks a STARTTLS protocol
            // is simulated again through it; a well-known upgrade port that speaks TLS
            // first is simulated as direct TLS.
            let detour = follow::detour(&a, &ev.observed.scan, upgrade, req.connect.starttls).await;
            let Some(detour) = detour else {
                return Ok::<_, String>((vec![simulated(&ev)], None));
            };
            let note = detour.note(&a.label);
            let mut again = detour.address.clone();
            again.label = detour.label(&a.label);
            let second = simulated(&examine(&again, examination).await?);
            let servers = match detour.kind {
                follow::DetourKind::Through(_) => vec![simulated(&ev), second],
                follow::DetourKind::Direct { .. } => vec![second],
            };
            Ok((servers, Some(note)))
        }
    })
    .await;
    for (ss, note) in servers {
        doc.notes.extend(note);
        doc.servers.extend(ss);
    }
    doc.errors = errors;
    doc.partial = run.reached();
    Ok(doc)
}

fn simulated(ev: &Evidence) -> SimulatedServer {
    let accepted_versions = ev
        .observed
        .scan
        .as_ref()
        .map(|s| s.accepted_versions().iter().map(|v| v.name()).collect())
        .unwrap_or_default();
    let connects = ev.simulations.iter().filter(|s| s.connects).count();
    SimulatedServer {
        target: ev.observed.target.clone(),
        address: ev.observed.address.clone(),
        sni: ev.observed.sni.clone(),
        accepted_versions,
        connects,
        fails: ev.simulations.len() - connects,
        simulations: ev.simulations.clone(),
    }
}
