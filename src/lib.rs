//! cisterna: a Piscina-like pool of native threads for Node.js.
//! Layers, each using only those before it: `pool` the engine (no napi), `js` reading and
//! making JS values, `tasks` the work, `bridge` the napi class that joins them for JS.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod bridge;
mod error;
mod js;
pub mod pool;
mod tasks;
