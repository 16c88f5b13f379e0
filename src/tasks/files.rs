//! Inputs and outputs named by `{ path }`: a queue's job carries a path, not megabytes of
//! JSON, and the pool's thread reads (or writes) the file itself, never through the JS heap.
//! Only the path the caller gave is touched.

use crate::error::{Failure, Kind};
use crate::js::{args, Bytes, Decoder};
use napi::bindgen_prelude::Unknown;
use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Binary input: bytes from JS, or a file to read on the thread.
pub enum Source {
    Bytes(Bytes),
    File(PathBuf),
}

impl Source {
    /// `{ path }`, or binary data (a Buffer, TypedArray, DataView or ArrayBuffer); None for
    /// anything else.
    pub fn decode(
        decoder: &mut Decoder,
        value: &Unknown<'_>,
        what: &str,
    ) -> Result<Option<Source>, Failure> {
        if let Some(path) = args::file_path(value, what)? {
            return Ok(Some(Source::File(path)));
        }
        Ok(decoder.bytes(value)?.map(Source::Bytes))
    }

    /// All of it: the bytes in place, or the file read whole (refused past `limit` bytes
    /// with ERR_INPUT_TOO_LARGE before any is read).
    pub fn read(&self, limit: u64, what: &str) -> Result<Cow<'_, [u8]>, Failure> {
        match self {
            Source::Bytes(bytes) => Ok(Cow::Borrowed(bytes.as_slice())),
            Source::File(path) => {
                let (mut file, len) = open(path)?;
                if len > limit {
                    return Err(Failure::new(
                        Kind::InputTooLarge,
                        format!(
                            "{what} reads at most {limit} bytes; {} has {len}",
                            path.display()
                        ),
                    ));
                }
                let mut data = Vec::with_capacity(len as usize);
                file.read_to_end(&mut data)
                    .map_err(|error| io_failure(&error, path, "read"))?;
                Ok(Cow::Owned(data))
            }
        }
    }
}

/// The file at `path`, open for reading, and its length.
pub fn open(path: &Path) -> Result<(File, u64), Failure> {
    let file = File::open(path).map_err(|error| io_failure(&error, path, "open"))?;
    let metadata = file
        .metadata()
        .map_err(|error| io_failure(&error, path, "read"))?;
    if metadata.is_dir() {
        return Err(Failure::new(
            Kind::FileRead,
            format!("{} is a directory, not a file", path.display()),
        ));
    }
    Ok((file, metadata.len()))
}

/// Replaces `buffer`'s bytes with the file's next ones, as many as its capacity holds
/// (fewer only at the end; none past it). The buffer is never zeroed first.
pub fn read_chunk(file: &mut File, buffer: &mut Vec<u8>, path: &Path) -> Result<(), Failure> {
    buffer.clear();
    let capacity = buffer.capacity() as u64;
    file.take(capacity)
        .read_to_end(buffer)
        .map_err(|error| io_failure(&error, path, "read"))?;
    Ok(())
}

/// Fills `bytes` from the file at `offset`, without moving its cursor, so that threads can
/// read parts of one file at once. A file shorter than that changed while it was read.
pub fn read_at(file: &File, bytes: &mut [u8], offset: u64, path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    let read = std::os::unix::fs::FileExt::read_exact_at(file, bytes, offset);
    #[cfg(windows)]
    let read = (|| {
        let (mut done, mut bytes) = (0, bytes);
        while !bytes.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(file, bytes, offset + done)? {
                0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                n => (done, bytes) = (done + n as u64, &mut bytes[n..]),
            }
        }
        Ok(())
    })();
    read.map_err(|error| match error.kind() {
        io::ErrorKind::UnexpectedEof => Failure::new(
            Kind::FileRead,
            format!("{} became shorter while it was read", path.display()),
        ),
        _ => io_failure(&error, path, "read"),
    })
}

/// Writes `data` to `path`, replacing what is there.
pub fn write(path: &Path, data: &[u8]) -> Result<(), Failure> {
    File::create(path)
        .and_then(|mut file| file.write_all(data))
        .map_err(|error| {
            Failure::new(
                Kind::FileWrite,
                format!("could not write {}: {error}", path.display()),
            )
        })
}

fn io_failure(error: &io::Error, path: &Path, doing: &str) -> Failure {
    let kind = if error.kind() == io::ErrorKind::NotFound {
        Kind::FileNotFound
    } else {
        Kind::FileRead
    };
    Failure::new(
        kind,
        format!("could not {doing} {}: {error}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, data: &[u8]) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("cisterna-files-{}-{name}", std::process::id()));
        std::fs::write(&path, data).unwrap();
        path
    }

    #[test]
    fn a_file_is_read_whole_within_its_limit() {
        let path = scratch("whole", b"hello");
        let source = Source::File(path.clone());
        assert_eq!(&*source.read(5, "test").unwrap(), b"hello");
        assert_eq!(
            source.read(4, "test").unwrap_err().kind,
            Kind::InputTooLarge
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn missing_files_and_directories_have_their_own_codes() {
        let missing = Source::File(std::env::temp_dir().join("cisterna-no-such-file"));
        assert_eq!(
            missing.read(1, "test").unwrap_err().kind,
            Kind::FileNotFound
        );
        let directory = Source::File(std::env::temp_dir());
        assert_eq!(directory.read(1, "test").unwrap_err().kind, Kind::FileRead);
        let unwritable = std::env::temp_dir()
            .join("cisterna-no-such-dir")
            .join("out");
        assert_eq!(write(&unwritable, b"x").unwrap_err().kind, Kind::FileWrite);
    }

    #[test]
    fn chunks_fill_until_the_end() {
        let path = scratch("chunks", &[7; 10]);
        let (mut file, len) = open(&path).unwrap();
        assert_eq!(len, 10);
        let mut buffer = Vec::with_capacity(4);
        let sizes: Vec<usize> = (0..4)
            .map(|_| {
                read_chunk(&mut file, &mut buffer, &path).unwrap();
                buffer.len()
            })
            .collect();
        assert_eq!(sizes, [4, 4, 2, 0]);
        std::fs::remove_file(path).unwrap();
    }
}
