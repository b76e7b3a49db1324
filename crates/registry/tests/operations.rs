//! The operations both front ends call, on a real store: which work a file names, the
//! evidence of a sealed work, and the journal's check.

use std::path::{Path, PathBuf};

use evidence::Jurisdiction;
use registry::Registry;
use registry::claim::{ClaimRequest, SealedFile, claim, sealed_project, work_of_file};
use registry::identity::{self, Identity};
use registry::journal_check::journal_check;
use registry::reproduce::{Api, ReproduceRequest, reproduce_work};
use registry::seal::{SealOptions, Sealed};

struct Setup {
    dir: tempfile::TempDir,
    reg: Registry,
    id: Identity,
}

fn setup(name: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    identity::create(&home, name, None).unwrap();
    let reg = Registry::open(&home).unwrap();
    let id = reg.signer(None).unwrap();
    Setup { dir, reg, id }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Records a round of generations in `project` and seals the `pick`-th as `title`.
    fn sealed(&mut self, project: &str, round: usize, pick: usize, title: &str) -> (Vec<PathBuf>, Sealed) {
        self.reg.create_project(project).unwrap();
        let dir = self.path(project);
        std::fs::create_dir_all(&dir).unwrap();
        let files = fixtures::project::write_round(&dir, round, 3).unwrap();
        self.reg.record(&self.id, project, &files).unwrap();
        let output = dir.join(format!("{title}.sealed.png"));
        let options = SealOptions {
            project,
            title,
            license: None,
            import: false,
            visible_label: None,
            source_type: None,
            tsa: None,
            output: &output,
        };
        let sealed = self.reg.seal(&self.id, &files[pick], &options).unwrap();
        (files, sealed)
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_work_is_found_by_its_file_or_its_seal_and_its_own_project_is_claimed() {
    let mut s = setup("Ana Ruiz");
    let (_, fox) = s.sealed("fox", 0, 1, "Fox");
    let (castle_files, castle) = s.sealed("castle", 1, 2, "Castle");
    assert_ne!(fox.work.id, castle.work.id);

    // By SHA-256 here; by the seal in its credentials in a registry that never saw it.
    let bytes = read(&castle.output);
    assert_eq!(work_of_file(&s.reg.store, &castle.output, &bytes).unwrap(), castle.work.id);
    let other = setup("Bo Chen");
    assert_eq!(work_of_file(&other.reg.store, &castle.output, &bytes).unwrap(), castle.work.id);
    // A generation that was never sealed: named in the error.
    let plain = &castle_files[0];
    let err = work_of_file(&s.reg.store, plain, &read(plain)).unwrap_err().to_string();
    assert!(err.starts_with(&plain.display().to_string()) && err.contains("no handprint seal"), "{err}");

    // The sealed event is found in the project it was sealed in, not the other.
    let (events, at) = sealed_project(&s.reg.store, castle.work.id).unwrap();
    let sealed = &events[at.unwrap()];
    assert_eq!((sealed.event.project.as_str(), sealed.hash()), ("castle", castle.event_hash));
    assert!(events.iter().all(|e| e.event.project == "castle"));
    assert_eq!(sealed_project(&s.reg.store, 99).unwrap().1, None);

    // The claim: the castle's facts, the file checked, the bundle written and verifiable.
    let request = ClaimRequest {
        work: castle.work.id,
        sealed_file: Some(SealedFile { path: &castle.output, bytes: &bytes }),
        images: &[s.path("castle")],
        jurisdictions: &[Jurisdiction::Cn],
    };
    let c = claim(&s.reg, &request).unwrap();
    assert!(c.needs_signer());
    assert_eq!(c.report.facts.counts.events, events.len());
    assert!(c.report.integrity.journal_verified, "{:?}", c.report.integrity.findings);
    assert!(!c.report.thumbnails.is_empty(), "thumbnails of the recorded files");
    let out = s.path("claim");
    let written = c.write(&s.reg, Some(&s.id), &out).unwrap();
    assert_eq!((written.work, written.sealed, written.journal_verified), (castle.work.id, true, true));
    let bundle = out.join("bundle");
    assert!(registry::export::verify_export(&bundle).unwrap().ok());
    assert_eq!(read(&bundle.join("image").join(castle.output.file_name().unwrap())), bytes);
    // Written once: a folder that holds anything is refused, and left as it was.
    let again = c.write(&s.reg, Some(&s.id), &out).unwrap_err().to_string();
    assert!(again.contains("exists and is not empty"), "{again}");
    assert!(out.join("report.pdf").is_file());

    // Another file given as the work: refused, naming both hashes.
    let fox_bytes = read(&fox.output);
    let wrong =
        ClaimRequest { sealed_file: Some(SealedFile { path: &fox.output, bytes: &fox_bytes }), ..request };
    let err = claim(&s.reg, &wrong).err().unwrap().to_string();
    assert!(err.contains("not the file sealed as work"), "{err}");
}

#[test]
fn the_journal_check_names_an_altered_event_for_verify_and_for_the_report() {
    let mut s = setup("Ana Ruiz");
    s.sealed("fox", 0, 2, "Fox");
    let check = journal_check(&s.reg).unwrap();
    assert!(check.ok && check.verification.findings.is_empty());
    let integrity = check.integrity();
    assert!(integrity.journal_verified && integrity.checkpoint.is_some());

    let conn = rusqlite::Connection::open(s.reg.home.join(registry::stored::STORE_FILE)).unwrap();
    let bytes: Vec<u8> =
        conn.query_row("SELECT bytes FROM events WHERE log_index = 1", [], |r| r.get(0)).unwrap();
    let altered = String::from_utf8(bytes).unwrap().replacen("00001.png", "00009.png", 1);
    conn.execute("UPDATE events SET bytes = ?1 WHERE log_index = 1", [altered.as_bytes()]).unwrap();
    drop(conn);
    let check = journal_check(&s.reg).unwrap();
    assert!(!check.ok);
    assert!(check.verification.findings.iter().any(|f| f.log_index == Some(1)));
    let integrity = check.integrity();
    assert!(!integrity.journal_verified);
    assert!(integrity.findings.iter().any(|f| f.starts_with("event 1: ")), "{:?}", integrity.findings);
    // As `verify --json` prints it: the journal's check, its timestamps, and whether it is ok.
    let json = serde_json::to_value(&check).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.last(), Some(&"ok"));
    assert!(
        keys.contains(&"events") && keys.contains(&"findings") && keys.contains(&"timestamps"),
        "{keys:?}"
    );
}

#[test]
fn reproducing_compares_with_the_sealed_work_or_the_recorded_file_checked_first() {
    let mut s = setup("Ana Ruiz");
    let (files, fox) = s.sealed("fox", 1, 2, "Fox");
    let recorded = read(&files[2]);
    let (url, requests) = fixtures::http::a1111(recorded.clone());
    let request = ReproduceRequest {
        work: fox.work.id,
        api: None,
        url: &url,
        timeout: std::time::Duration::from_secs(30),
        recorded: None,
    };
    // Nothing edited after the generation: compared with the sealed work, which it matches.
    let r = reproduce_work(&s.reg, &request).unwrap();
    assert_eq!((r.api, r.image.as_slice()), (Api::A1111, recorded.as_slice()));
    assert_eq!(r.compared_with.as_deref(), Some(format!("the sealed work {}", fox.work.id).as_str()));
    assert_eq!(r.same_image, Some(true), "{r:?}");
    assert!(r.pdq_distance.unwrap() <= fingerprint::catalog::PDQ_RADIUS);
    assert_eq!(r.request["seed"], 1005, "generation 5 of the run: round 1, place 2");

    // The recorded file itself: distance 0. Another file: refused before the generator is asked.
    let with = ReproduceRequest { recorded: Some((&files[2], &recorded)), ..request };
    assert_eq!(reproduce_work(&s.reg, &with).unwrap().pdq_distance, Some(0));
    let asked = requests.lock().unwrap().len();
    let other = read(&files[1]);
    let wrong = ReproduceRequest { recorded: Some((&files[1], &other)), ..with };
    let err = reproduce_work(&s.reg, &wrong).unwrap_err().to_string();
    assert!(err.contains("not the recorded generation"), "{err}");
    assert_eq!(requests.lock().unwrap().len(), asked, "the generator was not called");

    // A work that was never sealed.
    let door = s.dir.path().join("door.png");
    std::fs::write(&door, fixtures::images::kodak("kodim01").png()).unwrap();
    let scanned = registry::works::scan_file(&door, &Default::default()).unwrap();
    let id = match s.reg.register(&s.id, None, &scanned, "Door", None).unwrap() {
        registry::works::Registration::New(w) => w.id,
        registry::works::Registration::Already(w) => panic!("work {} already", w.id),
    };
    let never = ReproduceRequest { work: id, recorded: None, ..wrong };
    let err = reproduce_work(&s.reg, &never).unwrap_err().to_string();
    assert!(err.contains("was never sealed"), "{err}");
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn register_record_and_detect_answer_in_the_shapes_front_ends_print() {
    let mut s = setup("Ana Ruiz");
    // Registering: the work's fields, then how it was registered.
    let door = s.path("door.png");
    std::fs::write(&door, fixtures::images::kodak("kodim01").png()).unwrap();
    let first = registry::register::register(&s.reg, &s.id, None, &door, "Door", Some("CC-BY-4.0")).unwrap();
    let again = registry::register::register(&s.reg, &s.id, None, &door, "Other", None).unwrap();
    assert!(first.new && !again.new);
    assert_eq!((again.work, again.entry.title.as_str()), (first.work, "Door"));
    let v = serde_json::to_value(&first).unwrap();
    assert_eq!(
        keys(&v),
        [
            "id",
            "title",
            "license",
            "registrant",
            "public_key",
            "file_name",
            "sha256",
            "width",
            "height",
            "registered",
            "watermark_id",
            "work",
            "new",
            "features",
            "pdq_quality"
        ]
    );
    assert!(first.features > 100 && first.pdq_quality >= registry::register::LOW_PDQ_QUALITY, "{v}");

    // Recording: a prompt revision is appended before the generation it came with.
    s.reg.create_project("fox").unwrap();
    let dir = s.path("fox");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = fixtures::project::write_round(&dir, 0, 1).unwrap();
    files.extend(fixtures::project::write_round(&dir, 1, 1).unwrap());
    files.push(s.path("missing.png"));
    let outcomes = s.reg.record(&s.id, "fox", &files).unwrap();
    let json: Vec<serde_json::Value> = outcomes.iter().map(|o| serde_json::to_value(o).unwrap()).collect();
    assert_eq!(keys(&json[1]), ["path", "status", "log_index", "kind", "hash", "also"]);
    assert_eq!((json[1]["status"].as_str(), json[1]["kind"].as_str()), (Some("recorded"), Some("generated")));
    assert_eq!(json[1]["also"][0]["kind"], "prompt-edited");
    assert_eq!(keys(&json[2]), ["path", "status", "error"]);
    assert!(json[2]["error"].as_str().unwrap().contains("missing.png"), "{}", json[2]);
    let repeated = s.reg.record(&s.id, "fox", &files[..1]).unwrap();
    let v = serde_json::to_value(&repeated[0]).unwrap();
    assert_eq!((keys(&v), &v["log_index"]), (vec!["path", "status", "log_index"], &json[0]["log_index"]));

    // Detecting: the payload of an embedded watermark, and the work it names here.
    let marked = s.path("marked.png");
    let watermark_id = first.entry.watermark_id.expect("a registered work has a watermark ID");
    let embedded = registry::watermarks::embed(&door, &marked, watermark_id).unwrap();
    assert_eq!(embedded.payload, format!("{watermark_id:016x}"));
    let refused = registry::watermarks::embed(&marked, &marked, 1).unwrap_err().to_string();
    assert!(refused.contains("would overwrite the input"), "{refused}");
    let found = registry::watermarks::detect(Some(&s.reg.store), &marked).unwrap();
    let p = found.payload.as_ref().expect("a payload");
    assert_eq!(
        (p.payload.as_str(), p.work.as_ref().map(|w| w.id)),
        (embedded.payload.as_str(), Some(first.work))
    );
    let unmarked = registry::watermarks::detect(None, &door).unwrap();
    let v = serde_json::to_value(&unmarked).unwrap();
    assert_eq!((keys(&v), v["found"].as_bool()), (vec!["file", "found", "sync_z"], Some(false)));
}
