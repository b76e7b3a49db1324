//! The payload's channel code: 64 payload bits and a CRC-32 over them, protected by the
//! rate-1/3, constraint-length-7 convolutional code (generators 133, 171, 165 octal, as in
//! LTE and many others), terminated with six zero bits, decoded by soft-decision Viterbi.

/// Payload bits.
pub const PAYLOAD_BITS: usize = 64;
/// Payload, CRC and the six tail bits that return the encoder to state 0.
const MESSAGE_BITS: usize = PAYLOAD_BITS + 32 + 6;
/// Coded bits carried by the watermark.
pub const CODED_BITS: usize = 3 * MESSAGE_BITS;
const GENERATORS: [u32; 3] = [0o133, 0o171, 0o165];

/// The message: payload bits (most significant first), then the CRC-32 (IEEE) of the
/// payload's 8 big-endian bytes, most significant first.
fn message(payload: u64) -> [u8; PAYLOAD_BITS + 32] {
    let crc = crc32fast::hash(&payload.to_be_bytes());
    let mut bits = [0u8; PAYLOAD_BITS + 32];
    for (i, b) in bits.iter_mut().enumerate() {
        *b = if i < 64 { (payload >> (63 - i)) as u8 & 1 } else { (crc >> (31 - (i - 64))) as u8 & 1 };
    }
    bits
}

fn parity(x: u32) -> u8 {
    (x.count_ones() & 1) as u8
}

/// The coded bits of `payload` (0 or 1), three per message bit.
pub fn encode(payload: u64) -> Vec<u8> {
    let mut state = 0u32; // the last six input bits, newest lowest
    let mut out = Vec::with_capacity(CODED_BITS);
    for bit in message(payload).into_iter().chain([0; 6]) {
        let reg = (bit as u32) << 6 | state;
        for g in GENERATORS {
            out.push(parity(reg & g));
        }
        state = reg >> 1;
    }
    out
}

/// Decodes soft values (positive for 1, negative for 0, magnitude the confidence) of the
/// coded bits. `Some(payload)` when the CRC checks out.
pub fn decode(soft: &[f32]) -> Option<u64> {
    assert_eq!(soft.len(), CODED_BITS, "soft value count");
    const STATES: usize = 64;
    let mut metric = [f32::NEG_INFINITY; STATES];
    metric[0] = 0.0;
    // survivors[t][s]: the input bit and previous state that reached state s at step t.
    let mut survivors = vec![[(0u8, 0u8); STATES]; MESSAGE_BITS];
    // Branch outputs for each register value (input bit << 6 | state).
    let outputs: Vec<[u8; 3]> = (0..128u32).map(|reg| GENERATORS.map(|g| parity(reg & g))).collect();
    for t in 0..MESSAGE_BITS {
        let y = &soft[3 * t..3 * t + 3];
        let mut next = [f32::NEG_INFINITY; STATES];
        for (s, &m) in metric.iter().enumerate() {
            if m == f32::NEG_INFINITY {
                continue;
            }
            let inputs: &[u32] = if t >= MESSAGE_BITS - 6 { &[0] } else { &[0, 1] };
            for &bit in inputs {
                let reg = bit << 6 | s as u32;
                let o = outputs[reg as usize];
                let gain: f32 = (0..3).map(|k| if o[k] == 1 { y[k] } else { -y[k] }).sum();
                let to = (reg >> 1) as usize;
                if m + gain > next[to] {
                    next[to] = m + gain;
                    survivors[t][to] = (bit as u8, s as u8);
                }
            }
        }
        metric = next;
    }
    // Terminated: trace back from state 0.
    let mut bits = [0u8; MESSAGE_BITS];
    let mut state = 0usize;
    for t in (0..MESSAGE_BITS).rev() {
        let (bit, prev) = survivors[t][state];
        bits[t] = bit;
        state = prev as usize;
    }
    let payload = bits[..64].iter().fold(0u64, |acc, &b| acc << 1 | b as u64);
    (message(payload)[..] == bits[..PAYLOAD_BITS + 32]).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soft(bits: &[u8]) -> Vec<f32> {
        bits.iter().map(|&b| if b == 1 { 1.0 } else { -1.0 }).collect()
    }

    #[test]
    fn clean_words_decode() {
        for payload in [0, 1, 0xDEAD_BEEF_0123_4567, u64::MAX] {
            let coded = encode(payload);
            assert_eq!(coded.len(), CODED_BITS);
            assert_eq!(decode(&soft(&coded)), Some(payload));
        }
    }

    #[test]
    fn scattered_bit_errors_are_corrected() {
        let payload = 0x0123_4567_89AB_CDEF;
        let mut y = soft(&encode(payload));
        // One error in every 12 coded bits, at unknown places.
        for i in (5..y.len()).step_by(12) {
            y[i] = -y[i];
        }
        assert_eq!(decode(&y), Some(payload));
    }

    #[test]
    fn noise_and_a_wrong_crc_are_refused() {
        let mut state = 0x9E37_79B9u64;
        let noise: Vec<f32> = (0..CODED_BITS)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        assert_eq!(decode(&noise), None);
        // A valid code word of a message whose CRC does not match its payload.
        let mut bits = message(42);
        bits[70] ^= 1;
        let mut state = 0u32;
        let mut coded = Vec::new();
        for bit in bits.into_iter().chain([0; 6]) {
            let reg = (bit as u32) << 6 | state;
            coded.extend(GENERATORS.map(|g| parity(reg & g)));
            state = reg >> 1;
        }
        assert_eq!(decode(&soft(&coded)), None);
    }
}
