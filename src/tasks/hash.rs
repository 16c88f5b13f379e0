//! `hash`: digests with Node's algorithm names (byte for byte equal to `node:crypto`),
//! plus BLAKE3, xxHash and CRC; HMAC with `key` (keyed BLAKE3 for `blake3`).

mod blake3_parts;

use super::files::{self, Source};
use super::{Context, Task};
use crate::error::Failure;
use crate::js::{args, ascii_to_js, buffer_copy_to_js, Bytes, Decoder, Owned};
use crate::pool::Ctx;
use base64::Engine as _;
use hmac::{Mac, SimpleHmac};
use napi::bindgen_prelude::Unknown;
use napi::{sys, Env};
use sha2::Digest;
use std::path::Path;

/// Input is fed in chunks this large, with a cancellation check between them.
const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_512,
    Blake2b512,
    Blake3,
    Xxh64,
    Xxh3,
    Xxh128,
    Crc32,
    Crc32c,
}

const ALGORITHMS: [(&str, Algorithm); 15] = [
    ("md5", Algorithm::Md5),
    ("sha1", Algorithm::Sha1),
    ("sha224", Algorithm::Sha224),
    ("sha256", Algorithm::Sha256),
    ("sha384", Algorithm::Sha384),
    ("sha512", Algorithm::Sha512),
    ("sha3-256", Algorithm::Sha3_256),
    ("sha3-512", Algorithm::Sha3_512),
    ("blake2b512", Algorithm::Blake2b512),
    ("blake3", Algorithm::Blake3),
    ("xxh64", Algorithm::Xxh64),
    ("xxh3", Algorithm::Xxh3),
    ("xxh128", Algorithm::Xxh128),
    ("crc32", Algorithm::Crc32),
    ("crc32c", Algorithm::Crc32c),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
    Base64Url,
    Buffer,
}

pub struct HashInput {
    data: Source,
    algorithm: Algorithm,
    encoding: Encoding,
    key: Option<Bytes>,
}

impl HashInput {
    /// `run(bytes, 'hash')`: the defaults of `{ data }`.
    fn sha256_hex(bytes: Bytes) -> HashInput {
        HashInput {
            data: Source::Bytes(bytes),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
            key: None,
        }
    }
}

/// The digest as the caller asked for it, encoded on the pool's thread: the main thread
/// only copies it into a JS value.
pub enum HashOutput {
    Text(String),
    Buffer(Vec<u8>),
}

pub struct Hash;

impl Task for Hash {
    const NAME: &'static str = "hash";
    type Input = HashInput;
    type Output = HashOutput;

    const FROM_BYTES: Option<fn(Owned) -> HashInput> =
        Some(|bytes| HashInput::sha256_hex(Bytes::Owned(bytes)));

    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<HashInput, Failure> {
        if let Some(bytes) = decoder.bytes_or_string(&data)? {
            return Ok(HashInput::sha256_hex(bytes));
        }
        let options = args::object(&data).ok_or_else(|| {
            Failure::invalid_type(format!(
                "hash needs a Buffer, TypedArray, DataView, ArrayBuffer or string, or {{ data, algorithm, encoding, key }}; got {}",
                crate::js::describe(&data)
            ))
        })?;
        let data = match args::field(&options, "data")? {
            Some(value) => match args::file_path(&value, "hash data")? {
                Some(path) => Source::File(path),
                None => Source::Bytes(decoder.required_bytes(&value, "hash data")?),
            },
            None => return Err(Failure::invalid_type("hash options need data")),
        };
        let algorithm = args::choice(
            &options,
            "algorithm",
            "hash algorithm",
            &ALGORITHMS,
            Algorithm::Sha256,
        )?;
        let encoding = args::choice(
            &options,
            "encoding",
            "hash encoding",
            &[
                ("hex", Encoding::Hex),
                ("base64", Encoding::Base64),
                ("base64url", Encoding::Base64Url),
                ("buffer", Encoding::Buffer),
            ],
            Encoding::Hex,
        )?;
        let key = match args::field(&options, "key")? {
            None => None,
            Some(value) => Some(decoder.required_bytes(&value, "hash key")?),
        };
        check_key(algorithm, key.as_ref().map(|k| k.as_slice().len()))?;
        Ok(HashInput {
            data,
            algorithm,
            encoding,
            key,
        })
    }

    fn run(input: HashInput, ctx: &Context) -> Result<HashOutput, Failure> {
        let key = input.key.as_ref().map(Bytes::as_slice);
        let digest = match &input.data {
            Source::Bytes(bytes) => {
                let data = bytes.as_slice();
                digest(input.algorithm, key, data, ctx, |hashed| {
                    ctx.progress(hashed, data.len())
                })?
            }
            Source::File(path) => digest_file(input.algorithm, key, path, ctx, |done, total| {
                ctx.progress(done, total)
            })?,
        };
        Ok(match input.encoding {
            Encoding::Hex => HashOutput::Text(hex_lower(&digest)),
            Encoding::Base64 => {
                HashOutput::Text(base64::engine::general_purpose::STANDARD.encode(digest))
            }
            // Node's base64url has no padding.
            Encoding::Base64Url => {
                HashOutput::Text(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
            }
            Encoding::Buffer => HashOutput::Buffer(digest),
        })
    }

    fn encode(env: &Env, output: HashOutput) -> napi::Result<sys::napi_value> {
        match output {
            HashOutput::Text(text) => ascii_to_js(env, &text),
            HashOutput::Buffer(digest) => buffer_copy_to_js(env, &digest),
        }
    }
}

/// Lower-case hex, as Node's: `hex::encode_to_slice` writes bytes at once, where
/// `hex::encode` collects chars one by one (a twentieth of a 1 KiB hash task's time).
fn hex_lower(digest: &[u8]) -> String {
    let mut text = vec![0; digest.len() * 2];
    hex::encode_to_slice(digest, &mut text).expect("twice the digest's length");
    String::from_utf8(text).expect("hex digits are ASCII")
}

/// A key is an HMAC key for Node's algorithms, a 32-byte key for BLAKE3, and meaningless
/// for the checksums.
fn check_key(algorithm: Algorithm, key_len: Option<usize>) -> Result<(), Failure> {
    match (algorithm, key_len) {
        (_, None) => Ok(()),
        (Algorithm::Blake3, Some(32)) => Ok(()),
        (Algorithm::Blake3, Some(len)) => Err(Failure::out_of_range(format!(
            "a blake3 key must be 32 bytes, got {len}"
        ))),
        (
            Algorithm::Xxh64
            | Algorithm::Xxh3
            | Algorithm::Xxh128
            | Algorithm::Crc32
            | Algorithm::Crc32c,
            Some(_),
        ) => Err(Failure::invalid_type(
            "xxh64, xxh3, xxh128, crc32 and crc32c take no key",
        )),
        _ => Ok(()),
    }
}

/// A BLAKE3 key, checked by `check_key` to be 32 bytes.
fn blake3_key(key: Option<&[u8]>) -> Option<&[u8; 32]> {
    key.map(|key| key.try_into().expect("checked to be 32 bytes"))
}

/// Something that digests a stream of chunks.
trait Streaming {
    fn update(&mut self, chunk: &[u8]);
    fn finish(self: Box<Self>) -> Vec<u8>;
}

struct Plain<D>(D);
impl<D: Digest> Streaming for Plain<D> {
    fn update(&mut self, chunk: &[u8]) {
        Digest::update(&mut self.0, chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

struct Keyed<D: Digest + hmac::digest::core_api::BlockSizeUser>(SimpleHmac<D>);
impl<D: Digest + hmac::digest::core_api::BlockSizeUser> Streaming for Keyed<D> {
    fn update(&mut self, chunk: &[u8]) {
        Mac::update(&mut self.0, chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().into_bytes().to_vec()
    }
}

impl Streaming for blake3::Hasher {
    fn update(&mut self, chunk: &[u8]) {
        blake3::Hasher::update(self, chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.finalize().as_bytes().to_vec()
    }
}

impl Streaming for xxhash_rust::xxh64::Xxh64 {
    fn update(&mut self, chunk: &[u8]) {
        xxhash_rust::xxh64::Xxh64::update(self, chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.digest().to_be_bytes().to_vec()
    }
}

/// XXH3 in its 64- or 128-bit form, big-endian as xxhsum prints it.
struct Xxh3 {
    state: Box<xxhash_rust::xxh3::Xxh3>,
    wide: bool,
}
impl Streaming for Xxh3 {
    fn update(&mut self, chunk: &[u8]) {
        self.state.update(chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        if self.wide {
            self.state.digest128().to_be_bytes().to_vec()
        } else {
            self.state.digest().to_be_bytes().to_vec()
        }
    }
}

impl Streaming for crc32fast::Hasher {
    fn update(&mut self, chunk: &[u8]) {
        crc32fast::Hasher::update(self, chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.finalize().to_be_bytes().to_vec()
    }
}

struct Crc32c(u32);
impl Streaming for Crc32c {
    fn update(&mut self, chunk: &[u8]) {
        self.0 = crc32c::crc32c_append(self.0, chunk);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.to_be_bytes().to_vec()
    }
}

fn plain_or_keyed<D>(key: Option<&[u8]>) -> Box<dyn Streaming>
where
    D: Digest + hmac::digest::core_api::BlockSizeUser + 'static,
{
    match key {
        None => Box::new(Plain(D::new())),
        Some(key) => Box::new(Keyed(
            <SimpleHmac<D> as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC takes keys of any length"),
        )),
    }
}

fn streaming(algorithm: Algorithm, key: Option<&[u8]>) -> Box<dyn Streaming> {
    match algorithm {
        Algorithm::Md5 => plain_or_keyed::<md5::Md5>(key),
        Algorithm::Sha1 => plain_or_keyed::<sha1::Sha1>(key),
        Algorithm::Sha224 => plain_or_keyed::<sha2::Sha224>(key),
        Algorithm::Sha256 => plain_or_keyed::<sha2::Sha256>(key),
        Algorithm::Sha384 => plain_or_keyed::<sha2::Sha384>(key),
        Algorithm::Sha512 => plain_or_keyed::<sha2::Sha512>(key),
        Algorithm::Sha3_256 => plain_or_keyed::<sha3::Sha3_256>(key),
        Algorithm::Sha3_512 => plain_or_keyed::<sha3::Sha3_512>(key),
        Algorithm::Blake2b512 => plain_or_keyed::<blake2::Blake2b512>(key),
        Algorithm::Blake3 => Box::new(match key {
            Some(key) => blake3::Hasher::new_keyed(blake3_key(Some(key)).expect("a key")),
            None => blake3::Hasher::new(),
        }),
        Algorithm::Xxh64 => Box::new(xxhash_rust::xxh64::Xxh64::new(0)),
        Algorithm::Xxh3 | Algorithm::Xxh128 => Box::new(Xxh3 {
            state: Box::new(xxhash_rust::xxh3::Xxh3::new()),
            wide: algorithm == Algorithm::Xxh128,
        }),
        Algorithm::Crc32 => Box::new(crc32fast::Hasher::new()),
        Algorithm::Crc32c => Box::new(Crc32c(0)),
    }
}

/// The digest of `data`, fed in chunks with a cancellation check between them; after
/// each chunk, `hashed` learns how many bytes are done.
fn digest(
    algorithm: Algorithm,
    key: Option<&[u8]>,
    data: &[u8],
    ctx: &Ctx,
    hashed: impl FnMut(usize),
) -> Result<Vec<u8>, Failure> {
    // Large enough to split: in parts hashed on free threads.
    if algorithm == Algorithm::Blake3 && data.len() > blake3_parts::PART {
        let feed = blake3_parts::feed_bytes(data, ctx);
        return Ok(blake3_parts::digest(blake3_key(key), data.len(), ctx, feed)?.to_vec());
    }
    let mut feeder = Feeder::new(algorithm, key, ctx, hashed);
    for chunk in data.chunks(CHUNK) {
        feeder.feed(chunk)?;
    }
    Ok(feeder.finish())
}

/// The digest of the file at `path`, read a chunk at a time into one buffer: memory stays
/// flat whatever the file's size. `hashed` learns the bytes done and the file's length.
fn digest_file(
    algorithm: Algorithm,
    key: Option<&[u8]>,
    path: &Path,
    ctx: &Ctx,
    mut hashed: impl FnMut(usize, usize),
) -> Result<Vec<u8>, Failure> {
    let (mut file, len) = files::open(path)?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    // A file as long as it was when opened, in parts read and hashed on free threads.
    if algorithm == Algorithm::Blake3 && len > blake3_parts::PART {
        let feed = blake3_parts::feed_file(&file, path);
        return Ok(blake3_parts::digest(blake3_key(key), len, ctx, feed)?.to_vec());
    }
    let mut feeder = Feeder::new(algorithm, key, ctx, |done| hashed(done, len.max(done)));
    let mut buffer = Vec::with_capacity(CHUNK);
    loop {
        files::read_chunk(&mut file, &mut buffer, path)?;
        if buffer.is_empty() {
            return Ok(feeder.finish());
        }
        feeder.feed(&buffer)?;
    }
}

/// A digest under way: each chunk is checked for cancellation first and counted after.
struct Feeder<'c, F> {
    hasher: Box<dyn Streaming>,
    ctx: &'c Ctx<'c>,
    done: usize,
    hashed: F,
}

impl<'c, F: FnMut(usize)> Feeder<'c, F> {
    fn new(algorithm: Algorithm, key: Option<&[u8]>, ctx: &'c Ctx<'c>, hashed: F) -> Self {
        Feeder {
            hasher: streaming(algorithm, key),
            ctx,
            done: 0,
            hashed,
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), Failure> {
        if self.ctx.cancelled() {
            return Err(Failure::cancelled());
        }
        self.hasher.update(chunk);
        self.done += chunk.len();
        (self.hashed)(self.done);
        Ok(())
    }

    fn finish(self) -> Vec<u8> {
        self.hasher.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::js::Owned;
    use crate::pool::testing::{already_cancelled, never_cancelled};
    use crate::tasks::testing::NoLine;

    fn hex_of(algorithm: Algorithm, key: Option<&[u8]>, data: &[u8]) -> String {
        hex_lower(&digest(algorithm, key, data, &never_cancelled(), |_| {}).unwrap())
    }

    #[test]
    fn known_answers() {
        let abc = b"abc";
        assert_eq!(
            hex_of(Algorithm::Md5, None, abc),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex_of(Algorithm::Sha1, None, abc),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex_of(Algorithm::Sha256, None, abc),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex_of(Algorithm::Blake3, None, b""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(hex_of(Algorithm::Crc32, None, b"123456789"), "cbf43926");
        assert_eq!(hex_of(Algorithm::Crc32c, None, b"123456789"), "e3069283");
        assert_eq!(hex_of(Algorithm::Xxh64, None, b""), "ef46db3751d8e999");
        // RFC 4231 test case 2.
        assert_eq!(
            hex_of(
                Algorithm::Sha256,
                Some(b"Jefe"),
                b"what do ya want for nothing?"
            ),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_output_is_encoded_as_asked_on_the_thread() {
        let run = |encoding| {
            let input = HashInput {
                data: Source::Bytes(Bytes::Owned(Owned(b"abc".to_vec()))),
                algorithm: Algorithm::Sha256,
                encoding,
                key: None,
            };
            match Hash::run(input, &Context::new(&never_cancelled(), &NoLine)).unwrap() {
                HashOutput::Text(text) => text,
                HashOutput::Buffer(bytes) => format!("buffer {}", hex::encode(bytes)),
            }
        };
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(run(Encoding::Hex), abc);
        assert_eq!(run(Encoding::Buffer), format!("buffer {abc}"));
        assert_eq!(
            run(Encoding::Base64),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            run(Encoding::Base64Url),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn progress_counts_the_bytes_hashed_after_each_chunk() {
        let data = vec![0u8; CHUNK * 2 + 5];
        let mut reports = Vec::new();
        digest(Algorithm::Sha256, None, &data, &never_cancelled(), |done| {
            reports.push(done)
        })
        .unwrap();
        assert_eq!(reports, [CHUNK, CHUNK * 2, CHUNK * 2 + 5]);
    }

    #[test]
    fn chunking_does_not_change_the_digest() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 17))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        for (_, algorithm) in ALGORITHMS {
            let whole = {
                let mut h = streaming(algorithm, None);
                h.update(&data);
                h.finish()
            };
            assert_eq!(
                digest(algorithm, None, &data, &never_cancelled(), |_| {}).unwrap(),
                whole
            );
        }
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_key(Algorithm::Blake3, Some(32)).is_ok());
        assert!(check_key(Algorithm::Blake3, Some(31)).is_err());
        assert!(check_key(Algorithm::Crc32, Some(4)).is_err());
        assert!(check_key(Algorithm::Sha512, Some(1000)).is_ok());
    }

    #[test]
    fn cancellation_stops_between_chunks() {
        let data = vec![0u8; CHUNK * 3];
        assert_eq!(
            digest(Algorithm::Sha256, None, &data, &already_cancelled(), |_| {}),
            Err(Failure::cancelled())
        );
    }
}
