//! Synthetic registered works with the statistics of real photos.
