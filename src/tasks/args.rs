//! Reading JS data on the main thread, with errors in the words of API.md.

use super::describe;
use crate::error::Failure;
use napi::bindgen_prelude::{Object, Unknown};
use napi::ValueType;

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
    let value: Option<Unknown<'env>> = object.get(name)?;
    Ok(value.filter(|v| type_of(v) != ValueType::Undefined))
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

/// A string option that must be one of `allowed`.
pub fn one_of(
    value: &Unknown<'_>,
    what: &str,
    allowed: &[&'static str],
) -> Result<&'static str, Failure> {
    let text = string(value, what)?;
    allowed
        .iter()
        .find(|name| **name == text)
        .copied()
        .ok_or_else(|| {
            Failure::invalid_type(format!(
                "{what} must be one of {}, got '{text}'",
                allowed.join(", ")
            ))
        })
}
