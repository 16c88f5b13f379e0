//! WebP through libwebp: lossy and lossless in, lossy out at sharp's defaults (method 4,
//! lossless alpha).

use super::pixels::Image;
use super::{exif, failed, Header};
use crate::error::Failure;
use libwebp_sys as webp;
use std::ffi::c_int;

struct Features {
    width: u32,
    height: u32,
    has_alpha: bool,
}

fn features(bytes: &[u8]) -> Result<Features, Failure> {
    let mut features = webp::WebPBitstreamFeatures {
        width: 0,
        height: 0,
        has_alpha: 0,
        has_animation: 0,
        format: 0,
        pad: [0; 5],
    };
    // SAFETY: libwebp reads at most `bytes.len()` bytes and writes only `features`.
    let status = unsafe { webp::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut features) };
    if status != webp::VP8StatusCode::VP8_STATUS_OK {
        return Err(failed("WebP")(format!("{status:?}")));
    }
    if features.has_animation != 0 {
        return Err(failed("WebP")("animated WebP is not supported"));
    }
    Ok(Features {
        width: features.width as u32,
        height: features.height as u32,
        has_alpha: features.has_alpha != 0,
    })
}

pub fn header(bytes: &[u8]) -> Result<Header, Failure> {
    let Features { width, height, .. } = features(bytes)?;
    let orientation = chunks(bytes)
        .find(|(fourcc, _)| fourcc == b"EXIF")
        .map_or(1, |(_, payload)| exif::orientation(payload));
    Ok(Header {
        width,
        height,
        orientation,
    })
}

/// Decoded at `width` × `height`: libwebp scales while it decodes (sharp's shrink-on-load).
pub fn decode(bytes: &[u8], (width, height): (u32, u32)) -> Result<Image, Failure> {
    let features = features(bytes)?;
    let channels: u8 = if features.has_alpha { 4 } else { 3 };
    let stride = width as usize * usize::from(channels);
    let mut pixels = vec![0; stride * height as usize];
    let mut config = webp::WebPDecoderConfig::new()
        .map_err(|()| failed("WebP")("libwebp's decoder does not match its headers"))?;
    if (width, height) != (features.width, features.height) {
        config.options.use_scaling = 1;
        config.options.scaled_width = width as c_int;
        config.options.scaled_height = height as c_int;
    }
    config.output.colorspace = if features.has_alpha {
        webp::WEBP_CSP_MODE::MODE_RGBA
    } else {
        webp::WEBP_CSP_MODE::MODE_RGB
    };
    config.output.is_external_memory = 1;
    config.output.u.RGBA = webp::WebPRGBABuffer {
        rgba: pixels.as_mut_ptr(),
        stride: stride as c_int,
        size: pixels.len(),
    };
    // SAFETY: libwebp reads `bytes` and writes within `pixels`, whose size and stride the
    // config gives; the buffer is external, so freeing the config's buffer frees nothing of ours.
    let status = unsafe {
        let status = webp::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        webp::WebPFreeDecBuffer(&mut config.output);
        status
    };
    if status != webp::VP8StatusCode::VP8_STATUS_OK {
        return Err(failed("WebP")(format!(
            "the image data is corrupt or truncated ({status:?})"
        )));
    }
    Ok(Image::new(width, height, channels, pixels))
}

pub fn encode(image: Image, quality: u8) -> Result<Vec<u8>, Failure> {
    let image = image.into_colour();
    let encode = if image.has_alpha() {
        webp::WebPEncodeRGBA
    } else {
        webp::WebPEncodeRGB
    };
    let stride = image.width as usize * usize::from(image.channels);
    let mut output = std::ptr::null_mut();
    // SAFETY: libwebp reads `height` rows of `stride` bytes from `pixels` and hands back a
    // buffer of the returned size, which we copy and free with WebPFree.
    unsafe {
        let size = encode(
            image.pixels.as_ptr(),
            image.width as c_int,
            image.height as c_int,
            stride as c_int,
            f32::from(quality),
            &mut output,
        );
        if output.is_null() || size == 0 {
            return Err(failed("WebP")("the encoder failed"));
        }
        let encoded = std::slice::from_raw_parts(output, size).to_vec();
        webp::WebPFree(output.cast());
        Ok(encoded)
    }
}

/// The chunks of a RIFF WebP file: (FourCC, payload).
fn chunks(bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 12; // after "RIFF", the size and "WEBP"
    std::iter::from_fn(move || {
        let fourcc: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        let size = u32::from_le_bytes(bytes.get(at + 4..at + 8)?.try_into().ok()?) as usize;
        let payload = bytes.get(at + 8..(at + 8).checked_add(size)?)?;
        at += 8 + size + size % 2;
        Some((fourcc, payload))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_and_without_alpha() {
        for channels in [3, 4] {
            let pixels: Vec<u8> = (0..48 * 32 * channels).map(|i| (i / 7) as u8).collect();
            let webp = encode(Image::new(48, 32, channels as u8, pixels), 90).unwrap();
            let header = header(&webp).unwrap();
            assert_eq!(
                (header.width, header.height, header.orientation),
                (48, 32, 1)
            );
            let decoded = decode(&webp, (48, 32)).unwrap();
            assert_eq!((decoded.width, decoded.height), (48, 32));
            assert_eq!(decoded.channels, channels as u8);
            let half = decode(&webp, (24, 16)).unwrap();
            assert_eq!(
                (half.width, half.height, half.channels),
                (24, 16, channels as u8)
            );
        }
    }

    #[test]
    fn truncated_files_are_errors() {
        let webp = encode(Image::new(64, 64, 3, vec![90; 64 * 64 * 3]), 80).unwrap();
        for end in [0, 12, 30, webp.len() - 1] {
            assert!(decode(&webp[..end], (64, 64)).is_err(), "cut at {end}");
        }
    }
}
