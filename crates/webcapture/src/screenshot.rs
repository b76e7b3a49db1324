//! A screenshot of the page as a browser renders it: Chromium (Debian's `chromium`), headless,
//! with a fresh profile, in a process group of its own that is killed when it overruns its
//! time. Without Chromium there is no screenshot, and the note says so.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Screenshot, seconds};

/// The environment variable naming the browser executable.
pub const CHROMIUM_ENV: &str = "HANDPRINT_CHROMIUM";

const WINDOW: (u32, u32) = (1280, 2400);

/// The screenshot (PNG) and a note on how it was taken, or why there is none.
pub(crate) fn take(url: &str, how: &Screenshot, timeout: Duration) -> (Option<Vec<u8>>, String) {
    let exe = match find(how) {
        Ok(exe) => exe,
        Err(note) => return (None, note),
    };
    if timeout.is_zero() {
        return (None, "no time was left for a screenshot".into());
    }
    match run(&exe, url, timeout) {
        Ok(png) => {
            let version = version(&exe).unwrap_or_else(|| "Chromium".into());
            let note =
                format!("taken by {version} ({}), headless, window {}×{}", exe.display(), WINDOW.0, WINDOW.1);
            (Some(png), note)
        }
        Err(why) => (None, format!("no screenshot: {} {why}", exe.display())),
    }
}

/// The browser to run, or the note to give when there is none.
fn find(how: &Screenshot) -> Result<PathBuf, String> {
    match how {
        Screenshot::Off => Err("no screenshot was asked for".into()),
        Screenshot::Chromium(path) => {
            if executable(path) {
                Ok(path.clone())
            } else {
                Err(format!("chromium not installed: {} is not an executable file", path.display()))
            }
        }
        Screenshot::Auto => {
            if let Some(named) = std::env::var_os(CHROMIUM_ENV) {
                let path = PathBuf::from(named);
                return if executable(&path) {
                    Ok(path)
                } else {
                    Err(format!(
                        "chromium not installed: {CHROMIUM_ENV} names {}, which is not an executable file",
                        path.display()
                    ))
                };
            }
            let path = std::env::var_os("PATH").unwrap_or_default();
            for dir in std::env::split_paths(&path) {
                for name in ["chromium", "chromium-browser"] {
                    let candidate = dir.join(name);
                    if executable(&candidate) {
                        return Ok(candidate);
                    }
                }
            }
            Err(format!(
                "chromium not installed: no chromium or chromium-browser on the PATH, and {CHROMIUM_ENV} is not set"
            ))
        }
    }
}

fn executable(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs the browser for one screenshot and returns the PNG.
fn run(exe: &Path, url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let dir = tempfile::Builder::new()
        .prefix("handprint-screenshot-")
        .tempdir()
        .map_err(|e| format!("could not make a temporary directory ({e})"))?;
    let out = dir.path().join("screenshot.png");
    let log = dir.path().join("stderr.txt");
    let stderr = File::create(&log).map_err(|e| format!("could not create {} ({e})", log.display()))?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
    ]);
    cmd.arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    cmd.arg(format!("--user-data-dir={}", dir.path().join("profile").display()));
    // Chromium's sandbox refuses to run as root.
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        cmd.arg("--no-sandbox");
    }
    cmd.arg(format!("--screenshot={}", out.display()));
    cmd.arg(url);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
    // Its own process group, so that on timeout the browser and its child processes go together.
    cmd.process_group(0);
    let child = cmd.spawn().map_err(|e| format!("could not be started ({e})"))?;
    let status = wait(child, timeout)
        .ok_or_else(|| format!("did not finish within {}: it was stopped", seconds(timeout)))?;
    let mut png = Vec::new();
    if let Ok(mut f) = File::open(&out) {
        f.read_to_end(&mut png).map_err(|e| format!("wrote an unreadable screenshot ({e})"))?;
    }
    if png.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(png);
    }
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    let last: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = last[last.len().saturating_sub(3)..].join(" | ");
    Err(format!(
        "exited ({status}) without writing a PNG screenshot{}",
        if last.is_empty() { String::new() } else { format!(": {last}") }
    ))
}

/// Waits for the child until `timeout`; past it, kills its process group and gives `None`.
fn wait(mut child: Child, timeout: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                // The child is not yet reaped, so its id (the group's) is still its own.
                if let Ok(pid) = i32::try_from(child.id()) {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                }
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// `Chromium 120.0.6099.224 built on Debian …`, first line, when the browser says.
fn version(exe: &Path) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let out_path = dir.path().join("version.txt");
    let out = File::create(&out_path).ok()?;
    let mut cmd = Command::new(exe);
    cmd.arg("--version").stdin(Stdio::null()).stdout(out).stderr(Stdio::null()).process_group(0);
    let status = wait(cmd.spawn().ok()?, Duration::from_secs(10))?;
    if !status.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out_path).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_browser_is_said_not_installed() {
        let (png, note) = take(
            "http://127.0.0.1:1/",
            &Screenshot::Chromium("/nonexistent/chromium".into()),
            Duration::from_secs(1),
        );
        assert!(png.is_none());
        assert!(note.starts_with("chromium not installed: /nonexistent/chromium"), "{note}");
        let (png, note) = take("http://127.0.0.1:1/", &Screenshot::Off, Duration::from_secs(1));
        assert!(png.is_none() && note.contains("no screenshot"), "{note}");
    }

    #[test]
    fn an_overrunning_browser_is_stopped() {
        // A stand-in "browser" that never finishes.
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("chromium");
        std::fs::write(&fake, "#!/bin/sh\nsleep 30\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let started = Instant::now();
        let (png, note) =
            take("http://127.0.0.1:1/", &Screenshot::Chromium(fake), Duration::from_millis(300));
        assert!(png.is_none());
        assert!(note.contains("did not finish within 300 ms"), "{note}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }
}
