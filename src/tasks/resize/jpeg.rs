//! JPEG through mozjpeg's libjpeg-turbo core, which cargo builds with the `cc` crate (with its
//! SIMD when nasm is on PATH): decoding through its TurboJPEG API, at 1/2, 1/4 or 1/8 scale in
//! the IDCT when the resize allows (sharp's shrink-on-load); encoding through the libjpeg API
//! with libjpeg-turbo's own defaults, as sharp does.

use super::pixels::Image;
use super::{exif, failed, Header};
use crate::error::Failure;
use mozjpeg_sys::{
    boolean, jpeg_c_set_int_param, jpeg_common_struct, jpeg_compress_struct, jpeg_create_compress,
    jpeg_create_decompress, jpeg_decompress_struct, jpeg_destroy_compress, jpeg_destroy_decompress,
    jpeg_error_mgr, jpeg_finish_compress, jpeg_mem_dest, jpeg_mem_src, jpeg_read_header,
    jpeg_set_defaults, jpeg_set_quality, jpeg_start_compress, jpeg_std_error, jpeg_write_raw_data,
    jpeg_write_scanlines, JCP_FASTEST, J_COLOR_SPACE, J_INT_PARAM,
};
use std::ffi::{c_char, c_int, c_uchar, c_ulong, c_void, CStr};
use std::panic::{self, AssertUnwindSafe};

/// The TurboJPEG functions that mozjpeg-sys compiles (its `turbojpeg_api` feature) but does
/// not declare. Decoding goes through them for TurboJPEG's 4:2:0 planes at a scale, which
/// the libjpeg API cannot give without reaching into libjpeg's private state.
mod tj {
    use std::ffi::{c_char, c_int, c_uchar, c_ulong, c_void};

    pub type Handle = *mut c_void;
    pub const PF_RGB: c_int = 0;
    pub const PF_GRAY: c_int = 6;
    pub const PF_CMYK: c_int = 11;
    /// A warning (truncated or corrupt data) fails the call, as sharp's default `failOn`.
    pub const FLAG_STOPONWARNING: c_int = 8192;
    /// More than 500 progressive scans fail the call: a crafted file with thousands of
    /// scans would cost minutes.
    pub const FLAG_LIMITSCANS: c_int = 32768;

    extern "C" {
        pub fn tjInitDecompress() -> Handle;
        pub fn tjDestroy(handle: Handle) -> c_int;
        pub fn tjGetErrorStr2(handle: Handle) -> *mut c_char;
        pub fn tjDecompress2(
            handle: Handle,
            jpeg: *const c_uchar,
            jpeg_size: c_ulong,
            pixels: *mut c_uchar,
            width: c_int,
            pitch: c_int,
            height: c_int,
            pixel_format: c_int,
            flags: c_int,
        ) -> c_int;
        pub fn tjDecompressToYUVPlanes(
            handle: Handle,
            jpeg: *const c_uchar,
            jpeg_size: c_ulong,
            planes: *mut *mut c_uchar,
            width: c_int,
            strides: *mut c_int,
            height: c_int,
            flags: c_int,
        ) -> c_int;
    }
}

const DECODE_FLAGS: c_int = tj::FLAG_STOPONWARNING | tj::FLAG_LIMITSCANS;

/// What the libjpeg API reads from the headers, before any pixel.
struct Info {
    width: u32,
    height: u32,
    colour_space: J_COLOR_SPACE,
    /// YCbCr with chroma at half size both ways, the layout `decode_planes` works on.
    ycbcr_420: bool,
}

/// A decompressor that only reads headers; destroyed however reading ends.
struct HeaderReader {
    cinfo: Box<jpeg_decompress_struct>,
    _error: ErrorManager,
}

impl Drop for HeaderReader {
    fn drop(&mut self) {
        // SAFETY: the struct was zeroed, then created or not: jpeg_destroy_decompress frees
        // only what libjpeg allocated.
        unsafe { jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

fn info(bytes: &[u8]) -> Result<Info, Failure> {
    let mut reader = HeaderReader {
        // SAFETY: all-zero is the state of a decompress struct before jpeg_create_decompress.
        cinfo: Box::new(unsafe { std::mem::zeroed() }),
        _error: ErrorManager::new(),
    };
    reader.cinfo.common.err = reader._error.pointer();
    guarded(|| {
        let cinfo = &mut *reader.cinfo;
        // SAFETY: the error manager lives as long as the struct; `bytes` outlives the
        // reader; a libjpeg error unwinds to `guarded`, after which the reader is only
        // destroyed. After jpeg_read_header, `comp_info` holds `num_components` entries.
        unsafe {
            jpeg_create_decompress(cinfo);
            jpeg_mem_src(cinfo, bytes.as_ptr(), bytes.len() as c_ulong);
            jpeg_read_header(cinfo, 1);
            let components =
                std::slice::from_raw_parts(cinfo.comp_info, cinfo.num_components as usize);
            let sampling: Vec<_> = components
                .iter()
                .map(|c| (c.h_samp_factor, c.v_samp_factor))
                .collect();
            Info {
                width: cinfo.image_width,
                height: cinfo.image_height,
                colour_space: cinfo.jpeg_color_space,
                ycbcr_420: cinfo.jpeg_color_space == J_COLOR_SPACE::JCS_YCbCr
                    && sampling == [(2, 2), (1, 1), (1, 1)],
            }
        }
    })
    .map_err(|error| failed("JPEG")(format!("unreadable header ({})", error.message)))
}

/// A TurboJPEG decompressor.
struct Decompressor(tj::Handle);

impl Decompressor {
    fn new() -> Result<Self, Failure> {
        // SAFETY: tjInitDecompress has no preconditions; it returns null only when out of memory.
        let handle = unsafe { tj::tjInitDecompress() };
        if handle.is_null() {
            return Err(failed("JPEG")("cannot make a decompressor"));
        }
        Ok(Decompressor(handle))
    }

    /// A TurboJPEG return code as a result, with the library's own message.
    fn status(&self, status: c_int) -> Result<(), Failure> {
        if status == 0 {
            return Ok(());
        }
        // SAFETY: the handle is live; TurboJPEG returns a NUL-terminated string it owns.
        let message = unsafe { CStr::from_ptr(tj::tjGetErrorStr2(self.0)) };
        Err(failed("JPEG")(message.to_string_lossy()))
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInitDecompress and is destroyed once, here.
        unsafe { tj::tjDestroy(self.0) };
    }
}

/// The size TurboJPEG decodes to at 1/`shrink` (its sizes round up).
fn scaled(info: &Info, shrink: u32) -> (u32, u32) {
    (info.width.div_ceil(shrink), info.height.div_ceil(shrink))
}

pub fn header(bytes: &[u8]) -> Result<Header, Failure> {
    let info = info(bytes)?;
    let orientation = segments(bytes)
        .find(|(marker, payload)| *marker == 0xE1 && payload.starts_with(b"Exif\0\0"))
        .map_or(1, |(_, payload)| exif::orientation(payload));
    Ok(Header {
        width: info.width,
        height: info.height,
        orientation,
    })
}

/// The size `decode` gives at 1/`shrink`: the scaled IDCT rounds sizes up, but libvips
/// drops the partial last row and column, and sharp's output sizes follow from that.
pub fn decoded_size(width: u32, height: u32, shrink: u32) -> (u32, u32) {
    ((width / shrink).max(1), (height / shrink).max(1))
}

/// Decoded at 1/`shrink` of its size.
pub fn decode(bytes: &[u8], shrink: u32) -> Result<Image, Failure> {
    let info = info(bytes)?;
    let decompressor = Decompressor::new()?;
    let (format, channels) = match info.colour_space {
        J_COLOR_SPACE::JCS_GRAYSCALE => (tj::PF_GRAY, 1),
        J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK => (tj::PF_CMYK, 4),
        _ => (tj::PF_RGB, 3),
    };
    let (width, height) = scaled(&info, shrink);
    let pitch = width as usize * channels;
    let mut pixels = vec![0; pitch * height as usize];
    // SAFETY: the handle is live; `pixels` holds `height` rows of `pitch` bytes, which is
    // what TurboJPEG writes for this size (it picks the 1/`shrink` scale from it).
    let status = unsafe {
        tj::tjDecompress2(
            decompressor.0,
            bytes.as_ptr(),
            bytes.len() as c_ulong,
            pixels.as_mut_ptr(),
            width as c_int,
            pitch as c_int,
            height as c_int,
            format,
            DECODE_FLAGS,
        )
    };
    decompressor.status(status)?;
    if format == tj::PF_CMYK {
        pixels = cmyk_to_rgb(&pixels, adobe_inverted(bytes));
    }
    let channels = if format == tj::PF_CMYK {
        3
    } else {
        channels as u8
    };
    let (keep_width, keep_height) = decoded_size(info.width, info.height, shrink);
    Ok(Image::new(width, height, channels, pixels).crop(0, 0, keep_width, keep_height))
}

/// A YCbCr 4:2:0 JPEG as its planes: luma at full size, each chroma plane at half.
pub struct Planes {
    pub luma: Image,
    pub blue: Image,
    pub red: Image,
}

/// The half-size (rounded up) of a 4:2:0 chroma plane.
pub fn chroma_size(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(2), height.div_ceil(2))
}

/// Decoded at 1/`shrink` to planes, skipping colour conversion and chroma upsampling; None
/// when the file is not YCbCr 4:2:0 (then `decode` is the way).
pub fn decode_planes(bytes: &[u8], shrink: u32) -> Result<Option<Planes>, Failure> {
    let info = info(bytes)?;
    if !info.ycbcr_420 {
        return Ok(None);
    }
    let decompressor = Decompressor::new()?;
    let (width, height) = scaled(&info, shrink);
    // TurboJPEG's planes cover whole 2 × 2 blocks: luma is padded to even sizes.
    let (luma_width, luma_height) = (width.next_multiple_of(2), height.next_multiple_of(2));
    let (chroma_width, chroma_height) = chroma_size(width, height);
    let mut luma = vec![0; (luma_width * luma_height) as usize];
    let mut blue = vec![0; (chroma_width * chroma_height) as usize];
    let mut red = vec![0; blue.len()];
    let mut planes = [luma.as_mut_ptr(), blue.as_mut_ptr(), red.as_mut_ptr()];
    let mut strides = [luma_width, chroma_width, chroma_width].map(|w| w as c_int);
    // SAFETY: the handle is live; each plane holds its stride times its height (luma padded
    // to even sizes, chroma half of that), the sizes TurboJPEG writes for 4:2:0 at this scale.
    let status = unsafe {
        tj::tjDecompressToYUVPlanes(
            decompressor.0,
            bytes.as_ptr(),
            bytes.len() as c_ulong,
            planes.as_mut_ptr(),
            width as c_int,
            strides.as_mut_ptr(),
            height as c_int,
            DECODE_FLAGS,
        )
    };
    decompressor.status(status)?;
    let (keep_width, keep_height) = decoded_size(info.width, info.height, shrink);
    let (keep_chroma_width, keep_chroma_height) = chroma_size(keep_width, keep_height);
    let chroma = |plane| {
        Image::new(chroma_width, chroma_height, 1, plane).crop(
            0,
            0,
            keep_chroma_width,
            keep_chroma_height,
        )
    };
    Ok(Some(Planes {
        luma: Image::new(luma_width, luma_height, 1, luma).crop(0, 0, keep_width, keep_height),
        blue: chroma(blue),
        red: chroma(red),
    }))
}

/// Planes encoded as they are (no colour conversion, no chroma downsampling), with the
/// settings of `encode`.
pub fn encode_planes(planes: Planes, quality: u8) -> Result<Vec<u8>, Failure> {
    let Planes { luma, blue, red } = planes;
    let (width, height) = (luma.width, luma.height);
    // libjpeg reads whole 16 × 16 luma and 8 × 8 chroma blocks: the planes are padded to
    // them by repeating their last column and row.
    let (padded_width, padded_height) = (width.next_multiple_of(16), height.next_multiple_of(16));
    let luma = luma.padded_to(padded_width, padded_height);
    let [blue, red] = [blue, red].map(|plane| plane.padded_to(padded_width / 2, padded_height / 2));
    let settings = Settings {
        width,
        height,
        space: J_COLOR_SPACE::JCS_YCbCr,
        components: 3,
        quality,
        raw: true,
    };
    compress(settings, |cinfo| {
        let rows = |plane: &[u8], stride: u32, first: u32, count: u32| -> Vec<*const u8> {
            (first..first + count)
                .map(|y| plane[(y * stride) as usize..].as_ptr())
                .collect()
        };
        for top in (0..padded_height).step_by(16) {
            let luma_rows = rows(&luma, padded_width, top, 16);
            let blue_rows = rows(&blue, padded_width / 2, top / 2, 8);
            let red_rows = rows(&red, padded_width / 2, top / 2, 8);
            let image = [luma_rows.as_ptr(), blue_rows.as_ptr(), red_rows.as_ptr()];
            // SAFETY: compression has started in raw mode; each row pointer is to a row of
            // its padded plane, 16 luma and 8 chroma rows, as one call for 4:2:0 reads.
            unsafe { jpeg_write_raw_data(cinfo, image.as_ptr(), 16) };
        }
    })
}

/// Baseline JPEG with sharp's defaults: 4:2:0 chroma, optimised Huffman tables; grey stays
/// grey; alpha is flattened away.
pub fn encode(image: Image, quality: u8) -> Result<Vec<u8>, Failure> {
    let image = image.without_alpha();
    let space = if image.channels == 1 {
        J_COLOR_SPACE::JCS_GRAYSCALE
    } else {
        J_COLOR_SPACE::JCS_RGB
    };
    let settings = Settings {
        width: image.width,
        height: image.height,
        space,
        components: c_int::from(image.channels),
        quality,
        raw: false,
    };
    let row_len = image.width as usize * image.channels as usize;
    let rows: Vec<*const u8> = image
        .pixels
        .chunks_exact(row_len)
        .map(<[u8]>::as_ptr)
        .collect();
    compress(settings, |cinfo| {
        while cinfo.next_scanline < cinfo.image_height {
            let next = &rows[cinfo.next_scanline as usize..];
            // SAFETY: compression has started; each pointer is to a whole row of the image.
            unsafe { jpeg_write_scanlines(cinfo, next.as_ptr(), next.len() as u32) };
        }
    })
}

struct Settings {
    width: u32,
    height: u32,
    space: J_COLOR_SPACE,
    components: c_int,
    quality: u8,
    /// Whether `write` gives downsampled planes (`jpeg_write_raw_data`) instead of rows.
    raw: bool,
}

/// What a libjpeg error unwinds with, from `raise` to `compress`.
struct LibjpegError(String);

/// libjpeg's `error_exit`, which must not return: unwinds to `compress` (mozjpeg-sys builds
/// the C code with unwind tables for this), without the panic hook's message.
extern "C-unwind" fn raise(cinfo: &mut jpeg_common_struct) {
    type FormatMessage = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut [u8; 80]);
    let mut buffer = [0u8; 80];
    // SAFETY: `err` is the error manager `compress` installed, whose format_message is
    // libjpeg's own: it writes a NUL-terminated message of at most 80 bytes (JMSG_LENGTH_MAX)
    // into its buffer, which mozjpeg-sys declares as a shared reference; a pointer has the
    // same ABI and lets it write.
    let message = unsafe {
        let format: FormatMessage =
            std::mem::transmute((*cinfo.err).format_message.expect("libjpeg sets it"));
        format(cinfo, &mut buffer);
        CStr::from_ptr(buffer.as_ptr().cast::<c_char>())
    };
    panic::resume_unwind(Box::new(LibjpegError(
        message.to_string_lossy().into_owned(),
    )));
}

/// Warnings and traces are not printed: a header's warnings come back as errors from the
/// decode that follows, and compressing from memory into memory has none that matter.
extern "C-unwind" fn quiet(_cinfo: &mut jpeg_common_struct, _level: c_int) {}

/// libjpeg's error manager, boxed so that the pointer a libjpeg struct keeps stays valid.
struct ErrorManager(Box<jpeg_error_mgr>);

impl ErrorManager {
    fn new() -> Self {
        // SAFETY: all-zero is the state jpeg_std_error fills in.
        let mut error: Box<jpeg_error_mgr> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `error` is a live, writable error manager.
        unsafe { jpeg_std_error(&mut error) };
        error.error_exit = Some(raise);
        error.emit_message = Some(quiet);
        ErrorManager(error)
    }

    fn pointer(&mut self) -> *mut jpeg_error_mgr {
        &mut *self.0
    }
}

/// Runs libjpeg calls whose errors `raise` unwinds out of, as a Failure.
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, Failure> {
    panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        match payload.downcast::<LibjpegError>() {
            Ok(error) => failed("JPEG")(error.0),
            Err(other) => panic::resume_unwind(other),
        }
    })
}

/// A compressor and the memory it writes to; destroyed and freed however compression ends.
struct Compressor {
    cinfo: Box<jpeg_compress_struct>,
    _error: ErrorManager,
    output: Box<(*mut c_uchar, c_ulong)>,
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: the struct was zeroed, then created or not: jpeg_destroy_compress frees
        // only what libjpeg allocated. The output buffer, if any, was malloc'd by
        // jpeg_mem_dest and is no longer used.
        unsafe {
            jpeg_destroy_compress(&mut self.cinfo);
            if !self.output.0.is_null() {
                libc::free(self.output.0.cast::<c_void>());
            }
        }
    }
}

/// Compresses with libjpeg-turbo's defaults (mozjpeg's `JCP_FASTEST` profile: baseline, no
/// trellis) and optimised Huffman tables; `write` feeds the rows or planes.
fn compress(
    settings: Settings,
    write: impl FnOnce(&mut jpeg_compress_struct),
) -> Result<Vec<u8>, Failure> {
    let mut compressor = Compressor {
        // SAFETY: all-zero is the state of a compress struct before jpeg_create_compress.
        cinfo: Box::new(unsafe { std::mem::zeroed() }),
        _error: ErrorManager::new(),
        output: Box::new((std::ptr::null_mut(), 0)),
    };
    compressor.cinfo.common.err = compressor._error.pointer();
    guarded(|| {
        let Compressor { cinfo, output, .. } = &mut compressor;
        // SAFETY: the error manager and the output live in boxes as long as the struct, so
        // the pointers libjpeg keeps stay valid; the calls follow libjpeg's order (create,
        // parameters, destination, start), and `raise` unwinds out of any of them to
        // `guarded`, after which the compressor is only destroyed.
        unsafe {
            jpeg_create_compress(&mut **cinfo);
            cinfo.image_width = settings.width;
            cinfo.image_height = settings.height;
            cinfo.input_components = settings.components;
            cinfo.in_color_space = settings.space;
            jpeg_c_set_int_param(
                cinfo,
                J_INT_PARAM::JINT_COMPRESS_PROFILE,
                JCP_FASTEST as c_int,
            );
            jpeg_set_defaults(cinfo);
            jpeg_set_quality(cinfo, c_int::from(settings.quality), 1);
            cinfo.optimize_coding = 1;
            cinfo.raw_data_in = boolean::from(settings.raw);
            jpeg_mem_dest(cinfo, &mut output.0, &mut output.1);
            jpeg_start_compress(cinfo, 1);
        }
        write(cinfo);
        // SAFETY: every row has been written.
        unsafe { jpeg_finish_compress(cinfo) };
        // SAFETY: jpeg_mem_dest points `output` at the `output.1` bytes it wrote.
        unsafe { std::slice::from_raw_parts(output.0, output.1 as usize) }.to_vec()
    })
}

/// The marker segments before the image data: (marker, payload).
fn segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut at = 2; // after SOI
    std::iter::from_fn(move || {
        let marker = *bytes.get(at + 1)?;
        // SOS starts the entropy-coded data; EOI ends the file.
        if bytes[at] != 0xFF || marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let payload = bytes.get(at + 4..(at + 2 + len).max(at + 4))?;
        at += 2 + len;
        Some((marker, payload))
    })
}

/// Whether CMYK samples are stored inverted, as Adobe's APP14 marker says they are.
fn adobe_inverted(bytes: &[u8]) -> bool {
    segments(bytes).any(|(marker, payload)| marker == 0xEE && payload.starts_with(b"Adobe"))
}

/// A plain (profile-free) CMYK to RGB conversion.
fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    cmyk.chunks_exact(4)
        .flat_map(|p| {
            let ink = |v: u8| {
                if inverted {
                    u32::from(v)
                } else {
                    255 - u32::from(v)
                }
            };
            let k = ink(p[3]);
            [0, 1, 2].map(|c| ((ink(p[c]) * k + 127) / 255) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32, channels: u8) -> Image {
        let pixels = (0..width * height * u32::from(channels))
            .map(|i| (i % 251) as u8)
            .collect();
        Image::new(width, height, channels, pixels)
    }

    #[test]
    fn round_trips_colour_and_grey_and_decodes_at_a_scale() {
        for channels in [1, 3] {
            let jpeg = encode(gradient(64, 48, channels), 90).unwrap();
            let header = header(&jpeg).unwrap();
            assert_eq!(
                (header.width, header.height, header.orientation),
                (64, 48, 1)
            );
            let full = decode(&jpeg, 1).unwrap();
            assert_eq!((full.width, full.height, full.channels), (64, 48, channels));
            let half = decode(&jpeg, 2).unwrap();
            assert_eq!((half.width, half.height), (32, 24));
            let eighth = decode(&jpeg, 8).unwrap();
            assert_eq!((eighth.width, eighth.height), (8, 6));
        }
    }

    #[test]
    fn planes_round_trip_at_odd_sizes_and_decode_at_a_scale() {
        let (width, height) = (37, 21);
        let (chroma_width, chroma_height) = chroma_size(width, height);
        let planes = Planes {
            luma: gradient(width, height, 1),
            blue: Image::new(
                chroma_width,
                chroma_height,
                1,
                vec![90; (chroma_width * chroma_height) as usize],
            ),
            red: Image::new(
                chroma_width,
                chroma_height,
                1,
                vec![170; (chroma_width * chroma_height) as usize],
            ),
        };
        let original = planes.luma.pixels.clone();
        let jpeg = encode_planes(planes, 95).unwrap();
        let decoded = decode_planes(&jpeg, 1).unwrap().expect("4:2:0 YCbCr");
        assert_eq!((decoded.luma.width, decoded.luma.height), (width, height));
        assert_eq!(
            (decoded.red.width, decoded.red.height),
            (chroma_width, chroma_height)
        );
        let error: u32 = (decoded.luma.pixels.iter().zip(&original))
            .map(|(&a, &b)| u32::from(a.abs_diff(b)))
            .sum();
        assert!(error / original.len() as u32 <= 4, "mean error {error}");
        assert!(decoded.red.pixels.iter().all(|&v| v.abs_diff(170) <= 2));
        let half = decode_planes(&jpeg, 2).unwrap().expect("4:2:0 YCbCr");
        assert_eq!(
            (half.luma.width, half.luma.height),
            decoded_size(width, height, 2)
        );
        assert_eq!((half.blue.width, half.blue.height), chroma_size(18, 10));
        let grey = encode(gradient(16, 16, 1), 80).unwrap();
        assert!(decode_planes(&grey, 1).unwrap().is_none());
    }

    #[test]
    fn finds_the_orientation_in_app1() {
        let jpeg = encode(gradient(16, 8, 3), 80).unwrap();
        let exif = exif::tests::exif_with_orientation(6, true);
        let mut tagged = jpeg[..2].to_vec();
        tagged.extend([0xFF, 0xE1]);
        tagged.extend(((exif.len() + 2) as u16).to_be_bytes());
        tagged.extend(&exif);
        tagged.extend(&jpeg[2..]);
        assert_eq!(header(&tagged).unwrap().orientation, 6);
        assert_eq!(decode(&tagged, 1).unwrap().width, 16);
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors_not_crashes() {
        let jpeg = encode(gradient(64, 64, 3), 80).unwrap();
        assert!(header(b"\xFF\xD8\xFF").is_err());
        // Tables and no image: nothing to resize.
        assert!(header(b"\xFF\xD8\xFF\xD9").is_err());
        assert!(decode(&jpeg[..jpeg.len() / 2], 1).is_err());
        let mut flipped = jpeg.clone();
        for i in (200..flipped.len()).step_by(97) {
            flipped[i] ^= 0x5A;
        }
        let _ = decode(&flipped, 1);
    }

    #[test]
    fn cmyk_converts_with_and_without_adobe_inversion() {
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], false), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 255], true), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[0, 255, 255, 0], false), [255, 0, 0]);
    }
}
