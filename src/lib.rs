//! cisterna: a Piscina-like pool of native threads for Node.js.
//! Layers, each using only those before it: `pool` the engine (no napi), `js` reading and
//! making JS values, `tasks` the work, `bridge` the napi class that joins them for JS.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

/// Tasks are decoded on the main thread and freed on a pool thread, results the other way:
/// mimalloc frees across threads without a lock, where glibc's malloc takes the allocating
/// arena's lock on every such free, and keeps musl's slow malloc out of the way. Its version 2, with local-dynamic
/// TLS, as an addon is a library loaded with dlopen: version 3 crashes when a worker thread
/// loads the addon after another one has ended (tested in process.test.js).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod bridge;
mod error;
mod js;
pub mod pool;
mod tasks;
