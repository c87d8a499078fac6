//! Small generated face pictures: a valid grayscale PNG drawn from a seed, so every identity
//! has its own reference image without shipping any.

const SIZE: usize = 32;

/// A 32×32 grayscale PNG of a simple face whose shape and shades depend on `seed`.
pub(crate) fn face_png(seed: u64) -> Vec<u8> {
    png(SIZE, SIZE, &draw(seed))
}

fn draw(seed: u64) -> Vec<u8> {
    let bits = |shift: u32, range: u64| ((seed >> shift) % range) as i32;
    let (background, skin, features) = (40 + bits(0, 60) as u8, 150 + bits(8, 80) as u8, bits(16, 40) as u8);
    let (face_w, face_h) = (9 + bits(24, 4), 11 + bits(28, 4));
    let eye_y = 12 + bits(32, 3);
    let eye_dx = 4 + bits(36, 2);
    let mouth_w = 3 + bits(40, 4);
    let mut pixels = vec![background; SIZE * SIZE];
    for y in 0..SIZE as i32 {
        for x in 0..SIZE as i32 {
            let (dx, dy) = (x - 16, y - 16);
            let inside =
                dx * dx * face_h * face_h + dy * dy * face_w * face_w <= face_w * face_w * face_h * face_h;
            let eye =
                (y - eye_y).abs() <= 1 && ((x - (16 - eye_dx)).abs() <= 1 || (x - (16 + eye_dx)).abs() <= 1);
            let mouth = y == 22 && (x - 16).abs() <= mouth_w;
            let value = if eye || mouth {
                features
            } else if inside {
                skin
            } else {
                background
            };
            pixels[y as usize * SIZE + x as usize] = value;
        }
    }
    pixels
}

/// An 8-bit grayscale PNG with stored (uncompressed) deflate blocks.
fn png(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(height * (width + 1));
    for row in pixels.chunks(width) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // depth 8, grayscale, deflate, no filter set, no interlace
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(0xFFFF).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn faces_are_pngs_and_differ_by_seed() {
        let a = face_png(1);
        assert!(a.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(juhe_proto::FaceImage::from_bytes(a.clone()).is_ok());
        assert_ne!(a, face_png(2));
        assert_eq!(a, face_png(1));
        assert!(a.len() < 1200, "{} bytes", a.len());
    }
}
