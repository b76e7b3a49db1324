//! Watching a generator's output folder: every new image is recorded once it is completely
//! written.
//!
//! The folder is polled, not watched with OS notifications: polling works on every file
//! system (network shares included), sees files written before handprint started, and copes
//! with the folder being moved away and back. A file is complete when its size and
//! modification time have not changed for the settle period and it reads without
//! truncation (PNG to IEND, JPEG to EOI). All files that become complete in one poll are
//! recorded in one transaction, so a burst of a thousand costs one fsync.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::identity::Identity;
use crate::{Outcome, Registry, RegistryError};

/// After this long unchanged, a file is recorded even if it still looks truncated.
const GIVE_UP_WAITING: Duration = Duration::from_secs(30);

const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

#[derive(Clone, Copy, PartialEq)]
struct Stamp {
    len: u64,
    modified: SystemTime,
}

pub struct Watcher {
    dir: PathBuf,
    project: String,
    settle: Duration,
    /// Files seen but not yet recorded: their stamp and since when it has not changed.
    pending: HashMap<PathBuf, (Stamp, Instant)>,
    /// Files handled, with the stamp they had: untouched unless they change.
    done: HashMap<PathBuf, Stamp>,
    present: bool,
}

/// What one poll did.
#[derive(Debug, Default)]
pub struct Poll {
    pub outcomes: Vec<Outcome>,
    /// Files seen that are still being written (or settling).
    pub waiting: usize,
    /// The folder is missing (moved or deleted); polling goes on.
    pub missing: bool,
    /// The folder just came back.
    pub returned: bool,
}

impl Watcher {
    pub fn new(dir: &Path, project: &str, settle: Duration) -> Watcher {
        Watcher {
            dir: dir.to_path_buf(),
            project: project.into(),
            settle,
            pending: HashMap::new(),
            done: HashMap::new(),
            present: true,
        }
    }

    pub fn poll(&mut self, reg: &mut Registry, id: &Identity) -> Result<Poll, RegistryError> {
        let mut poll = Poll::default();
        if !self.dir.is_dir() {
            poll.missing = true;
            self.present = false;
            return Ok(poll);
        }
        if !self.present {
            poll.returned = true;
            self.present = true;
        }
        let now = Instant::now();
        let mut ready = Vec::new();
        for path in images_under(&self.dir) {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let stamp =
                Stamp { len: meta.len(), modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH) };
            if self.done.get(&path) == Some(&stamp) {
                continue;
            }
            match self.pending.get(&path) {
                Some((s, since)) if *s == stamp => {
                    let waited = now.duration_since(*since);
                    if waited >= self.settle && (complete(&path) || waited >= GIVE_UP_WAITING) {
                        ready.push((path, stamp));
                    } else {
                        poll.waiting += 1;
                    }
                }
                _ => {
                    self.pending.insert(path, (stamp, now));
                    poll.waiting += 1;
                }
            }
        }
        if ready.is_empty() {
            return Ok(poll);
        }
        let paths: Vec<PathBuf> = ready.iter().map(|(p, _)| p.clone()).collect();
        poll.outcomes = reg.record(id, &self.project, &paths)?;
        for (path, stamp) in ready {
            self.pending.remove(&path);
            self.done.insert(path, stamp);
        }
        Ok(poll)
    }
}

/// A file reads to its end: no truncation warning.
fn complete(path: &Path) -> bool {
    match capture::inspect_path(path) {
        Ok(i) => !i.warnings.iter().any(|w| w.contains("truncated") || w.contains("end-of-image")),
        Err(_) => true, // not an image at all: record() will say so once
    }
}

/// Image files below `dir`, skipping hidden files and folders (generators write temporary
/// files with a leading dot).
fn images_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => {
                    let image = path
                        .extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| IMAGE_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()));
                    if image {
                        out.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}
