//! The JS-value layer: reading JS data on the main thread (`args`, and `bytes` for binary
//! data the pool must own) and making JS values of Rust ones. Tasks and the bridge build on
//! it; it knows neither.

pub mod args;
mod bytes;

pub(crate) use bytes::release;
#[cfg(test)]
pub(crate) use bytes::Owned;
pub use bytes::{Bytes, Decoder};

use napi::bindgen_prelude::{ToNapiValue, Unknown};
use napi::{check_status, sys, Env, ValueType};

/// A Rust value as a JS value of the current environment.
pub(crate) fn to_js<T: ToNapiValue>(env: &Env, value: T) -> napi::Result<sys::napi_value> {
    // SAFETY: `env` is the live environment of the thread we are called on (decode and
    // encode run on the main thread only), which is all `to_napi_value` requires.
    unsafe { T::to_napi_value(env.raw(), value) }
}

/// ASCII text (a hex or base64 digest, an encoded password hash) as a JS string. V8 takes
/// Latin-1, of which ASCII is a part, as it is: no UTF-8 decoding on the main thread.
pub(crate) fn ascii_to_js(env: &Env, text: &str) -> napi::Result<sys::napi_value> {
    debug_assert!(text.is_ascii());
    let mut value = std::ptr::null_mut();
    // SAFETY: main thread, live env; V8 copies `len` bytes from the pointer.
    check_status!(unsafe {
        sys::napi_create_string_latin1(
            env.raw(),
            text.as_ptr().cast(),
            text.len() as isize,
            &mut value,
        )
    })?;
    Ok(value)
}

/// A few bytes (a digest) as a Buffer of their own: copying them is cheaper than handing V8
/// an external buffer with a finalizer.
pub(crate) fn buffer_copy_to_js(env: &Env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
    let mut value = std::ptr::null_mut();
    // SAFETY: main thread, live env; Node copies `len` bytes into a new Buffer and does not
    // need the data pointer it hands back.
    check_status!(unsafe {
        sys::napi_create_buffer_copy(
            env.raw(),
            bytes.len(),
            bytes.as_ptr().cast(),
            std::ptr::null_mut(),
            &mut value,
        )
    })?;
    Ok(value)
}

/// The JS type of a value, in the words of an error message.
pub(crate) fn describe(value: &Unknown<'_>) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) => "an object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::External) => "an external",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "an unknown value",
    }
}
