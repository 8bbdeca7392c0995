//! `tlsdoctor simulate`: client profiles checked against the real clients.

mod clients;
mod message_limits;
mod old_openssl;
