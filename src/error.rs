//! The failures cisterna reports, each mapped to a stable `code` of docs/api.md.
//! The numbers cross to JavaScript, which builds the Error (`lib/errors.js`).

use std::fmt;

/// Declares `Kind` from one list: each kind's number, and the `code` and class of the JS
/// error it becomes, so that JS learns them from `failureKinds()` instead of a copy.
macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident = $number:literal => $code:literal, $class:literal;)*) => {
        /// One entry per distinct JS error; `ERR_INVALID_ARG` comes as a TypeError or a RangeError.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Kind {
            $($(#[$doc])* $kind = $number,)*
        }

        impl Kind {
            /// Every kind, in the order of its number.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),*];

            /// The JS error's `code`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Kind::$kind => $code,)*
                }
            }

            /// The JS error's class: `Error`, `TypeError` or `RangeError`.
            pub fn class(self) -> &'static str {
                match self {
                    $(Kind::$kind => $class,)*
                }
            }
        }
    };
}

kinds! {
    /// The data has the wrong type or shape.
    InvalidType = 1 => "ERR_INVALID_ARG", "TypeError";
    /// The data has the right type, out of range.
    OutOfRange = 2 => "ERR_INVALID_ARG", "RangeError";
    QueueFull = 3 => "ERR_QUEUE_FULL", "Error";
    PoolClosed = 4 => "ERR_POOL_CLOSED", "Error";
    Aborted = 5 => "ERR_ABORTED", "Error";
    InputTooLarge = 6 => "ERR_INPUT_TOO_LARGE", "RangeError";
    TaskFailed = 7 => "ERR_TASK_FAILED", "Error";
    TaskPanicked = 8 => "ERR_TASK_PANICKED", "Error";
    /// A file named by `{ path }` does not exist.
    FileNotFound = 9 => "ERR_FILE_NOT_FOUND", "Error";
    /// A file named by `{ path }` could not be read (a directory, no permission, an I/O error).
    FileRead = 10 => "ERR_FILE_READ", "Error";
    /// An output file could not be written.
    FileWrite = 11 => "ERR_FILE_WRITE", "Error";
    /// The JS worker running the task exited (`process.exit`, a crash, its `resourceLimits`).
    WorkerExited = 12 => "ERR_WORKER_EXITED", "Error";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid_type(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidType, message)
    }

    pub fn out_of_range(message: impl Into<String>) -> Self {
        Self::new(Kind::OutOfRange, message)
    }

    /// What a task returns when it noticed `ctx.cancelled()`. Its caller has been told
    /// already (abort, timeout, destroy), so the message is never the one a user sees first.
    pub fn cancelled() -> Self {
        Self::new(Kind::Aborted, "the task was cancelled")
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

/// A napi call that failed while reading the data means the data was not what we asked for.
impl From<napi::Error> for Failure {
    fn from(error: napi::Error) -> Self {
        Failure::invalid_type(error.reason.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_numbered_in_order_from_one() {
        for (index, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, index + 1, "{kind:?}");
        }
    }
}
