//! The API integration suite: the real `weft` binary over real HTTP against a real SQLite
//! file, or a real PostgreSQL database with `WEFT_TEST_STORE=postgres` ([`pg`]). One binary
//! (matklad, "delete cargo integration tests"); each module covers one area.

mod auth;
mod bad_input;
mod bulk;
mod children;
mod cli;
mod cluster;
mod crash;
mod edges;
mod examples;
mod feed;
mod helpers;
mod hooks;
mod hostile;
mod integrity;
mod openapi;
mod operate;
mod ops;
mod people;
mod pg;
mod remote;
mod retention;
mod runs;
mod saves;
mod schedules;
mod shutdown;
mod sim;
mod tasks;
mod test_runs;
mod ui;
mod versions;
mod worker;
mod workflows;
