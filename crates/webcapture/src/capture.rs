//! One capture: the page through its redirects, then its images (a few at a time) and the
//! screenshot alongside, every one within its limits and all within the capture's deadline
//! and byte budget.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use url::Url;

use crate::error::CaptureError;
use crate::html::{self, Reference};
use crate::http::{self, Ask, Chain, Client, End, Stage};
use crate::net::{self, Resolver};
use crate::{Capture, Environment, ImageFetch, LeftOut, Options, VERSION, screenshot, seconds, size, sniff};

const PAGE_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const IMAGE_ACCEPT: &str = "image/avif,image/webp,image/apng,image/png,image/jpeg,image/*,*/*;q=0.8";

/// Fetches the page at `url` and every image it references, within `options`' limits.
///
/// An error only when the page itself cannot be fetched at all (not a URL, not http or
/// https, unreachable, TLS refused, no response, a redirect loop); anything less is a
/// [`Capture`] that lists what was left out and why.
pub fn capture(url: &str, options: &Options) -> Result<Capture, CaptureError> {
    let started = Utc::now();
    let t0 = Instant::now();
    let capture_deadline = t0 + options.capture_timeout;
    let requested = url.trim();
    let start = Url::parse(requested)
        .map_err(|e| CaptureError::BadUrl { url: requested.to_owned(), problem: e.to_string() })?;
    if !matches!(start.scheme(), "http" | "https") {
        return Err(CaptureError::BadUrl {
            url: requested.to_owned(),
            problem: format!("a {}: URL, and only http and https pages are captured", start.scheme()),
        });
    }
    let client = Client {
        tls: net::tls_config(&options.roots).map_err(CaptureError::Roots)?,
        resolver: Resolver::default(),
        user_agent: options.user_agent.clone(),
        connect_timeout: options.connect_timeout,
        private_addresses: options.private_addresses,
    };

    let ask = Ask {
        accept: PAGE_ACCEPT,
        referer: None,
        limit: options.page_limit.min(options.total_limit),
        limit_why: format!("the {} limit for a page", size(options.page_limit.min(options.total_limit))),
        keep_partial: true,
        deadline: resource_deadline(options, capture_deadline),
        deadline_why: deadline_why(options, capture_deadline),
    };
    let Chain { exchanges: page, end } = http::follow(&client, &start, &ask, options.max_redirects);
    match end {
        End::Done => {}
        End::Failed(failure) => {
            let url = requested.to_owned();
            let problem = match page.last() {
                // A redirect led somewhere unreachable: name the hop.
                Some(last) => {
                    format!("{} (after {} redirects, from {})", failure.message, page.len(), last.url)
                }
                None => failure.message,
            };
            return Err(match failure.stage {
                Stage::Reach => CaptureError::Unreachable { url, problem },
                Stage::Tls => CaptureError::Tls { url, problem },
                Stage::Response => CaptureError::NoResponse { url, problem },
            });
        }
        End::Loop(chain) => {
            return Err(CaptureError::RedirectLoop { url: requested.to_owned(), chain: chain.join(" → ") });
        }
        End::Redirect(problem) => return Err(CaptureError::Redirect { url: requested.to_owned(), problem }),
    }
    // `follow` ends Done only after a response.
    let last = &page[page.len() - 1];
    let mut partial = false;
    let mut left_out: Vec<LeftOut> = Vec::new();
    if last.truncated.is_some() {
        partial = true;
        left_out.push(LeftOut {
            url: last.url.clone(),
            reason: format!(
                "the page is incomplete: {}; the capture holds its first {} bytes",
                last.problem.as_deref().unwrap_or("cut"),
                last.body.len()
            ),
        });
    }

    // The page's final URL is the base for its references.
    let final_url = Url::parse(&last.url).unwrap_or_else(|_| start.clone());
    let mut references: Vec<Reference> = Vec::new();
    if html::is_html(last.media_type().as_deref(), &last.body) {
        let found = html::image_references(&last.body, last.header("content-type"), &final_url);
        if let Some(problem) = found.problem {
            partial = true;
            left_out.push(LeftOut {
                url: last.url.clone(),
                reason: format!("images after this point in the page were not looked for: {problem}"),
            });
        }
        left_out.extend(found.unfetchable);
        references = found.images;
    }
    if references.len() > options.max_images {
        partial = true;
        let found = references.len();
        for r in references.drain(options.max_images..) {
            left_out.push(LeftOut {
                url: r.url.to_string(),
                reason: format!(
                    "over the limit of {} images for one page ({found} referenced): not fetched",
                    options.max_images
                ),
            });
        }
    }

    let budget = Budget::new(options.total_limit, page.iter().map(|e| e.body.len() as u64).sum());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<ImageFetch, LeftOut>)>> = Mutex::new(Vec::new());
    let screenshot_timeout =
        options.screenshot_timeout.min(capture_deadline.saturating_duration_since(Instant::now()));
    let (shot, shot_note) = std::thread::scope(|s| {
        let shot = s.spawn(|| screenshot::take(requested, &options.screenshot, screenshot_timeout));
        let workers = options.parallel.clamp(1, 16).min(references.len().max(1));
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(reference) = references.get(i) else { break };
                    let outcome =
                        fetch_image(&client, options, reference, &final_url, capture_deadline, &budget);
                    results.lock().unwrap_or_else(|p| p.into_inner()).push((i, outcome));
                }
            });
        }
        shot.join().unwrap_or_else(|_| (None, "the screenshot failed unexpectedly".into()))
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut images = Vec::new();
    let mut done = vec![false; references.len()];
    for (i, outcome) in results {
        done[i] = true;
        match outcome {
            Ok(image) => images.push(image),
            Err(left) => {
                partial = true;
                left_out.push(left);
            }
        }
    }
    // A worker that died would leave its image unaccounted for: say so rather than drop it.
    for (i, r) in references.iter().enumerate() {
        if !done[i] {
            partial = true;
            left_out.push(LeftOut { url: r.url.to_string(), reason: "the fetch failed unexpectedly".into() });
        }
    }

    Ok(Capture {
        requested_url: requested.to_owned(),
        started,
        finished: Utc::now(),
        page,
        images,
        left_out,
        dns: client.resolver.answers(),
        screenshot: shot,
        screenshot_note: shot_note,
        partial,
        environment: Environment {
            software: format!("handprint {VERSION}"),
            time_source: "system clock (UTC)".into(),
            user_agent: options.user_agent.clone(),
        },
    })
}

/// The bytes of bodies a capture may hold. A fetch reserves its whole limit before it starts
/// and gives back what it did not keep, so the bodies held never exceed the total, however
/// many fetches run at once. When less than a whole limit is left, a fetch waits for those
/// under way to give theirs back, and takes what is left once none is.
struct Budget {
    total: u64,
    /// Bytes held or reserved, and how many fetches hold a reservation.
    state: Mutex<(u64, usize)>,
    returned: Condvar,
}

enum Refused {
    UsedUp,
    Deadline,
}

impl Budget {
    fn new(total: u64, used: u64) -> Budget {
        Budget { total, state: Mutex::new((used, 0)), returned: Condvar::new() }
    }

    fn reserve(&self, want: u64, deadline: Instant) -> Result<u64, Refused> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let (used, holders) = *state;
            let room = self.total.saturating_sub(used);
            if room >= want || (room > 0 && holders == 0) {
                let got = want.min(room);
                *state = (used + got, holders + 1);
                return Ok(got);
            }
            if holders == 0 {
                return Err(Refused::UsedUp);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Refused::Deadline);
            }
            state = self.returned.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn release(&self, reserved: u64, kept: u64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (used, holders) = *state;
        *state = (used.saturating_sub(reserved.saturating_sub(kept)), holders.saturating_sub(1));
        self.returned.notify_all();
    }
}

/// The deadline for a resource started now: its own, or the capture's when that is sooner.
fn resource_deadline(options: &Options, capture_deadline: Instant) -> Instant {
    (Instant::now() + options.resource_timeout).min(capture_deadline)
}

fn deadline_why(options: &Options, capture_deadline: Instant) -> String {
    if Instant::now() + options.resource_timeout <= capture_deadline {
        format!("the {} deadline for one resource", seconds(options.resource_timeout))
    } else {
        format!("the {} deadline for the whole capture", seconds(options.capture_timeout))
    }
}

/// Fetches one image: whole and within its limits, or left out with the reason.
fn fetch_image(
    client: &Client,
    options: &Options,
    reference: &Reference,
    page: &Url,
    capture_deadline: Instant,
    budget: &Budget,
) -> Result<ImageFetch, LeftOut> {
    let url = reference.url.to_string();
    let left_out = |reason: String| LeftOut { url: url.clone(), reason };
    if capture_deadline.saturating_duration_since(Instant::now()) < Duration::from_millis(1) {
        return Err(left_out(format!(
            "the {} deadline for the whole capture passed before it was fetched",
            seconds(options.capture_timeout)
        )));
    }
    let total = options.total_limit;
    let limit = match budget.reserve(options.image_limit, capture_deadline) {
        Ok(limit) => limit,
        Err(Refused::UsedUp) => {
            return Err(left_out(format!(
                "the capture's budget of {} was used up before it was fetched",
                size(total)
            )));
        }
        Err(Refused::Deadline) => {
            return Err(left_out(format!(
                "the {} deadline for the whole capture passed before it was fetched",
                seconds(options.capture_timeout)
            )));
        }
    };
    let limit_why = if limit == options.image_limit {
        format!("the {} limit for an image", size(options.image_limit))
    } else {
        format!("the {limit} bytes left of the capture's budget of {}", size(total))
    };
    let ask = Ask {
        accept: IMAGE_ACCEPT,
        referer: referer(page, &reference.url),
        limit,
        limit_why,
        keep_partial: false,
        deadline: resource_deadline(options, capture_deadline),
        deadline_why: deadline_why(options, capture_deadline),
    };
    let Chain { exchanges, end } = http::follow(client, &reference.url, &ask, options.max_redirects);
    let held: u64 = exchanges.iter().map(|e| e.body.len() as u64).sum();
    let kept = matches!(end, End::Done) && exchanges.last().is_some_and(|e| e.truncated.is_none());
    // What is not kept goes back (all of it when the image is left out).
    budget.release(limit, if kept { held } else { 0 });
    match end {
        End::Done => {}
        End::Failed(failure) => return Err(left_out(failure.message)),
        End::Loop(chain) => return Err(left_out(format!("it redirects in a loop: {}", chain.join(" → ")))),
        End::Redirect(why) => return Err(left_out(why)),
    }
    let last = &exchanges[exchanges.len() - 1];
    if last.truncated.is_some() {
        return Err(left_out(last.problem.clone().unwrap_or_else(|| "its body is incomplete".into())));
    }
    let format = sniff::image_format(&last.body);
    let status = if (200..300).contains(&last.status) {
        None
    } else {
        Some(format!("HTTP {} {}", last.status, last.reason).trim_end().to_owned())
    };
    let problem = match (format, status) {
        (Some(_), None) => None,
        (Some(_), Some(status)) => Some(format!("the server answered {status}")),
        (None, status) => {
            let media = last.media_type().unwrap_or_else(|| "no Content-Type".into());
            let status = status.map(|s| format!("{s}, ")).unwrap_or_default();
            Some(format!("not an image: {status}{media}, {}", sniff::describe(&last.body)))
        }
    };
    Ok(ImageFetch {
        url: reference.url.to_string(),
        referenced_by: reference.referenced_by.clone(),
        is_image: format.is_some(),
        format: format.map(str::to_owned),
        problem,
        exchanges,
    })
}

/// The `Referer` a browser sends for an image (the default policy,
/// strict-origin-when-cross-origin): the page's URL to its own origin, the origin alone to
/// others, nothing from https to http.
fn referer(page: &Url, target: &Url) -> Option<String> {
    if page.scheme() == "https" && target.scheme() == "http" {
        return None;
    }
    if page.origin() == target.origin() {
        let mut full = page.clone();
        full.set_fragment(None);
        let _ = full.set_username("");
        let _ = full.set_password(None);
        Some(full.to_string())
    } else {
        Some(format!("{}/", page.origin().ascii_serialization()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referers_follow_the_default_policy() {
        let page = Url::parse("https://site.example/a/page?x=1#top").unwrap();
        let same = Url::parse("https://site.example/img.png").unwrap();
        let other = Url::parse("https://cdn.example/img.png").unwrap();
        let insecure = Url::parse("http://site.example/img.png").unwrap();
        assert_eq!(referer(&page, &same).as_deref(), Some("https://site.example/a/page?x=1"));
        assert_eq!(referer(&page, &other).as_deref(), Some("https://site.example/"));
        assert_eq!(referer(&page, &insecure), None);
    }

    #[test]
    fn bad_urls_are_refused_before_any_network() {
        let err = capture("not a url", &Options::default()).unwrap_err();
        assert!(matches!(err, CaptureError::BadUrl { .. }), "{err}");
        assert!(err.to_string().starts_with("not a url: "), "{err}");
        let err = capture("ftp://example.com/x", &Options::default()).unwrap_err();
        assert!(err.to_string().contains("a ftp: URL"), "{err}");
        let options = Options { roots: crate::Roots::Pem("junk".into()), ..Options::default() };
        assert!(matches!(capture("https://example.com/", &options), Err(CaptureError::Roots(_))));
    }
}
