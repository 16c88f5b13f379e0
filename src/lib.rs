//! cisterna: a Piscina-like pool of native threads for Node.js.
//! Layers, each using only those before it: `pool` the engine (no napi), `js` reading and
//! making JS values, `tasks` the work, `bridge` the napi class that joins them for JS.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

/// Tasks are decoded on the main thread and freed on a pool thread, results the other way:
/// mimalloc frees across threads without a lock, where glibc's malloc takes the allocating
/// arena's lock on every such free, and keeps musl's slow malloc out of the way. Its version
/// 2, with local-dynamic TLS, as an addon is a library loaded with dlopen: version 3 crashes
/// when a worker thread loads the addon after another one has ended (process.test.js).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_eager_commit` and `mi_option_arena_eager_commit` in mimalloc 2's `mi_option_e`
/// (mimalloc.h), which libmimalloc-sys does not name.
const MI_OPTION_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 3;
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Memory committed as it is used, not at once: eager commit of a segment, or of the 1 GiB
/// arena mimalloc reserves on an overcommitting system, lets the kernel back the addon's
/// first allocations with transparent huge pages, 2 MiB to 10 MiB more resident memory in an
/// idle process. Set when the addon is loaded, before mimalloc's own constructor (priority
/// 101) makes its first segment.
#[ctor::ctor(unsafe, priority = 100)]
fn lazy_commit() {
    for option in [MI_OPTION_EAGER_COMMIT, MI_OPTION_ARENA_EAGER_COMMIT] {
        // SAFETY: writes one entry of mimalloc's statically initialised options, which needs
        // no C runtime and no initialised allocator.
        unsafe { libmimalloc_sys::mi_option_set(option, 0) };
    }
}

pub mod bridge;
mod error;
mod js;
pub mod pool;
mod tasks;
