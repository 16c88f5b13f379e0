//! Output sizes as sharp computes them (its `ResolveShrink`, libvips' rounding, and the
//! crop / embed that follows), so that every `fit` gives sharp's width and height.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Cover,
    Contain,
    Fill,
    Inside,
    Outside,
}

/// sharp's gravities, by its numbers: 0 centre, 1 north, 2 east, … 8 northwest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gravity(pub u8);

impl Gravity {
    /// Horizontal and vertical placement: 0 start, 1 centre, 2 end.
    fn anchors(self) -> (u8, u8) {
        match self.0 {
            1 => (1, 0),
            2 => (2, 1),
            3 => (1, 2),
            4 => (0, 1),
            5 => (2, 0),
            6 => (2, 2),
            7 => (0, 2),
            8 => (0, 0),
            _ => (1, 1),
        }
    }
}

/// What the user asked for, in the input's display orientation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub without_enlargement: bool,
    pub without_reduction: bool,
}

impl Target {
    /// The target of an image stored turned by 90° or 270°: resizing happens before the
    /// turn, so width and height trade places (sharp does the same).
    pub fn turned(self) -> Self {
        Self {
            width: self.height,
            height: self.width,
            ..self
        }
    }

    /// The factors by which width and height shrink (below 1: grow), sharp's `ResolveShrink`.
    pub fn shrink(&self, width: u32, height: u32) -> (f64, f64) {
        let (w, h) = (f64::from(width), f64::from(height));
        let (mut hshrink, mut vshrink) = match (self.width, self.height) {
            (Some(tw), Some(th)) => {
                let (hs, vs) = (w / f64::from(tw), h / f64::from(th));
                match self.fit {
                    Fit::Cover | Fit::Outside => (hs.min(vs), hs.min(vs)),
                    Fit::Contain | Fit::Inside => (hs.max(vs), hs.max(vs)),
                    Fit::Fill => (hs, vs),
                }
            }
            (Some(tw), None) => {
                let hs = w / f64::from(tw);
                (hs, if self.fit == Fit::Fill { 1.0 } else { hs })
            }
            (None, Some(th)) => {
                let vs = h / f64::from(th);
                (if self.fit == Fit::Fill { 1.0 } else { vs }, vs)
            }
            (None, None) => (1.0, 1.0),
        };
        if self.without_reduction {
            hshrink = hshrink.min(1.0);
            vshrink = vshrink.min(1.0);
        } else if self.without_enlargement {
            hshrink = hshrink.max(1.0);
            vshrink = vshrink.max(1.0);
        }
        // Never shrink an axis to nothing.
        (hshrink.min(w), vshrink.min(h))
    }

    /// The JPEG decoder's own downscale (1, 2, 4 or 8) that sharp picks for this target:
    /// the largest that leaves some reduction to the resampling kernel.
    pub fn jpeg_shrink_on_load(&self, width: u32, height: u32) -> u32 {
        if self.width.is_none() && self.height.is_none() {
            return 1;
        }
        let (hshrink, vshrink) = self.shrink(width, height);
        let shrink = hshrink.min(vshrink);
        let mut factor = [8, 4, 2]
            .into_iter()
            .find(|&f| shrink >= f64::from(f))
            .unwrap_or(1);
        if factor > 1 && shrink as u32 == factor {
            factor /= 2;
        }
        factor
    }

    /// The size sharp has libwebp decode to: scaled by the smaller shrink when it shrinks.
    pub fn webp_size_on_load(&self, width: u32, height: u32) -> (u32, u32) {
        if self.width.is_none() && self.height.is_none() {
            return (width, height);
        }
        let (hshrink, vshrink) = self.shrink(width, height);
        let shrink = hshrink.min(vshrink);
        if shrink <= 1.0 {
            return (width, height);
        }
        // libwebp scales to size × scale, as libvips' loader asks it to.
        let scaled = |size: u32| round(f64::from(size) * (1.0 / shrink));
        (scaled(width), scaled(height))
    }
}

/// libvips' rounding to a whole size (VIPS_ROUND_UINT), never below 1.
fn round(size: f64) -> u32 {
    ((size + 0.5) as u32).max(1)
}

/// The size libvips' `resize` gives for these shrink factors; `nearest` for the nearest
/// kernel, which libvips sizes differently.
pub fn resized(
    width: u32,
    height: u32,
    (hshrink, vshrink): (f64, f64),
    nearest: bool,
) -> (u32, u32) {
    (
        resized_axis(width, hshrink, nearest),
        resized_axis(height, vshrink, nearest),
    )
}

/// One axis as libvips sizes it from sharp's scale (1 / shrink). Growing is an affine:
/// size × scale. Shrinking is a reduce: size ÷ (1 / scale), and the double inversion can
/// move an exact half either way; with the nearest kernel, a subsample by the whole part
/// of half the shrink comes first and the reduce works on what is left.
fn resized_axis(size: u32, shrink: f64, nearest: bool) -> u32 {
    let mut scale = 1.0 / shrink;
    if scale >= 1.0 {
        return round(f64::from(size) * scale);
    }
    let mut size = size;
    if nearest {
        let target = round(f64::from(size) * scale);
        let factor = ((f64::from(size) / f64::from(target) / 2.0).floor() as u32).max(1);
        size /= factor;
        scale *= f64::from(factor);
    }
    round(f64::from(size) / (1.0 / scale))
}

/// After resizing: the region to keep (cover) or the canvas to place the image on (contain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canvas {
    Keep,
    Crop {
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    },
    Embed {
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    },
}

impl Canvas {
    /// The same step for a plane at half the size, as 4:2:0 chroma is, when it exists:
    /// keeping, or cropping at even offsets (odd ones would fall between chroma samples).
    pub fn halved(self) -> Option<Canvas> {
        match self {
            Canvas::Keep => Some(Canvas::Keep),
            Canvas::Crop {
                left,
                top,
                width,
                height,
            } if left % 2 == 0 && top % 2 == 0 => Some(Canvas::Crop {
                left: left / 2,
                top: top / 2,
                width: width.div_ceil(2),
                height: height.div_ceil(2),
            }),
            _ => None,
        }
    }
}

/// sharp's crop / embed step for an image resized to `width` × `height`, turned upright.
pub fn canvas(target: &Target, gravity: Gravity, width: u32, height: u32) -> Canvas {
    let want_width = target.width.unwrap_or(width);
    let want_height = target.height.unwrap_or(height);
    if (want_width, want_height) == (width, height) {
        return Canvas::Keep;
    }
    let (horizontal, vertical) = gravity.anchors();
    // The offset for an anchor (start, centre, end) in `room` spare pixels; sharp rounds a
    // centred crop's offset up and a centred embed's down.
    let place = |anchor: u8, room: u32, round_up: bool| match anchor {
        0 => 0,
        1 if round_up => room.div_ceil(2),
        1 => room / 2,
        _ => room,
    };
    match target.fit {
        Fit::Contain => {
            let (out_width, out_height) = (want_width.max(width), want_height.max(height));
            Canvas::Embed {
                left: place(horizontal, out_width - width, false),
                top: place(vertical, out_height - height, false),
                width: out_width,
                height: out_height,
            }
        }
        Fit::Cover => {
            let (out_width, out_height) = (want_width.min(width), want_height.min(height));
            Canvas::Crop {
                left: place(horizontal, width - out_width, true),
                top: place(vertical, height - out_height, true),
                width: out_width,
                height: out_height,
            }
        }
        Fit::Fill | Fit::Inside | Fit::Outside => Canvas::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(width: Option<u32>, height: Option<u32>, fit: Fit) -> Target {
        Target {
            width,
            height,
            fit,
            without_enlargement: false,
            without_reduction: false,
        }
    }

    #[test]
    fn the_issue_job_shrinks_on_load_by_two_then_resizes_to_the_exact_size() {
        let job = target(Some(720), Some(588), Fit::Cover);
        assert_eq!(job.jpeg_shrink_on_load(2725, 2225), 2);
        let (w, h) = resized(1363, 1113, job.shrink(1363, 1113), false);
        assert_eq!((w, h), (720, 588));
        assert_eq!(canvas(&job, Gravity(0), w, h), Canvas::Keep);
    }

    #[test]
    fn a_centred_cover_crop_rounds_its_offset_up() {
        let t = target(Some(300), Some(300), Fit::Cover);
        let (w, h) = resized(1001, 500, t.shrink(1001, 500), false);
        assert_eq!((w, h), (601, 300));
        let crop = |g| canvas(&t, Gravity(g), w, h);
        assert_eq!(
            crop(0),
            Canvas::Crop {
                left: 151,
                top: 0,
                width: 300,
                height: 300
            }
        );
        assert!(matches!(crop(4), Canvas::Crop { left: 0, .. }));
        assert!(matches!(crop(2), Canvas::Crop { left: 301, .. }));
    }

    #[test]
    fn only_keeping_and_even_crops_halve_for_chroma() {
        let crop = |left, top| Canvas::Crop {
            left,
            top,
            width: 5,
            height: 4,
        };
        assert_eq!(Canvas::Keep.halved(), Some(Canvas::Keep));
        assert_eq!(
            crop(2, 4).halved(),
            Some(Canvas::Crop {
                left: 1,
                top: 2,
                width: 3,
                height: 2
            })
        );
        assert_eq!(crop(1, 0).halved(), None);
        let embed = Canvas::Embed {
            left: 0,
            top: 0,
            width: 2,
            height: 2,
        };
        assert_eq!(embed.halved(), None);
    }

    #[test]
    fn each_fit_keeps_or_breaks_the_aspect_ratio_as_sharp_does() {
        let size = |fit| {
            let t = target(Some(300), Some(300), fit);
            let (w, h) = resized(1000, 500, t.shrink(1000, 500), false);
            match canvas(&t, Gravity(0), w, h) {
                Canvas::Keep => (w, h),
                Canvas::Crop { width, height, .. } | Canvas::Embed { width, height, .. } => {
                    (width, height)
                }
            }
        };
        assert_eq!(size(Fit::Cover), (300, 300));
        assert_eq!(size(Fit::Contain), (300, 300));
        assert_eq!(size(Fit::Fill), (300, 300));
        assert_eq!(size(Fit::Inside), (300, 150));
        assert_eq!(size(Fit::Outside), (600, 300));
    }

    #[test]
    fn contain_centres_with_the_odd_pixel_after_and_places_by_gravity() {
        let t = target(Some(300), Some(300), Fit::Contain);
        let (w, h) = resized(1000, 499, t.shrink(1000, 499), false);
        assert_eq!((w, h), (300, 150));
        let embed = |g| canvas(&t, Gravity(g), w, h);
        assert!(matches!(
            embed(0),
            Canvas::Embed {
                left: 0,
                top: 75,
                ..
            }
        ));
        assert!(matches!(embed(1), Canvas::Embed { top: 0, .. }));
        assert!(matches!(embed(3), Canvas::Embed { top: 150, .. }));
    }

    #[test]
    fn a_half_is_decided_by_the_product_with_the_scale_as_in_libvips() {
        // 300 / (200 / 427) is 640.5, but 300 × (427 / 200) is 640.4999…: sharp gives 640.
        let t = target(Some(641), Some(427), Fit::Inside);
        assert_eq!(resized(300, 200, t.shrink(300, 200), false), (640, 427));
    }

    #[test]
    fn shrinking_divides_by_the_inverted_scale_as_libvips_reduce_does() {
        // 66 ÷ 8.8 and 117 ÷ (78 / 55) are halves: the reduce's double inversion sends the
        // first down and the second up, as sharp's 7 and 83 show.
        let inside = target(Some(83), Some(5), Fit::Inside);
        assert_eq!(resized(66, 44, inside.shrink(66, 44), false), (7, 5));
        let outside = target(Some(28), Some(55), Fit::Outside);
        assert_eq!(resized(117, 78, outside.shrink(117, 78), false).0, 83);
    }

    #[test]
    fn nearest_subsamples_before_it_reduces_as_libvips_does() {
        // 339 ÷ 8.8 is 38.5; libvips subsamples by 4 to 84 rows, then reduces to 38.
        let inside = target(Some(77), Some(355), Fit::Inside);
        assert_eq!(resized(678, 339, inside.shrink(678, 339), true), (77, 38));
        assert_eq!(resized(678, 339, inside.shrink(678, 339), false), (77, 39));
        let thin = target(Some(191), Some(16), Fit::Inside);
        assert_eq!(resized(491, 397, thin.shrink(491, 397), true), (19, 16));
    }

    #[test]
    fn one_side_given_scales_the_other_and_fill_leaves_it_alone() {
        let t = target(Some(100), None, Fit::Cover);
        assert_eq!(resized(1000, 333, t.shrink(1000, 333), false), (100, 33));
        let fill = target(Some(100), None, Fit::Fill);
        assert_eq!(
            resized(1000, 333, fill.shrink(1000, 333), false),
            (100, 333)
        );
    }

    #[test]
    fn without_enlargement_keeps_small_images_and_no_axis_reaches_zero() {
        let mut t = target(Some(4000), Some(4000), Fit::Inside);
        t.without_enlargement = true;
        assert_eq!(t.shrink(800, 600), (1.0, 1.0));
        let thin = target(Some(10), Some(10), Fit::Fill);
        assert_eq!(resized(3, 1000, thin.shrink(3, 1000), false), (10, 10));
        let line = target(Some(1), None, Fit::Inside);
        assert_eq!(resized(1000, 2, line.shrink(1000, 2), false), (1, 1));
    }

    #[test]
    fn shrink_on_load_leaves_an_exact_integer_shrink_to_the_kernel() {
        assert_eq!(
            target(Some(100), None, Fit::Cover).jpeg_shrink_on_load(800, 800),
            4
        );
        assert_eq!(
            target(Some(100), None, Fit::Cover).jpeg_shrink_on_load(799, 800),
            4
        );
        assert_eq!(
            target(Some(100), None, Fit::Cover).jpeg_shrink_on_load(900, 800),
            8
        );
        assert_eq!(
            target(Some(100), None, Fit::Cover).jpeg_shrink_on_load(150, 800),
            1
        );
        assert_eq!(
            target(None, None, Fit::Cover).jpeg_shrink_on_load(8000, 8000),
            1
        );
    }
}
