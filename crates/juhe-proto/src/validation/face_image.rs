//! Face images for the face check.

use std::borrow::Cow;
use std::fmt;

use super::CivilDate;

use juhe_crypto::{base64_decode, base64_encode};

use super::{Field, Problem, ValidationError};

/// The image formats Juhe's face check takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

/// A face photo, checked to be a JPEG or PNG with a readable header and a face photo's size
/// in pixels before anything is sent. Sent as base64 with no
/// `data:` prefix and no line breaks ([docs/protocol.md, "Face image"](https://github.com/juhe-rs/juhe-rs/blob/main/docs/protocol.md#face-image)).
///
/// `Debug` shows the format and size only, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceImage {
    bytes: Vec<u8>,
    format: ImageFormat,
}

impl FaceImage {
    /// The largest image accepted. Juhe advises 16–20 KB; this limit only stops what cannot be
    /// a face photo (a video, a scan of a document) from being sent.
    pub const MAX_BYTES: usize = 5 * 1024 * 1024;
    /// The shortest side accepted, in pixels: smaller is no photo of a face.
    pub const MIN_SIDE: usize = 16;
    /// The longest side accepted, in pixels.
    pub const MAX_SIDE: usize = 10_000;

    /// An image from its file bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ValidationError> {
        let invalid = |problem| ValidationError::new(Field::Image, problem);
        if bytes.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        if bytes.len() > Self::MAX_BYTES {
            return Err(invalid(Problem::ImageTooLarge { bytes: bytes.len(), max: Self::MAX_BYTES }));
        }
        let format = sniff(&bytes).ok_or_else(|| invalid(Problem::ImageFormat))?;
        // The header, read by a parser that never decodes pixels: a signature alone, or a
        // truncated header, is not an image.
        let size = imagesize::blob_size(&bytes).map_err(|_| invalid(Problem::ImageFormat))?;
        let sides = Self::MIN_SIDE..=Self::MAX_SIDE;
        if !sides.contains(&size.width) || !sides.contains(&size.height) {
            let (min, max) = (Self::MIN_SIDE, Self::MAX_SIDE);
            return Err(invalid(Problem::ImageDimensions {
                width: size.width,
                height: size.height,
                min,
                max,
            }));
        }
        Ok(Self { bytes, format })
    }

    /// An image from base64, with or without a `data:image/…;base64,` prefix and line breaks.
    pub fn from_base64(text: &str) -> Result<Self, ValidationError> {
        let text = text.trim();
        let body = match text.strip_prefix("data:") {
            Some(rest) => rest.split_once(',').map_or(rest, |(_, body)| body),
            None => text,
        };
        if body.is_empty() {
            return Err(ValidationError::new(Field::Image, Problem::Empty));
        }
        let bytes =
            base64_decode(body).map_err(|_| ValidationError::new(Field::Image, Problem::NotBase64))?;
        Self::from_bytes(bytes)
    }

    /// The format found from the magic bytes.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// The image bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The image as sent: standard base64, no prefix, no line breaks.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.bytes)
    }
}

impl crate::PersonalValue for FaceImage {
    type Input<'a> = Vec<u8>;
    fn from_input(input: Vec<u8>, _today: CivilDate) -> Result<Self, ValidationError> {
        Self::from_bytes(input)
    }
    /// Juhe wants bare base64: no `data:` prefix, no line breaks (docs/protocol.md, "Face
    /// image"), though [`FaceImage::from_base64`] forgives both in a caller's input.
    fn from_wire(text: &str, _today: CivilDate) -> Result<Self, ValidationError> {
        if text.starts_with("data:") || text.chars().any(char::is_whitespace) {
            return Err(ValidationError::new(Field::Image, Problem::NotBase64));
        }
        Self::from_base64(text)
    }
    fn wire(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_base64())
    }
    /// Nothing of a photo may be shown.
    fn masked(&self) -> Option<String> {
        None
    }
}

fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else {
        None
    }
}

impl fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaceImage({:?}, {} bytes)", self.format, self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG header of `width` x `height` pixels: start of image, a baseline frame header,
    /// end of image. Enough for the header check, which never decodes pixels.
    pub(crate) fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let [h1, h0] = height.to_be_bytes();
        let [w1, w0] = width.to_be_bytes();
        let frame = [0xFF, 0xC0, 0, 17, 8, h1, h0, w1, w0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
        [&[0xFF, 0xD8][..], &frame, &[0xFF, 0xD9]].concat()
    }

    /// A PNG signature and header of `width` x `height` pixels.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn reads_jpeg_and_png_headers() {
        assert_eq!(FaceImage::from_bytes(jpeg(32, 40)).unwrap().format(), ImageFormat::Jpeg);
        assert_eq!(FaceImage::from_bytes(png(32, 32)).unwrap().format(), ImageFormat::Png);
    }

    #[test]
    fn a_signature_alone_or_a_tiny_picture_is_refused() {
        let problem = |bytes: Vec<u8>| FaceImage::from_bytes(bytes).unwrap_err().problem;
        assert_eq!(problem(b"\x89PNG\r\n\x1a\n".to_vec()), Problem::ImageFormat);
        assert_eq!(
            problem(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']),
            Problem::ImageFormat
        );
        assert!(matches!(problem(jpeg(1, 1)), Problem::ImageDimensions { width: 1, height: 1, .. }));
        assert!(matches!(problem(png(16, 60_000)), Problem::ImageDimensions { .. }));
    }

    #[test]
    fn accepts_data_urls_and_line_breaks() {
        let b64 = base64_encode(&jpeg(32, 32));
        let wrapped = format!("data:image/jpeg;base64,{}\n{}", &b64[..4], &b64[4..]);
        let image = FaceImage::from_base64(&wrapped).unwrap();
        assert_eq!(image.as_bytes(), jpeg(32, 32));
        assert_eq!(image.to_base64(), b64);
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        let problem = |r: Result<FaceImage, ValidationError>| r.unwrap_err().problem;
        assert_eq!(problem(FaceImage::from_bytes(vec![])), Problem::Empty);
        assert_eq!(problem(FaceImage::from_bytes(b"GIF89a".to_vec())), Problem::ImageFormat);
        assert_eq!(problem(FaceImage::from_base64("not base64!")), Problem::NotBase64);
        assert_eq!(problem(FaceImage::from_base64("data:image/jpeg;base64,")), Problem::Empty);
        let huge = [jpeg(32, 32), vec![0; FaceImage::MAX_BYTES]].concat();
        assert!(matches!(problem(FaceImage::from_bytes(huge)), Problem::ImageTooLarge { .. }));
    }

    #[test]
    fn debug_never_shows_bytes() {
        let image = FaceImage::from_bytes(jpeg(32, 32)).unwrap();
        assert_eq!(format!("{image:?}"), "FaceImage(Jpeg, 23 bytes)");
    }
}
