//! Bytes from JS. The pool owns what its threads read: Buffers, TypedArrays, DataViews and
//! ArrayBuffers are copied while `run` is called, before the caller can detach, transfer or
//! change them, unless the caller handed them over (`transferList`): then `run` moved them
//! into a clone nothing else can reach, and they are read in place. Strings are encoded to
//! UTF-8 (a copy V8 cannot avoid).

use super::{args, describe};
use crate::error::Failure;
use napi::bindgen_prelude::Unknown;
use napi::{check_status, sys, Env, JsValue, ValueType};
use parking_lot::Mutex;
use std::ptr;

/// Copies this large go into buffers earlier copies used, when one fits: a fresh allocation
/// costs a page fault per 4 KiB touched, which on a virtual machine can take longer than the
/// copy itself.
const REUSED_FROM: usize = 1 << 20;
/// The most memory kept in spare buffers between tasks.
const MAX_SPARE: usize = 256 << 20;

/// Buffers of finished copies, oldest first, waiting for the next big copy.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Bytes the pool owns (a copy of the caller's, or a string's UTF-8); a big buffer goes
/// back to the spares when the task is done.
pub struct Owned(pub Vec<u8>);

impl Owned {
    /// A copy of `bytes` the pool owns, in a spare buffer when one fits.
    pub fn copy_of(bytes: &[u8]) -> Owned {
        if bytes.len() >= REUSED_FROM {
            let mut spare = SPARE.lock();
            // The smallest that fits, and not more than twice the size: a huge spare is kept
            // for a huge input.
            let fit = (spare.iter().enumerate())
                .filter(|(_, buffer)| (bytes.len()..=2 * bytes.len()).contains(&buffer.capacity()))
                .min_by_key(|(_, buffer)| buffer.capacity())
                .map(|(at, _)| at);
            if let Some(at) = fit {
                let mut buffer = spare.remove(at);
                drop(spare);
                buffer.clear();
                buffer.extend_from_slice(bytes);
                return Owned(buffer);
            }
        }
        Owned(bytes.to_vec())
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.0);
        if buffer.capacity() < REUSED_FROM || buffer.capacity() > MAX_SPARE {
            return;
        }
        let mut spare = SPARE.lock();
        let mut held: usize = spare.iter().map(Vec::capacity).sum();
        while held + buffer.capacity() > MAX_SPARE {
            held -= spare.remove(0).capacity();
        }
        spare.push(buffer);
    }
}

/// The bytes a task reads on its thread.
pub enum Bytes {
    /// Memory of a handed-over JS object that `Decoder` keeps alive until the job's result
    /// is drained.
    InPlace { ptr: *const u8, len: usize },
    /// Binary data copied while `run` ran, or a string's UTF-8.
    Owned(Owned),
}

// SAFETY: `InPlace` memory belongs to a JS object that only the pool can reach (`run` cloned
// the task's data with the caller's buffers transferred into the clone), so nothing can
// detach or transfer it; a napi reference (held by the bridge until this job's result is
// drained on the main thread) keeps it from being collected, and environment teardown joins
// the threads before it frees anything. A SharedArrayBuffer's memory is never detached and
// lives while any of its objects does; we only read it.
unsafe impl Send for Bytes {}

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::InPlace { len: 0, .. } => &[],
            // SAFETY: see the `Send` impl: ptr..ptr+len is live for as long as the job.
            Bytes::InPlace { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            Bytes::Owned(Owned(bytes)) => bytes,
        }
    }
}

/// What `decode` works with on the main thread: the environment, whether the task's data
/// was handed over, and the references that keep handed-over memory alive. References left
/// when it drops (the task was refused) are deleted then.
pub struct Decoder<'env> {
    env: &'env Env,
    handed_over: bool,
    kept: Vec<sys::napi_ref>,
}

impl<'env> Decoder<'env> {
    pub(crate) fn new(env: &'env Env, handed_over: bool) -> Self {
        Self {
            env,
            handed_over,
            kept: Vec::new(),
        }
    }

    /// The references to hand to the bridge once the job is accepted.
    pub(crate) fn take_kept(&mut self) -> Vec<sys::napi_ref> {
        std::mem::take(&mut self.kept)
    }

    /// A Buffer, TypedArray, DataView or ArrayBuffer; a string as UTF-8; else None.
    pub fn bytes_or_string(&mut self, value: &Unknown<'_>) -> Result<Option<Bytes>, Failure> {
        if args::type_of(value) == ValueType::String {
            return Ok(Some(Bytes::Owned(Owned(
                args::string(value, "data")?.into_bytes(),
            ))));
        }
        self.bytes(value)
    }

    /// A Buffer, TypedArray, DataView or ArrayBuffer, copied or (handed over) in place; else
    /// None.
    pub fn bytes(&mut self, value: &Unknown<'_>) -> Result<Option<Bytes>, Failure> {
        if args::type_of(value) != ValueType::Object {
            return Ok(None);
        }
        let (env, raw) = (self.env.raw(), value.raw());
        let mut data: *mut std::ffi::c_void = ptr::null_mut();
        let mut len = 0usize;
        let mut is = false;
        // SAFETY: main thread, live env, `raw` a live object; each info call is made only
        // after its type check and writes only the out-pointers given. Node returns the
        // data pointer of typed arrays and DataViews already moved by their byte offset, so
        // data..data+len is the object's memory, which nothing can free or detach while this
        // call runs on the main thread.
        unsafe {
            check_status!(sys::napi_is_typedarray(env, raw, &mut is))?;
            if is {
                let mut kind = 0;
                let mut count = 0;
                let mut buffer = ptr::null_mut();
                let mut offset = 0;
                check_status!(sys::napi_get_typedarray_info(
                    env,
                    raw,
                    &mut kind,
                    &mut count,
                    &mut data,
                    &mut buffer,
                    &mut offset
                ))?;
                len = count
                    * element_size(kind).ok_or_else(|| {
                        Failure::invalid_type("this kind of TypedArray is not supported")
                    })?;
            } else {
                check_status!(sys::napi_is_dataview(env, raw, &mut is))?;
                if is {
                    let mut buffer = ptr::null_mut();
                    let mut offset = 0;
                    check_status!(sys::napi_get_dataview_info(
                        env,
                        raw,
                        &mut len,
                        &mut data,
                        &mut buffer,
                        &mut offset
                    ))?;
                } else {
                    check_status!(sys::napi_is_arraybuffer(env, raw, &mut is))?;
                    if !is {
                        return Ok(None);
                    }
                    check_status!(sys::napi_get_arraybuffer_info(
                        env, raw, &mut data, &mut len
                    ))?;
                }
            }
            if !self.handed_over {
                let copy = match len {
                    0 => Owned(Vec::new()),
                    _ => Owned::copy_of(std::slice::from_raw_parts(data as *const u8, len)),
                };
                return Ok(Some(Bytes::Owned(copy)));
            }
            let mut reference = ptr::null_mut();
            check_status!(sys::napi_create_reference(env, raw, 1, &mut reference))?;
            self.kept.push(reference);
        }
        Ok(Some(Bytes::InPlace {
            ptr: data as *const u8,
            len,
        }))
    }

    /// Like `bytes_or_string`, but the value must be one of them.
    pub fn required_bytes(&mut self, value: &Unknown<'_>, what: &str) -> Result<Bytes, Failure> {
        self.bytes_or_string(value)?.ok_or_else(|| {
            Failure::invalid_type(format!(
                "{what} must be a Buffer, TypedArray, DataView, ArrayBuffer or string, got {}",
                describe(value)
            ))
        })
    }
}

impl Drop for Decoder<'_> {
    fn drop(&mut self) {
        release(self.env, self.take_kept());
    }
}

/// Deletes references made by a `Decoder`. Main thread only.
pub(crate) fn release(env: &Env, kept: Vec<sys::napi_ref>) {
    for reference in kept {
        // SAFETY: main thread, live env, a reference we created and delete once.
        unsafe { sys::napi_delete_reference(env.raw(), reference) };
    }
}

fn element_size(kind: sys::napi_typedarray_type) -> Option<usize> {
    use sys::TypedarrayType as ArrayType;
    match kind {
        ArrayType::int8_array | ArrayType::uint8_array | ArrayType::uint8_clamped_array => Some(1),
        ArrayType::int16_array | ArrayType::uint16_array => Some(2),
        ArrayType::int32_array | ArrayType::uint32_array | ArrayType::float32_array => Some(4),
        ArrayType::float64_array | ArrayType::bigint64_array | ArrayType::biguint64_array => {
            Some(8)
        }
        _ => None,
    }
}
