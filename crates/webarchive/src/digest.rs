//! Digests as WARC and WACZ write them: `sha256:` and 64 lower-case hex digits when writing;
//! when checking, SHA-256 or SHA-1 in hex or RFC 4648 base32 (the form older WARCs use).

use sha1::Digest as _;
use sha2::{Digest, Sha256};

/// `sha256:<64 lower-case hex digits>` of `bytes`.
pub fn sha256_label(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// `sha1:<32 base32 characters>` of `bytes`, the form warcio and the CDXJ indexer give a
/// payload digest they compute themselves.
pub(crate) fn sha1_base32_label(bytes: &[u8]) -> String {
    format!("sha1:{}", base32(&sha1::Sha1::digest(bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(BASE32[((n >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase32(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u64, 0u32);
    for c in s.bytes() {
        let v = BASE32.iter().position(|&d| d == c.to_ascii_uppercase())? as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Whether `label` (`algorithm:value`) is the digest of `bytes`: `Ok(true)` or `Ok(false)`,
/// or `Err` saying why it cannot be checked (an unknown algorithm, an unreadable value).
pub fn digest_matches(label: &str, bytes: &[u8]) -> Result<bool, String> {
    let (algorithm, value) =
        label.split_once(':').ok_or_else(|| format!("digest {label:?} has no algorithm"))?;
    let value = value.trim();
    let (actual, size): (Vec<u8>, usize) = match algorithm.trim().to_ascii_lowercase().as_str() {
        "sha256" | "sha-256" => (Sha256::digest(bytes).to_vec(), 32),
        "sha1" | "sha-1" => (sha1::Sha1::digest(bytes).to_vec(), 20),
        other => return Err(format!("digest algorithm {other:?} is not supported")),
    };
    let expected =
        if value.len() == size * 2 { unhex(value) } else { unbase32(value).filter(|v| v.len() == size) };
    match expected {
        Some(expected) => Ok(expected == actual),
        None => Err(format!("digest value {value:?} is neither hex nor base32 of {} bytes", size)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_is_rfc4648() {
        // RFC 4648 section 10 test vectors.
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(base32(plain.as_bytes()), encoded);
            assert_eq!(unbase32(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn digests_in_every_form_are_checked() {
        let body = b"hello";
        let hex256 = sha256_label(body);
        assert_eq!(hex256, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(digest_matches(&hex256, body), Ok(true));
        assert_eq!(digest_matches(&hex256.to_uppercase(), body), Ok(true));
        assert_eq!(digest_matches(&hex256, b"hellO"), Ok(false));
        // sha1 "hello" = aaf4c61d..., base32 VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N
        let b32 = sha1_base32_label(body);
        assert_eq!(b32, "sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N");
        assert_eq!(digest_matches(&b32, body), Ok(true));
        assert_eq!(digest_matches("sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", body), Ok(true));
        assert!(digest_matches("md5:5d41402abc4b2a76b9719d911017c592", body).is_err());
        assert!(digest_matches("sha256:xyz", body).is_err());
        assert!(digest_matches("nocolon", body).is_err());
    }
}
