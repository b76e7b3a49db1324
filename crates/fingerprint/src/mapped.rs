//! Arrays of plain numbers that live either in memory or in a file mapped into memory: the
//! catalog's indexes are read in place from a snapshot instead of being rebuilt at start.

use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

/// Numbers whose every bit pattern is a value, stored little-endian: what may be read from
/// a mapped file as is.
pub trait Plain: Copy + Send + Sync + 'static {}
impl Plain for u32 {}
impl Plain for u64 {}
impl Plain for i64 {}
impl Plain for [u64; 4] {}

// The file format is little-endian; these arrays read it in place.
#[cfg(not(target_endian = "little"))]
compile_error!("catalog snapshots are read in place and need a little-endian machine");

/// A slice of `T`, owned or borrowed from a mapped file.
pub enum Array<T: Plain> {
    Owned(Vec<T>),
    Mapped { map: Arc<Mmap>, offset: usize, len: usize },
}

impl<T: Plain> Array<T> {
    /// `len` values at byte `offset` of `map`; `None` if they do not fit or are not aligned.
    pub fn mapped(map: &Arc<Mmap>, offset: usize, len: usize) -> Option<Array<T>> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        if end > map.len() || !(map.as_ptr() as usize + offset).is_multiple_of(align_of::<T>()) {
            return None;
        }
        Some(Array::Mapped { map: map.clone(), offset, len })
    }

    /// The values, copied into memory if they were mapped: for changing them.
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if let Array::Mapped { .. } = self {
            *self = Array::Owned(self.to_vec());
        }
        match self {
            Array::Owned(v) => v,
            Array::Mapped { .. } => unreachable!("just copied"),
        }
    }

    /// The values as bytes, as a file stores them.
    pub fn as_bytes(&self) -> &[u8] {
        let s: &[T] = self;
        // SAFETY: `T` is plain data without padding; the bytes live as long as `s`.
        unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), size_of_val(s)) }
    }
}

impl<T: Plain> Default for Array<T> {
    fn default() -> Self {
        Array::Owned(Vec::new())
    }
}

impl<T: Plain> From<Vec<T>> for Array<T> {
    fn from(v: Vec<T>) -> Self {
        Array::Owned(v)
    }
}

impl<T: Plain> Deref for Array<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Array::Owned(v) => v,
            // SAFETY: `mapped` checked bounds and alignment; `T` accepts every bit pattern;
            // the map is read-only and lives as long as `self`.
            Array::Mapped { map, offset, len } => unsafe {
                std::slice::from_raw_parts(map.as_ptr().add(*offset).cast::<T>(), *len)
            },
        }
    }
}

impl<T: Plain> Clone for Array<T> {
    fn clone(&self) -> Self {
        match self {
            Array::Owned(v) => Array::Owned(v.clone()),
            Array::Mapped { map, offset, len } => {
                Array::Mapped { map: map.clone(), offset: *offset, len: *len }
            }
        }
    }
}

impl<T: Plain + std::fmt::Debug> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Array[{}]", self.len())
    }
}
