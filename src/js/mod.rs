//! The JS-value layer: reading JS data on the main thread (`args`, and `bytes` for binary
//! data the pool must own) and making JS values of Rust ones. Tasks and the bridge build on
//! it; it knows neither.

pub mod args;
mod bytes;

pub(crate) use bytes::release;
pub use bytes::{Bytes, Decoder, Owned};

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
    latin1_to_js(env, text.as_bytes())
}

fn latin1_to_js(env: &Env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
    let mut value = std::ptr::null_mut();
    // SAFETY: main thread, live env; V8 copies `len` bytes from the pointer.
    check_status!(unsafe {
        sys::napi_create_string_latin1(
            env.raw(),
            bytes.as_ptr().cast(),
            bytes.len() as isize,
            &mut value,
        )
    })?;
    Ok(value)
}

fn utf16_to_js(env: &Env, units: &[u16]) -> napi::Result<sys::napi_value> {
    let mut value = std::ptr::null_mut();
    // SAFETY: main thread, live env; V8 copies `len` units from the pointer.
    check_status!(unsafe {
        sys::napi_create_string_utf16(env.raw(), units.as_ptr(), units.len() as isize, &mut value)
    })?;
    Ok(value)
}

/// Text as V8 will hold it: one byte per unit when every unit fits (converted where it is
/// made, off the main thread), else UTF-16.
pub enum JsText {
    Latin1(Vec<u8>),
    Utf16(Vec<u16>),
}

impl JsText {
    pub fn new(units: Vec<u16>) -> Self {
        if units.iter().all(|&unit| unit < 0x100) {
            JsText::Latin1(units.into_iter().map(|unit| unit as u8).collect())
        } else {
            JsText::Utf16(units)
        }
    }

    /// The JS string (main thread).
    pub fn to_js<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
        let value = match self {
            JsText::Latin1(bytes) => latin1_to_js(env, bytes)?,
            JsText::Utf16(units) => utf16_to_js(env, units)?,
        };
        // SAFETY: `value` was just made in this env, on this thread.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
    }
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
