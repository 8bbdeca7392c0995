//! The built-in lab against real clients, and `tlsdoctor demo` on it.

mod clients;
mod demo;
