//! cisterna: a Piscina-like pool of native threads for Node.js.
//! `pool` is the engine, `tasks` the work, `bridge` the napi glue between them and JS.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod bridge;
mod error;
pub mod pool;
mod tasks;
