//! Command-line front end (filled in by the foundation issue).
pub fn main() -> i32 {
    0
}
