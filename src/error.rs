//! The failures cisterna reports, each mapped to a stable `code` of docs/api.md.
//! The numbers cross to JavaScript, which builds the Error (`lib/errors.js`).

use std::fmt;

/// One entry per distinct JS error; `ERR_INVALID_ARG` comes as a TypeError or a RangeError.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// `ERR_INVALID_ARG` as a TypeError: the data has the wrong type or shape.
    InvalidType = 1,
    /// `ERR_INVALID_ARG` as a RangeError: the right type, out of range.
    OutOfRange = 2,
    QueueFull = 3,
    PoolClosed = 4,
    Aborted = 5,
    InputTooLarge = 6,
    TaskFailed = 7,
    TaskPanicked = 8,
    /// A file named by `{ path }` does not exist.
    FileNotFound = 9,
    /// A file named by `{ path }` could not be read (a directory, no permission, an I/O error).
    FileRead = 10,
    /// An output file could not be written.
    FileWrite = 11,
}

impl Kind {
    /// Every kind, in the order of its number: what `failureKinds()` tells JavaScript.
    pub const ALL: [Kind; 11] = [
        Kind::InvalidType,
        Kind::OutOfRange,
        Kind::QueueFull,
        Kind::PoolClosed,
        Kind::Aborted,
        Kind::InputTooLarge,
        Kind::TaskFailed,
        Kind::TaskPanicked,
        Kind::FileNotFound,
        Kind::FileRead,
        Kind::FileWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::InvalidType => "InvalidType",
            Kind::OutOfRange => "OutOfRange",
            Kind::QueueFull => "QueueFull",
            Kind::PoolClosed => "PoolClosed",
            Kind::Aborted => "Aborted",
            Kind::InputTooLarge => "InputTooLarge",
            Kind::TaskFailed => "TaskFailed",
            Kind::TaskPanicked => "TaskPanicked",
            Kind::FileNotFound => "FileNotFound",
            Kind::FileRead => "FileRead",
            Kind::FileWrite => "FileWrite",
        }
    }
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
        write!(f, "{}: {}", self.kind.name(), self.message)
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
            assert_eq!(*kind as usize, index + 1, "{}", kind.name());
        }
    }
}
