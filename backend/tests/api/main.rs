//! The API integration suite: the real `weft` binary over real HTTP against a real SQLite
//! file. One binary (matklad, "delete cargo integration tests"); each module covers one area.

mod auth;
mod bad_input;
mod cli;
mod crash;
mod feed;
mod helpers;
mod hooks;
mod openapi;
mod ops;
mod runs;
mod tasks;
mod worker;
mod workflows;
