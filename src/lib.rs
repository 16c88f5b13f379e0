//! cisterna: a Piscina-like pool of native threads for Node.js.

pub mod pool;
