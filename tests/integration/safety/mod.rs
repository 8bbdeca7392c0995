//! Output safety and the safety of what tlsdoctor reads and writes (issue 14): a hostile
//! server cannot write into the terminal through any human renderer, JSON stays valid
//! whatever the peer sends, `--write-fixes` stays in its directory, input files are bounded.

mod files;
mod hostile_pki;
mod hostile_servers;
mod output;
mod reports;
