//! What the engine's protocol is made of: its lock and condvar, the hint spinning threads
//! poll, and its threads. parking_lot and std normally; under `--cfg loom`, loom's, with
//! parking_lot's API kept, so that the model checker runs the engine's own code (`loom_tests.rs`).

#[cfg(not(loom))]
pub use parking_lot::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::sync::atomic::AtomicUsize;
#[cfg(not(loom))]
pub use std::thread::{yield_now, Builder, JoinHandle};

/// Whether a worker has ended, so its handle can be dropped before `join`.
#[cfg(not(loom))]
pub fn finished(handle: &JoinHandle<()>) -> bool {
    handle.is_finished()
}

#[cfg(loom)]
pub use loom::sync::atomic::AtomicUsize;
#[cfg(loom)]
pub use loom::thread::{yield_now, Builder, JoinHandle};
#[cfg(loom)]
pub use model::{Condvar, Mutex, MutexGuard};

/// Loom's handles cannot tell; every one is kept until `join`.
#[cfg(loom)]
pub fn finished(_handle: &JoinHandle<()>) -> bool {
    false
}

#[cfg(loom)]
mod model {
    use std::ops::{Deref, DerefMut};
    use std::time::Instant;

    pub struct Mutex<T>(loom::sync::Mutex<T>);

    /// A guard that can let go of its lock for a while, as parking_lot's can.
    pub struct MutexGuard<'a, T> {
        mutex: &'a Mutex<T>,
        guard: Option<loom::sync::MutexGuard<'a, T>>,
    }

    impl<T> Mutex<T> {
        pub fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard {
                mutex: self,
                guard: Some(self.0.lock().expect("no task panics while holding it")),
            }
        }
    }

    impl<T> MutexGuard<'_, T> {
        pub fn unlocked<R>(this: &mut Self, f: impl FnOnce() -> R) -> R {
            this.guard = None;
            let result = f();
            this.guard = Some(this.mutex.0.lock().expect("not poisoned"));
            result
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.guard.as_ref().expect("held")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.guard.as_mut().expect("held")
        }
    }

    pub struct Condvar(loom::sync::Condvar);

    pub struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub fn timed_out(&self) -> bool {
            self.0
        }
    }

    impl Condvar {
        pub fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        pub fn notify_one(&self) {
            self.0.notify_one();
        }

        pub fn notify_all(&self) {
            self.0.notify_all();
        }

        pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let held = guard.guard.take().expect("held");
            guard.guard = Some(self.0.wait(held).expect("not poisoned"));
        }

        /// Loom has no clock: a timed wait is a wait that may also end by timing out, which
        /// loom explores as one more way for it to end.
        pub fn wait_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _deadline: Instant,
        ) -> WaitTimeoutResult {
            let held = guard.guard.take().expect("held");
            let (held, result) = self
                .0
                .wait_timeout(held, std::time::Duration::from_secs(1))
                .expect("not poisoned");
            guard.guard = Some(held);
            WaitTimeoutResult(result.timed_out())
        }
    }
}
