//! A ThreadsafeFunction used only to wake a JS thread: any thread may `call` it, and Node
//! then calls the JS function, with no arguments, on the thread that made it. The pool's
//! inbox wakes the main thread with one; each JS worker is woken with one for its next job.
//!
//! We use the raw Node-API because napi-rs's ThreadsafeFunction boxes a payload on every
//! call and has no supported way to ref/unref it as work comes and goes.

use napi::{check_status, sys, Env};
use std::ffi::c_void;
use std::ptr;

/// Called on the function's own thread once Node has destroyed it, with the data given.
pub type Finalize = (sys::napi_finalize, *mut c_void);

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Wakeup(sys::napi_threadsafe_function);

// SAFETY: the handle is only passed to napi_call_threadsafe_function, which Node-API
// documents as callable from any thread; its owners call it only while it is alive.
unsafe impl Send for Wakeup {}
// SAFETY: as for Send.
unsafe impl Sync for Wakeup {}

impl Wakeup {
    /// Wraps `function` (a JS function of `env`, checked by the caller) on `env`'s thread.
    /// A referenced wake-up keeps its thread's event loop alive; `finalize` runs when Node
    /// destroys it (at release, or as the environment goes).
    pub fn new(
        env: &Env,
        function: sys::napi_value,
        referenced: bool,
        finalize: Option<Finalize>,
    ) -> napi::Result<Self> {
        let mut name = ptr::null_mut();
        let mut wakeup = ptr::null_mut();
        let (finalize_cb, finalize_data) = match finalize {
            Some((cb, data)) => (cb, data),
            None => (None, ptr::null_mut()),
        };
        // SAFETY: called on `env`'s thread with its live env; with no call_js_cb, Node calls
        // `function()` with no arguments, and we pass no context; `finalize_data` is the
        // caller's to own until `finalize_cb` runs.
        unsafe {
            check_status!(sys::napi_create_string_utf8(
                env.raw(),
                c"cisterna".as_ptr(),
                8,
                &mut name
            ))?;
            check_status!(sys::napi_create_threadsafe_function(
                env.raw(),
                function,
                ptr::null_mut(),
                name,
                0,
                1,
                finalize_data,
                finalize_cb,
                ptr::null_mut(),
                None,
                &mut wakeup,
            ))?;
            if !referenced {
                check_status!(sys::napi_unref_threadsafe_function(env.raw(), wakeup))?;
            }
        }
        Ok(Self(wakeup))
    }

    /// Asks for the JS function to be called soon.
    ///
    /// # Safety
    /// The function is alive: not released, and not destroyed by its environment's teardown.
    pub unsafe fn call(self) {
        // SAFETY: alive, per the contract. Non-blocking on an unbounded queue never blocks;
        // napi_closing during teardown is expected and harmless.
        unsafe {
            sys::napi_call_threadsafe_function(
                self.0,
                ptr::null_mut(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            );
        }
    }

    pub fn raw(self) -> sys::napi_threadsafe_function {
        self.0
    }
}
