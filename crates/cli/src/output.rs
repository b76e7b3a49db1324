//! What commands print, and how: messages for people on stderr after the program's name
//! ([`say!`]), one line of JSON per result for programs ([`print_json`]), the progress bar,
//! the files a command is given, and what a closed pipe means ([`written`]).

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::terminal::esc;

/// Prints a message for people on stderr, after the program's name: `handprint: ...`.
/// What the message quotes must already be escaped ([`esc`]).
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("handprint: {}", format_args!($($arg)*))
    };
}

/// Output goes on until its reader goes away: a closed pipe (`handprint log | head`) ends it,
/// and the command still succeeds. Any other failure to write is an error. `Ok(false)` when
/// the reader is gone.
pub fn written(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

/// Prints `value` as one line of JSON in which no character can act on a terminal (see
/// [`crate::terminal::json`]). Numbers print as serde_json's values hold them (an `f32`
/// widened to `f64`), as they always have.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let value = serde_json::to_value(value)?;
    let mut out = io::stdout().lock();
    written(crate::terminal::json(&mut out, &value))?;
    Ok(())
}

/// A progress bar on stderr for `len` steps, when there are several and stderr is a terminal.
pub fn progress_bar(len: u64) -> ProgressBar {
    if len < 2 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} {wide_msg}").expect("static template"),
    );
    bar
}

/// The files named by `paths`, folders walked (in name order) for those with one of
/// `extensions`; and how many paths could not be reached (missing, a symbolic link loop, no
/// permission, not a regular file), each named on stderr with the reason.
pub fn collect(paths: &[PathBuf], extensions: &[&str]) -> (Vec<PathBuf>, usize) {
    let mut files = Vec::new();
    let mut failed = 0;
    for path in paths {
        // The path's own metadata, following links: the error names what is wrong (no such
        // file, a loop of symbolic links, no permission).
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                failed += 1;
                say!("{}: {}", esc(path.display()), esc(e));
                continue;
            }
        };
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() && has_extension(e.path(), extensions) => {
                        files.push(e.into_path())
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failed += 1;
                        say!("{}", esc(e));
                    }
                }
            }
        } else if meta.is_file() {
            files.push(path.clone());
        } else {
            // A FIFO or a device would block or never end.
            failed += 1;
            say!("{}: not a regular file", esc(path.display()));
        }
    }
    (files, failed)
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
}

/// Says which characters a report's PDF font lacks (drawn there as boxes), if any.
pub fn warn_missing_glyphs(missing: &[char]) {
    if !missing.is_empty() {
        say!(
            "the PDF font lacks {} character(s) ({}), drawn there as boxes; report.html shows them. \
             Set HANDPRINT_PDF_FONT=PATH[#INDEX] to a font that has them.",
            missing.len(),
            esc(missing.iter().take(20).collect::<String>())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away, or whose disk is full.
    struct Failing(fn() -> io::Error);

    impl io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err((self.0)())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_and_other_failures_are_errors() {
        assert!(written(Ok(())).unwrap());
        assert!(!written(Err(io::ErrorKind::BrokenPipe.into())).unwrap());
        let full = io::Error::from_raw_os_error(28);
        assert_eq!(written(Err(full)).unwrap_err().raw_os_error(), Some(28));
        // Also when the pipe closes in the middle of a line of JSON.
        let line = serde_json::json!({"file": "a.png", "matches": []});
        let closed = crate::terminal::json(&mut Failing(|| io::ErrorKind::BrokenPipe.into()), &line);
        assert!(!written(closed).unwrap());
        let full = crate::terminal::json(&mut Failing(|| io::Error::from_raw_os_error(28)), &line);
        assert!(written(full).is_err());
    }

    #[test]
    fn folders_are_walked_for_the_extensions_and_what_is_missing_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.PNG", "a.jpg", "sub/c.webp", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let given = [dir.path().to_path_buf(), dir.path().join("notes.txt"), dir.path().join("gone.png")];
        let (files, failed) = collect(&given, &["png", "jpg", "webp"]);
        let names: Vec<String> =
            files.iter().map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
        assert_eq!(names, ["a.jpg", "b.PNG", "sub/c.webp", "notes.txt"]);
        assert_eq!(failed, 1);
    }
}
