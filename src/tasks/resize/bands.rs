//! Large resamples cut into bands of target rows, each a part for any free thread, and the
//! rows of an image still being decoded, which bands read as they arrive.

use super::pixels::{filter, pixel_type, resize_failed, Image, Kernel};
use crate::error::Failure;
use crate::pool::Ctx;
use fast_image_resize as fir;
use parking_lot::{Condvar, Mutex};
use std::marker::PhantomData;
use std::ops::Range;

/// Source pixels under a band, about: a millisecond or two of resampling, against the tenth
/// of a millisecond each band spends on its own filter weights; and a band waiting for a PNG's
/// rows to be decoded waits for this many at most, a few tens of milliseconds. An image is
/// resampled in bands only if it makes two or more, from about 4 megapixels.
const SOURCE_PIXELS_PER_BAND: f64 = 2_097_152.0;
/// Target rows per band, at least, however far the image shrinks.
const MIN_ROWS_PER_BAND: u32 = 8;
/// Source rows premultiplied per part.
const ROWS_PER_PREMULTIPLY: usize = 64;

/// How a large resample is cut: into bands of target rows that each read about
/// `SOURCE_PIXELS_PER_BAND` source pixels, each resampled
/// on its own from the source rows under it (the band's span, plus the filter's reach), so
/// that bands can run on any free thread, and even before the rows below them are decoded.
/// A band's span is its rows times the scale, rounded as a float is: a weight may round the
/// other way than in one resample of the whole, moving a sample by at most 2 levels. The
/// bands are fixed by the sizes alone, so the result is the same however many threads help.
pub struct Bands {
    source: (u32, u32),
    target: (u32, u32),
    channels: u8,
    filter: fir::FilterType,
    /// Source rows per target row.
    scale: f64,
    /// How far, in source rows, the filter reaches from a target row's centre.
    reach: f64,
    rows_per_band: u32,
}

/// A band's number, its target rows, and how resampling them went.
pub type BandPart<'t> = (usize, &'t mut [u8], Result<(), Failure>);

impl Bands {
    /// None when the resample is small or uses the nearest pixel: then it is done in one go.
    pub fn new(
        source: (u32, u32),
        target: (u32, u32),
        channels: u8,
        kernel: Kernel,
    ) -> Option<Bands> {
        let bands = Self::reading(SOURCE_PIXELS_PER_BAND, source, target, channels, kernel)?;
        (target.1 >= 2 * bands.rows_per_band).then_some(bands)
    }

    /// Bands that each read about `source_pixels` source pixels, however few they make.
    pub(super) fn reading(
        source_pixels: f64,
        source: (u32, u32),
        target: (u32, u32),
        channels: u8,
        kernel: Kernel,
    ) -> Option<Bands> {
        let filter = filter(kernel)?;
        let support = match kernel {
            Kernel::Linear => 1.0,
            Kernel::Lanczos3 => 3.0,
            _ => 2.0,
        };
        let scale = f64::from(source.1) / f64::from(target.1);
        let rows_per_band = (source_pixels / f64::from(source.0) / scale).round() as u32;
        Some(Bands {
            source,
            target,
            channels,
            filter,
            scale,
            reach: support * scale.max(1.0),
            rows_per_band: rows_per_band.max(MIN_ROWS_PER_BAND),
        })
    }

    /// The source span of band `k`, in source rows (fractional).
    fn span(&self, k: usize) -> (f64, f64) {
        let first = k as u32 * self.rows_per_band;
        let end = (first + self.rows_per_band).min(self.target.1);
        let top = f64::from(first) * self.scale;
        // The last band ends where the image does, whatever the rounding of its top.
        let bottom = if end == self.target.1 {
            f64::from(self.source.1)
        } else {
            f64::from(end) * self.scale
        };
        (top, bottom)
    }

    /// The source rows band `k` reads.
    pub fn source_rows(&self, k: usize) -> Range<usize> {
        let (top, bottom) = self.span(k);
        let first = (top - self.reach).floor().max(0.0) as usize;
        let end = ((bottom + self.reach).ceil() as usize + 1).min(self.source.1 as usize);
        first.saturating_sub(1)..end
    }

    pub fn target_image(&self) -> Image {
        let len = self.target.0 as usize * self.target.1 as usize * self.channels as usize;
        Image::new(self.target.0, self.target.1, self.channels, vec![0; len])
    }

    /// The bands of `target`, each to be resampled as a part.
    pub fn parts<'t>(&self, target: &'t mut Image) -> Vec<BandPart<'t>> {
        let band_len = target.row_len() * self.rows_per_band as usize;
        let bands = target.pixels.chunks_mut(band_len).enumerate();
        bands.map(|(k, rows)| (k, rows, Ok(()))).collect()
    }

    /// Premultiplies alpha in these whole source rows, before any band reads them.
    pub fn premultiply(&self, rows: &mut [u8]) {
        if self.channels.is_multiple_of(2) {
            let height = (rows.len() / (self.source.0 as usize * self.channels as usize)) as u32;
            let mut block = fir::images::Image::from_slice_u8(
                self.source.0,
                height,
                rows,
                pixel_type(self.channels),
            )
            .expect("whole rows");
            fir::MulDiv::default()
                .multiply_alpha_inplace(&mut block)
                .expect("a pixel type with alpha");
        }
    }

    /// Resamples band `k` into `target` (its rows) from `source`, the rows `source_rows(k)`.
    pub fn resample(&self, k: usize, source: &[u8], target: &mut [u8]) -> Result<(), Failure> {
        let pixel_type = pixel_type(self.channels);
        let first = self.source_rows(k).start;
        let height = (source.len() / (self.source.0 as usize * self.channels as usize)) as u32;
        let source = fir::images::ImageRef::new(self.source.0, height, source, pixel_type)
            .map_err(resize_failed)?;
        let rows = (target.len() / (self.target.0 as usize * self.channels as usize)) as u32;
        let mut band = fir::images::Image::from_slice_u8(self.target.0, rows, target, pixel_type)
            .map_err(resize_failed)?;
        let (top, bottom) = self.span(k);
        let options = fir::ResizeOptions::new()
            .resize_alg(fir::ResizeAlg::Convolution(self.filter))
            .use_alpha(false)
            .crop(
                0.0,
                top - first as f64,
                f64::from(self.source.0),
                bottom - top,
            );
        fir::Resizer::new()
            .resize(&source, &mut band, &options)
            .map_err(resize_failed)?;
        if self.channels.is_multiple_of(2) {
            fir::MulDiv::default()
                .divide_alpha_inplace(&mut band)
                .map_err(resize_failed)?;
        }
        Ok(())
    }

    /// `image` (the source) premultiplied, then resampled band by band, each a part on
    /// any free thread.
    pub(super) fn resample_image(&self, mut image: Image, ctx: &Ctx) -> Result<Image, Failure> {
        let row_len = image.row_len();
        let mut blocks: Vec<&mut [u8]> = image
            .pixels
            .chunks_mut(row_len * ROWS_PER_PREMULTIPLY)
            .collect();
        ctx.for_each(&mut blocks, |rows| self.premultiply(rows));
        let mut target = self.target_image();
        let mut parts = self.parts(&mut target);
        ctx.for_each(&mut parts, |(k, rows, result)| {
            let needed = self.source_rows(*k);
            let source = &image.pixels[needed.start * row_len..needed.end * row_len];
            *result = self.resample(*k, source, rows);
        });
        self.finish(parts, ctx)?;
        Ok(target)
    }

    /// The first failure of the parts, or cancellation (parts skipped leave bands empty).
    pub fn finish(&self, parts: Vec<BandPart<'_>>, ctx: &Ctx) -> Result<(), Failure> {
        if ctx.cancelled() {
            return Err(Failure::cancelled());
        }
        parts.into_iter().try_for_each(|(_, _, result)| result)
    }
}

/// A source image decoded a block of rows at a time by one part, while band parts read the
/// rows already handed over.
pub struct ArrivingRows<'p> {
    base: *mut u8,
    len: usize,
    row_len: usize,
    arrived: Mutex<Arrived>,
    grown: Condvar,
    _pixels: PhantomData<&'p mut [u8]>,
}

struct Arrived {
    /// Rows handed over: written, and never written again.
    rows: usize,
    /// The writer stopped (done, failed or cancelled): no more rows will come.
    ended: bool,
}

// SAFETY: rows are written by one thread before they are handed over under the lock, and only
// read after, by any thread: a row is never written and read at once.
unsafe impl Sync for ArrivingRows<'_> {}
// SAFETY: as for Sync; the pixels are plain bytes.
unsafe impl Send for ArrivingRows<'_> {}

impl<'p> ArrivingRows<'p> {
    pub fn new(pixels: &'p mut [u8], row_len: usize) -> Self {
        ArrivingRows {
            base: pixels.as_mut_ptr(),
            len: pixels.len(),
            row_len,
            arrived: Mutex::new(Arrived {
                rows: 0,
                ended: false,
            }),
            grown: Condvar::new(),
            _pixels: PhantomData,
        }
    }

    /// The writer's next `count` rows from `first`.
    ///
    /// # Safety
    /// Only one thread writes; it asks for each row once, and only for rows not yet handed
    /// over.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn rows_mut(&self, first: usize, count: usize) -> &mut [u8] {
        let (start, len) = (first * self.row_len, count * self.row_len);
        assert!(start + len <= self.len, "rows within the image");
        // SAFETY: within the image (checked); no one else reaches these rows until they
        // are handed over (the caller's promise).
        unsafe { std::slice::from_raw_parts_mut(self.base.add(start), len) }
    }

    /// The rows before `rows` are written: bands may read them.
    pub fn hand_over(&self, rows: usize) {
        self.arrived.lock().rows = rows;
        self.grown.notify_all();
    }

    /// Ends the rows when dropped, however the writer stops (a panic too), so that no band
    /// waits for rows that will not come.
    pub fn end_on_drop(&self) -> impl Drop + '_ {
        struct Ends<'a, 'p>(&'a ArrivingRows<'p>);
        impl Drop for Ends<'_, '_> {
            fn drop(&mut self) {
                self.0.arrived.lock().ended = true;
                self.0.grown.notify_all();
            }
        }
        Ends(self)
    }

    /// These rows, once they have arrived; None if the writer stopped before.
    pub fn wait_for(&self, rows: Range<usize>) -> Option<&[u8]> {
        let mut arrived = self.arrived.lock();
        while arrived.rows < rows.end {
            if arrived.ended {
                return None;
            }
            self.grown.wait(&mut arrived);
        }
        drop(arrived);
        let (start, len) = (rows.start * self.row_len, rows.len() * self.row_len);
        // SAFETY: handed over (under the lock just released), so written and never written
        // again; within the image, since no more rows than it has are handed over.
        Some(unsafe { std::slice::from_raw_parts(self.base.add(start), len) })
    }
}
