//! `tlsdoctor simulate`: client profiles checked against the real clients.

mod clients;
mod old_openssl;
