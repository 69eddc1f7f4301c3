//! Pujo's integration tests, in one binary: a module per suite, sharing the harness
//! in `common`. The test command runs them all; one suite is a filter away:
//! `cargo nextest run -E 'test(/^media::/)'` (or `cargo test --test it media::`).

#[macro_use]
mod common;

mod accounts;
mod api;
mod architecture;
mod audit;
mod backup;
mod blobs;
mod cache;
mod content_conformance;
mod database;
mod db_conformance;
mod docs;
mod fuzz_corpus;
mod guests;
mod lifecycle;
mod media;
mod moderation;
mod postgres_server;
mod shares;
mod site;
mod tls;
mod uploads;
mod walls;
