//! What the server's tests share: a creator who seals works, a server on loopback, copies.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use fixtures::images::Picture;
use registry::Registry;
use registry::identity::{self, Identity};
use registry::seal::SealOptions;

/// A creator with an identity and a project, sealing works in their own data directory.
pub struct Creator {
    pub dir: tempfile::TempDir,
    pub reg: Registry,
    pub id: Identity,
}

impl Creator {
    pub fn new(name: &str) -> Creator {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        identity::create(&home, name, None).unwrap();
        let reg = Registry::open(&home).unwrap();
        let id = reg.signer(None).unwrap();
        reg.create_project("works").unwrap();
        Creator { dir, reg, id }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Seals `picture` as a work titled `title`; the sealed PNG's path.
    pub fn seal(&mut self, picture: &Picture, title: &str) -> PathBuf {
        let input = self.dir.path().join(format!("{title}.png"));
        std::fs::write(&input, picture.png()).unwrap();
        let output = self.dir.path().join(format!("{title}.sealed.png"));
        self.reg
            .seal(
                &self.id,
                &input,
                &SealOptions {
                    project: "works",
                    title,
                    license: Some("CC-BY-4.0"),
                    import: true,
                    visible_label: None,
                    source_type: Some("digitalCapture"),
                    tsa: None,
                    output: &output,
                },
            )
            .unwrap();
        output
    }

    /// A publication client for `url`, publishing `path` as this creator.
    pub fn publish(&self, url: &str, path: &Path) -> Result<serde_json::Value, registry::RegistryError> {
        self.publish_with_domain(url, path, None)
    }

    pub fn publish_with_domain(
        &self,
        url: &str,
        path: &Path,
        domain: Option<&str>,
    ) -> Result<serde_json::Value, registry::RegistryError> {
        let server = registry::remote::Server::new(url).unwrap();
        let p = registry::remote::Publish {
            creator: &self.id.public.name,
            title: None,
            license: Some("CC-BY-4.0"),
            evidence: None,
            domain,
        };
        server.publish(&self.id.key, path, &p)
    }
}

/// A server on a free loopback port, on its own runtime thread, with `data` as its data
/// directory; its base URL.
pub fn start(data: &Path, limits: server::Limits) -> String {
    start_with(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.to_path_buf(),
        database: None,
        public_url: None,
        limits,
        domains: Default::default(),
        matchers: Vec::new(),
    })
}

/// A server as `config` says, on its own runtime thread; its base URL.
pub fn start_with(config: server::Config) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let result = runtime.block_on(server::serve(config, move |addr| tx.send(addr).unwrap()));
        if let Err(e) = result {
            eprintln!("server stopped: {e}");
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("the server starts");
    format!("http://{addr}")
}

/// Limits for tests: generous rates (tests make many requests from one address).
pub fn limits() -> server::Limits {
    server::Limits { rate: 10_000.0, burst: 10_000.0, ..Default::default() }
}

/// The sealed image's pixels.
pub fn picture(path: &Path) -> Picture {
    let bytes = std::fs::read(path).unwrap();
    let d = fingerprint::decode::decode(&bytes, &Default::default()).unwrap();
    Picture { width: d.image.width, height: d.image.height, rgb: d.image.pixels }
}

/// A stranger's copy: cropped to `area` of the image, re-encoded as a JPEG (no metadata, no
/// credentials).
pub fn stranger_copy(sealed: &Path, area: f64) -> Vec<u8> {
    picture(sealed).crop_area(area, 0).jpeg(82)
}

/// An HTTP client that reports every status instead of failing on 4xx and 5xx.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// The status and JSON body of a response.
pub fn json(mut r: ureq::http::Response<ureq::Body>) -> (u16, serde_json::Value) {
    let status = r.status().as_u16();
    let body = r.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}
