//! Fleet runs (`scan -i`, `check -i`) against a local fleet of a few hundred endpoints on
//! 127.0.0.0/8: every result line, resuming after a kill, shards run as a batch scheduler
//! runs them, the connection rate and the backoff.

mod endpoints;
mod manifest;
mod runs;
