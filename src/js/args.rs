//! Reading JS data on the main thread, with errors in the words of docs/api.md.

use super::describe;
use crate::error::Failure;
use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use napi::{check_status, sys, JsValue, ValueType};
use std::path::PathBuf;

pub fn type_of(value: &Unknown<'_>) -> ValueType {
    value.get_type().unwrap_or(ValueType::Unknown)
}

/// A plain object (not null, not a function), or None.
pub fn object<'env>(value: &Unknown<'env>) -> Option<Object<'env>> {
    if type_of(value) != ValueType::Object {
        return None;
    }
    // SAFETY: the value was just checked to be an object.
    unsafe { value.cast::<Object>() }.ok()
}

/// A property of an options object; `undefined` reads as None, as in JS defaults.
pub fn field<'env>(object: &Object<'env>, name: &str) -> Result<Option<Unknown<'env>>, Failure> {
    let value: Unknown<'env> = object.get_named_property_unchecked(name)?;
    Ok(Some(value).filter(|v| type_of(v) != ValueType::Undefined))
}

/// `{ path }`, a file for the pool's thread to read or write: its path, or None when the
/// value is not an object with a `path`. The path is used as given, nothing else is.
pub fn file_path(value: &Unknown<'_>, what: &str) -> Result<Option<PathBuf>, Failure> {
    let Some(object) = object(value) else {
        return Ok(None);
    };
    let Some(path) = field(&object, "path")? else {
        return Ok(None);
    };
    let path = string(&path, &format!("{what} path"))?;
    if path.is_empty() || path.contains('\0') {
        return Err(Failure::invalid_type(format!(
            "{what} path must be a file name, got {path:?}"
        )));
    }
    Ok(Some(PathBuf::from(path)))
}

pub fn number(value: &Unknown<'_>) -> Option<f64> {
    if type_of(value) != ValueType::Number {
        return None;
    }
    // SAFETY: the value was just checked to be a number.
    unsafe { value.cast::<f64>() }.ok()
}

pub fn string(value: &Unknown<'_>, what: &str) -> Result<String, Failure> {
    if type_of(value) != ValueType::String {
        return Err(Failure::invalid_type(format!(
            "{what} must be a string, got {}",
            describe(value)
        )));
    }
    // SAFETY: the value was just checked to be a string.
    Ok(unsafe { value.cast::<String>() }?)
}

/// An options field naming one of `choices`: `default` when absent, ERR_INVALID_ARG when it
/// is not a string or names none of them.
pub fn choice<T: Copy>(
    object: &Object<'_>,
    name: &str,
    what: &str,
    choices: &[(&str, T)],
    default: T,
) -> Result<T, Failure> {
    let Some(value) = field(object, name)? else {
        return Ok(default);
    };
    if type_of(&value) == ValueType::String {
        // Choices are short words: compare them in a buffer on the stack. A longer text
        // fills the buffer and so matches none of them.
        let mut buffer = [0u8; 32];
        let mut len = 0;
        // SAFETY: main thread, live env, a string; V8 writes at most `buffer.len()` bytes,
        // a terminating NUL among them, and their count without it to `len`.
        check_status!(unsafe {
            sys::napi_get_value_string_utf8(
                value.value().env,
                value.raw(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut len,
            )
        })?;
        let text = &buffer[..len];
        if let Some((_, chosen)) = choices.iter().find(|(choice, _)| choice.as_bytes() == text) {
            return Ok(*chosen);
        }
    }
    let text = string(&value, what)?;
    let names: Vec<&str> = choices.iter().map(|(choice, _)| *choice).collect();
    Err(Failure::invalid_type(format!(
        "{what} must be one of {}, got '{text}'",
        names.join(", ")
    )))
}

/// A boolean options field (strictly a boolean, as sharp wants); `default` when absent.
pub fn boolean(
    object: &Object<'_>,
    name: &str,
    what: &str,
    default: bool,
) -> Result<bool, Failure> {
    match field(object, name)? {
        None => Ok(default),
        Some(value) if type_of(&value) == ValueType::Boolean => {
            // SAFETY: the value was just checked to be a boolean.
            Ok(unsafe { value.cast::<bool>() }?)
        }
        Some(value) => Err(Failure::invalid_type(format!(
            "{what} must be a boolean, got {}",
            describe(&value)
        ))),
    }
}

/// An integer options field within `min..=max`; None when absent.
pub fn integer(
    object: &Object<'_>,
    name: &str,
    what: &str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, Failure> {
    let Some(value) = field(object, name)? else {
        return Ok(None);
    };
    match number(&value) {
        Some(n) if n.fract() == 0.0 && (min..=max).contains(&n) => Ok(Some(n)),
        Some(n) => Err(Failure::out_of_range(format!(
            "{what} must be an integer from {min} to {max}, got {n}"
        ))),
        None => Err(Failure::invalid_type(format!(
            "{what} must be an integer, got {}",
            describe(&value)
        ))),
    }
}

/// A JS string's UTF-16 units, as JS holds them; `value` must be a string.
pub fn utf16(value: &Unknown<'_>) -> Result<Vec<u16>, Failure> {
    let (raw_env, raw) = (value.value().env, value.raw());
    let mut len = 0usize;
    // SAFETY: main thread, live env, `raw` is a string (checked by the caller); the second
    // call writes at most `len + 1` units into a buffer of that size.
    unsafe {
        check_status!(sys::napi_get_value_string_utf16(
            raw_env,
            raw,
            std::ptr::null_mut(),
            0,
            &mut len
        ))?;
        let mut text: Vec<u16> = vec![0; len + 1];
        let mut written = 0usize;
        check_status!(sys::napi_get_value_string_utf16(
            raw_env,
            raw,
            text.as_mut_ptr(),
            len + 1,
            &mut written
        ))?;
        text.truncate(written);
        Ok(text)
    }
}

/// JavaScript truthiness (`Boolean(value)`).
pub fn truthy(value: &Unknown<'_>) -> Result<bool, Failure> {
    let mut coerced = std::ptr::null_mut();
    let mut result = false;
    // SAFETY: main thread, live env, live value.
    unsafe {
        check_status!(sys::napi_coerce_to_bool(
            value.value().env,
            value.raw(),
            &mut coerced
        ))?;
        check_status!(sys::napi_get_value_bool(
            value.value().env,
            coerced,
            &mut result
        ))?;
    }
    Ok(result)
}
