//! Live observation in `check`: the real clients of this machine run against lab endpoints
//! and crafted servers on 127.0.0.1, their verdicts held against the predictions.

mod agreement;
mod disagreement;
mod go;
mod java_client_cert;
pub(crate) mod lab;
mod pymongo;
