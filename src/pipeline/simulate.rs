//! `simulate`: examine every address as `check` does, and keep what each client would do.

use super::fanout;
use super::request::SimulateRequest;
use super::{PipelineError, check::examine};
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
    let (servers, errors) = fanout::each_address(&targets, &req.connect, &run, |a| {
        let examination = &examination;
        async move {
            let ev = examine(&a, examination).await?;
            Ok::<_, String>(simulated(&ev))
        }
    })
    .await;
    doc.servers = servers;
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
