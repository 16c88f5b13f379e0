//! JPEG through libjpeg-turbo (SIMD): header first, decode at 1/2, 1/4 or 1/8 scale in the
//! IDCT when the resize allows (sharp's shrink-on-load), encode as sharp does by default.

use super::pixels::Image;
use super::{exif, failed, Header};
use crate::error::Failure;
use turbojpeg::{
    Colorspace, Compressor, DecompressHeader, Decompressor, PixelFormat, ScalingFactor, Subsamp,
};

/// Progressive scans allowed before a file counts as hostile (libjpeg-turbo's advice: a
/// crafted file with thousands of scans costs minutes).
const SCAN_LIMIT: u32 = 500;

pub fn header(bytes: &[u8]) -> Result<Header, Failure> {
    let header = Decompressor::new()
        .and_then(|mut d| d.read_header(bytes))
        .map_err(|error| failed("JPEG")(format!("unreadable header ({error})")))?;
    let orientation = segments(bytes)
        .find(|(marker, payload)| *marker == 0xE1 && payload.starts_with(b"Exif\0\0"))
        .map_or(1, |(_, payload)| exif::orientation(payload));
    Ok(Header {
        width: header.width as u32,
        height: header.height as u32,
        orientation,
    })
}

/// The size `decode` gives at 1/`shrink`: the scaled IDCT rounds sizes up, but libvips
/// drops the partial last row and column, and sharp's output sizes follow from that.
pub fn decoded_size(width: u32, height: u32, shrink: u32) -> (u32, u32) {
    ((width / shrink).max(1), (height / shrink).max(1))
}

/// A decompressor set to decode at 1/`shrink`, and the file's header (at full size).
fn open(
    bytes: &[u8],
    shrink: u32,
) -> Result<(Decompressor, DecompressHeader, ScalingFactor), Failure> {
    let mut decompressor = Decompressor::new().map_err(failed("JPEG"))?;
    decompressor
        .set_scan_limit(SCAN_LIMIT)
        .map_err(failed("JPEG"))?;
    let scale = ScalingFactor::new(1, shrink as usize);
    decompressor
        .set_scaling_factor(scale)
        .map_err(failed("JPEG"))?;
    let full = decompressor.read_header(bytes).map_err(failed("JPEG"))?;
    Ok((decompressor, full, scale))
}

/// Decoded at 1/`shrink` of its size.
pub fn decode(bytes: &[u8], shrink: u32) -> Result<Image, Failure> {
    let (mut decompressor, full, scale) = open(bytes, shrink)?;
    let header = full.scaled(scale);
    let (format, channels) = match header.colorspace {
        Colorspace::Gray => (PixelFormat::GRAY, 1),
        Colorspace::CMYK | Colorspace::YCCK => (PixelFormat::CMYK, 4),
        _ => (PixelFormat::RGB, 3),
    };
    let (width, height) = (header.width, header.height);
    let mut pixels = vec![0; width * height * channels];
    decompressor
        .decompress(
            bytes,
            turbojpeg::Image {
                pixels: pixels.as_mut_slice(),
                width,
                pitch: width * channels,
                height,
                format,
            },
        )
        .map_err(failed("JPEG"))?;
    if format == PixelFormat::CMYK {
        pixels = cmyk_to_rgb(&pixels, adobe_inverted(bytes));
    }
    let channels = if format == PixelFormat::CMYK {
        3
    } else {
        channels as u8
    };
    let (keep_width, keep_height) = decoded_size(full.width as u32, full.height as u32, shrink);
    Ok(
        Image::new(width as u32, height as u32, channels, pixels).crop(
            0,
            0,
            keep_width,
            keep_height,
        ),
    )
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
    let (mut decompressor, full, scale) = open(bytes, shrink)?;
    if full.colorspace != Colorspace::YCbCr || full.subsamp != Subsamp::Sub2x2 {
        return Ok(None);
    }
    let header = full.scaled(scale);
    // TurboJPEG's planes cover whole 2 × 2 blocks: luma is padded to even sizes.
    let (width, height) = (
        (header.width as u32).next_multiple_of(2),
        (header.height as u32).next_multiple_of(2),
    );
    let len = turbojpeg::yuv_pixels_len(header.width, 1, header.height, Subsamp::Sub2x2)
        .map_err(failed("JPEG"))?;
    let mut pixels = vec![0; len];
    decompressor
        .decompress_to_yuv(
            bytes,
            turbojpeg::YuvImage {
                pixels: pixels.as_mut_slice(),
                width: header.width,
                align: 1,
                height: header.height,
                subsamp: Subsamp::Sub2x2,
            },
        )
        .map_err(failed("JPEG"))?;
    let (chroma_width, chroma_height) = chroma_size(width, height);
    let chroma_len = (chroma_width * chroma_height) as usize;
    let red = pixels.split_off(pixels.len() - chroma_len);
    let blue = pixels.split_off(pixels.len() - chroma_len);
    let (luma_width, luma_height) = decoded_size(full.width as u32, full.height as u32, shrink);
    let (keep_width, keep_height) = chroma_size(luma_width, luma_height);
    let chroma = |plane| {
        Image::new(chroma_width, chroma_height, 1, plane).crop(0, 0, keep_width, keep_height)
    };
    Ok(Some(Planes {
        luma: Image::new(width, height, 1, pixels).crop(0, 0, luma_width, luma_height),
        blue: chroma(blue),
        red: chroma(red),
    }))
}

/// Planes encoded as they are (no colour conversion, no chroma downsampling), with the
/// settings of `encode`.
pub fn encode_planes(planes: Planes, quality: u8) -> Result<Vec<u8>, Failure> {
    let Planes { luma, blue, red } = planes;
    let (width, height) = (luma.width as usize, luma.height as usize);
    let mut pixels = luma.padded_to_even();
    pixels.extend_from_slice(&blue.pixels);
    pixels.extend_from_slice(&red.pixels);
    let mut compressor = Compressor::new().map_err(failed("JPEG"))?;
    compressor
        .set_quality(i32::from(quality))
        .and_then(|()| compressor.set_subsamp(Subsamp::Sub2x2))
        .and_then(|()| compressor.set_optimize(true))
        .map_err(failed("JPEG"))?;
    compressor
        .compress_yuv_to_vec(turbojpeg::YuvImage {
            pixels: pixels.as_slice(),
            width,
            align: 1,
            height,
            subsamp: Subsamp::Sub2x2,
        })
        .map_err(failed("JPEG"))
}

/// Baseline JPEG with sharp's defaults: 4:2:0 chroma, optimised Huffman tables; grey stays
/// grey; alpha is flattened away.
pub fn encode(image: Image, quality: u8) -> Result<Vec<u8>, Failure> {
    let image = image.without_alpha();
    let mut compressor = Compressor::new().map_err(failed("JPEG"))?;
    let (format, subsampling) = if image.channels == 1 {
        (PixelFormat::GRAY, Subsamp::Gray)
    } else {
        (PixelFormat::RGB, Subsamp::Sub2x2)
    };
    compressor
        .set_quality(i32::from(quality))
        .and_then(|()| compressor.set_subsamp(subsampling))
        .and_then(|()| compressor.set_optimize(true))
        .map_err(failed("JPEG"))?;
    let width = image.width as usize;
    compressor
        .compress_to_vec(turbojpeg::Image {
            pixels: image.pixels.as_slice(),
            width,
            pitch: width * image.channels as usize,
            height: image.height as usize,
            format,
        })
        .map_err(failed("JPEG"))
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
