//! BLAKE3 of a large input on as many of the pool's threads as are free: the input is cut
//! into whole subtrees of BLAKE3's own tree, hashed as parts (`Ctx::for_each`), and their
//! chaining values merged into the parent nodes above them. The digest is BLAKE3's, bit for
//! bit (tested against `blake3::hash` below).

use crate::error::Failure;
use crate::pool::Ctx;
use crate::tasks::files;
use blake3::hazmat::{
    left_subtree_len, merge_subtrees_non_root, merge_subtrees_root, ChainingValue, HasherExt, Mode,
};
use blake3::Hasher;
use std::cell::RefCell;
use std::fs::File;
use std::ops::Range;
use std::path::Path;

/// The size of one part: a power of two of BLAKE3's 1 KiB chunks, so that parts are whole
/// subtrees; about 0.3 ms of work, far longer than lending a thread costs.
pub const PART: usize = 1 << 20;
/// A part in memory is fed in slices this large, with a cancellation check between them.
const SLICE: usize = 256 << 10;

/// The digest of `len` bytes (more than one part), each part's bytes fed to its hasher by
/// `feed(hasher, range)`.
pub fn digest(
    key: Option<&[u8; 32]>,
    len: usize,
    ctx: &Ctx,
    feed: impl Fn(&mut Hasher, Range<usize>) -> Result<(), Failure> + Sync,
) -> Result<[u8; 32], Failure> {
    debug_assert!(len > PART);
    let mut parts: Vec<(usize, Result<ChainingValue, Failure>)> = (0..len.div_ceil(PART))
        .map(|i| (i * PART, Err(Failure::cancelled())))
        .collect();
    ctx.for_each(&mut parts, |(offset, cv)| {
        let mut hasher = match key {
            Some(key) => Hasher::new_keyed(key),
            None => Hasher::new(),
        };
        hasher.set_input_offset(*offset as u64);
        *cv = feed(&mut hasher, *offset..len.min(*offset + PART))
            .map(|()| hasher.finalize_non_root());
    });
    let cvs = parts
        .into_iter()
        .map(|(_, cv)| cv)
        .collect::<Result<Vec<ChainingValue>, Failure>>()?;
    let mode = match key {
        Some(key) => Mode::KeyedHash(key),
        None => Mode::Hash,
    };
    let split = left_subtree_len(len as u64) as usize / PART;
    let (left, right) = cvs.split_at(split);
    let root = merge_subtrees_root(&merge(left, mode), &merge(right, mode), mode);
    Ok(*root.as_bytes())
}

/// Feeds `data[range]` in slices, with a cancellation check before each.
pub fn feed_bytes<'d>(
    data: &'d [u8],
    ctx: &'d Ctx,
) -> impl Fn(&mut Hasher, Range<usize>) -> Result<(), Failure> + Sync + 'd {
    move |hasher, range| {
        for slice in data[range].chunks(SLICE) {
            if ctx.cancelled() {
                return Err(Failure::cancelled());
            }
            hasher.update(slice);
        }
        Ok(())
    }
}

thread_local! {
    /// One part's bytes read from a file, kept by each thread: a fresh megabyte per part
    /// would cost a page fault per 4 KiB.
    static PART_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Feeds the file's bytes in `range`, read at their place, so that parts read in parallel.
pub fn feed_file<'f>(
    file: &'f File,
    path: &'f Path,
) -> impl Fn(&mut Hasher, Range<usize>) -> Result<(), Failure> + Sync + 'f {
    move |hasher, range| {
        PART_BUFFER.with_borrow_mut(|buffer| {
            buffer.resize(PART, 0);
            let bytes = &mut buffer[..range.len()];
            files::read_at(file, bytes, range.start as u64, path)?;
            hasher.update(bytes);
            Ok(())
        })
    }
}

/// The chaining value of the subtree over these parts' subtrees, split as BLAKE3 splits
/// it: the left side the largest power of two of parts that leaves some on the right.
fn merge(cvs: &[ChainingValue], mode: Mode) -> ChainingValue {
    if let [cv] = cvs {
        return *cv;
    }
    let split = cvs.len().div_ceil(2).next_power_of_two();
    let (left, right) = cvs.split_at(split);
    merge_subtrees_non_root(&merge(left, mode), &merge(right, mode), mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::{already_cancelled, never_cancelled};

    #[test]
    fn equals_blake3_at_every_kind_of_length() {
        let data: Vec<u8> = (0..5 * PART + 4096).map(|i| (i * 31 % 251) as u8).collect();
        let key = [7u8; 32];
        for len in [
            PART + 1,
            PART + 1024,
            2 * PART,
            2 * PART + 1,
            3 * PART - 1,
            3 * PART,
            4 * PART + 5,
            5 * PART + 4096,
        ] {
            let data = &data[..len];
            let ctx = never_cancelled();
            let plain = digest(None, len, &ctx, feed_bytes(data, &ctx)).unwrap();
            assert_eq!(plain, *blake3::hash(data).as_bytes(), "{len} bytes");
            let keyed = digest(Some(&key), len, &ctx, feed_bytes(data, &ctx)).unwrap();
            assert_eq!(
                keyed,
                *blake3::keyed_hash(&key, data).as_bytes(),
                "{len} keyed"
            );
        }
    }

    #[test]
    fn a_file_read_in_parts_equals_blake3_of_its_bytes() {
        let data: Vec<u8> = (0..3 * PART + 77).map(|i| (i * 7 % 253) as u8).collect();
        let path = std::env::temp_dir().join(format!("cisterna-blake3-{}", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        let ctx = never_cancelled();
        let hash = digest(None, data.len(), &ctx, feed_file(&file, &path));
        // One byte more than the file has: it changed while it was read.
        let past_the_end = digest(None, data.len() + 1, &ctx, feed_file(&file, &path));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(hash.unwrap(), *blake3::hash(&data).as_bytes());
        assert_eq!(past_the_end.unwrap_err().kind, crate::error::Kind::FileRead);
    }

    #[test]
    fn stops_when_cancelled() {
        let data = vec![0u8; 2 * PART + 1];
        let ctx = already_cancelled();
        let failure = digest(None, data.len(), &ctx, feed_bytes(&data, &ctx)).unwrap_err();
        assert_eq!(failure.kind, crate::error::Kind::Aborted);
    }
}
