//! OCSP: stapled responses, responder queries, and the real PyMongo's verdicts.

mod pymongo;
mod responder;
mod staple;
