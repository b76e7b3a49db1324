//! One story told to every backend: the same operations on an SQLite file and on a
//! PostgreSQL database must store the same journal and works, verify the same way, refuse
//! the same things and find the same tampering. Each test runs twice, `sqlite_*` and
//! `postgres_*` (the latter needs `HANDPRINT_TEST_POSTGRES`; `scripts/test.sh` provides it).

use std::path::PathBuf;

use fixtures::samples;
use ledger::merkle;
use registry::identity::{self, Identity};
use registry::seal::SealOptions;
use registry::{Database, ErrorKind, Registry, RegistryError, Store};

enum Kind {
    Sqlite,
    Postgres,
}

struct Setup {
    dir: tempfile::TempDir,
    home: PathBuf,
    files: PathBuf,
    database: Database,
    _pg: Option<fixtures::postgres::TestDatabase>,
    reg: Registry,
    id: Identity,
}

/// A creator's data directory whose store is `kind`, with project "fox" and the samples on
/// disk; `None` when PostgreSQL tests are skipped.
fn setup(kind: Kind) -> Option<Setup> {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for s in samples::all() {
        std::fs::write(files.join(s.name), &s.bytes).unwrap();
    }
    identity::create(&home, "Li Wen", None).unwrap();
    let (database, pg) = match kind {
        Kind::Sqlite => (Database::in_home(&home), None),
        Kind::Postgres => {
            let pg = fixtures::postgres::database()?;
            (Database::parse(&pg.url).unwrap(), Some(pg))
        }
    };
    let reg = Registry::open_with(&home, &database).unwrap();
    let id = reg.signer(None).unwrap();
    reg.create_project("fox").unwrap();
    Some(Setup { dir, home, files, database, _pg: pg, reg, id })
}

impl Setup {
    fn paths(&self, names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(|n| self.files.join(n)).collect()
    }

    fn findings(&self) -> Vec<String> {
        let v = self.reg.store.verify(&self.reg.public.verifying_key().unwrap()).unwrap();
        v.findings.into_iter().map(|f| f.message).collect()
    }

    /// Replaces text in a stored event's bytes, as an attacker with write access would.
    fn edit_event(&self, log_index: i64, from: &str, to: &str) {
        let edit = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap().replace(from, to).into_bytes();
        match &self.database {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let bytes: Vec<u8> = conn
                    .query_row("SELECT bytes FROM events WHERE log_index = ?1", [log_index], |r| r.get(0))
                    .unwrap();
                conn.execute(
                    "UPDATE events SET bytes = ?1 WHERE log_index = ?2",
                    rusqlite::params![edit(bytes), log_index],
                )
                .unwrap();
            }
            Database::Postgres(url) => {
                let mut client = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
                let bytes: Vec<u8> = client
                    .query_one("SELECT bytes FROM events WHERE log_index = $1", &[&log_index])
                    .unwrap()
                    .get(0);
                client
                    .execute("UPDATE events SET bytes = $1 WHERE log_index = $2", &[&edit(bytes), &log_index])
                    .unwrap();
            }
        }
    }

    /// Runs SQL on the store behind handprint's back, as an attacker with the file or the
    /// database password would.
    fn sql(&self, statement: &str) {
        match &self.database {
            Database::Sqlite(path) => {
                rusqlite::Connection::open(path).unwrap().execute_batch(statement).unwrap()
            }
            Database::Postgres(url) => {
                ::postgres::Client::connect(url, ::postgres::NoTls).unwrap().batch_execute(statement).unwrap()
            }
        }
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { if let Some(s) = super::setup(super::Kind::Sqlite) { super::$name(s) } })*
        }
        mod postgres {
            $(#[test] fn $name() { if let Some(s) = super::setup(super::Kind::Postgres) { super::$name(s) } })*
        }
    };
}

on_both!(
    the_whole_story,
    tampering_is_found,
    concurrent_writers_keep_every_chain_contiguous,
    another_key_cannot_append,
    a_newer_schema_is_refused_untouched,
    reopening_migrates_nothing_and_keeps_everything,
    a_watermark_id_names_one_work,
);

/// Record, choose, edit, import, note, register, seal, prove, export: everything stored is
/// read back and verifies.
fn the_whole_story(mut s: Setup) {
    let mut generations = fixtures::project::write_round(&s.files, 0, 3).unwrap();
    generations.extend(fixtures::project::write_round(&s.files, 1, 3).unwrap());
    let outcomes = s.reg.record(&s.id, "fox", &generations).unwrap();
    assert_eq!(outcomes.len(), 6);
    // Recording again changes nothing (found by the file index).
    let before = s.reg.store.events(None).unwrap().len();
    s.reg.record(&s.id, "fox", &generations).unwrap();
    assert_eq!(s.reg.store.events(None).unwrap().len(), before);
    s.reg.choose(&s.id, &generations[4], true, Some("the fox reads best"), None).unwrap();
    let painted = s.files.join("painted.png");
    fixtures::project::write_inpainted(&painted).unwrap();
    s.reg.edit(&s.id, &generations[4], &painted, "Krita", Some("painted the tail"), None).unwrap();
    s.reg.note(&s.id, "fox", "a night version next").unwrap();
    s.reg.create_project("owl").unwrap();
    s.reg.note(&s.id, "owl", "a second project interleaves").unwrap();

    let events = s.reg.store.events(None).unwrap();
    assert!(events.len() >= 6, "{}", events.len());
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.event.log_index, i as u64);
    }
    let fox = s.reg.store.events(Some("fox")).unwrap();
    for (i, e) in fox.iter().enumerate() {
        assert_eq!(e.event.project_seq, i as u64, "fox's chain is contiguous");
    }
    let projects = s.reg.store.projects().unwrap();
    assert_eq!(
        projects.iter().map(|p| (p.0.as_str(), p.2)).collect::<Vec<_>>(),
        [("fox", fox.len() as u64), ("owl", 1)]
    );
    assert!(s.findings().is_empty(), "{:?}", s.findings());

    // Proofs from the stored nodes check against the signed checkpoint.
    let (size, note) = s.reg.store.latest_checkpoint().unwrap().unwrap();
    assert_eq!(size, events.len() as u64);
    let key = s.reg.public.verifying_key().unwrap();
    let checkpoint = ledger::checkpoint::Checkpoint::verify_note(&note, &key).unwrap();
    assert_eq!(s.reg.store.root(size).unwrap(), checkpoint.root);
    for (i, e) in events.iter().enumerate() {
        let proof = s.reg.store.inclusion_proof(i as u64, size).unwrap();
        let leaf = merkle::leaf_hash(&e.to_bytes());
        assert!(merkle::verify_inclusion(&leaf, i as u64, size, &proof, &checkpoint.root), "event {i}");
    }
    let old_root = s.reg.store.root(2).unwrap();
    let proof = s.reg.store.consistency_proof(2, size).unwrap();
    assert!(merkle::verify_consistency(2, size, &old_root, &checkpoint.root, &proof));

    // A registered work and a sealed one are found, by ID, by file and in the catalog.
    let scanned = registry::works::scan_file(
        &s.files.join("a1111-txt2img.png"),
        &fingerprint::decode::Limits::default(),
    )
    .unwrap();
    let registered = match s.reg.register(&s.id, None, &scanned, "Red fox", Some("CC-BY-4.0")).unwrap() {
        registry::works::Registration::New(w) => w,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        s.reg.register(&s.id, None, &scanned, "Red fox", None).unwrap(),
        registry::works::Registration::Already(w) if w.id == registered.id
    ));
    let sealed_path = s.dir.path().join("sealed.png");
    let sealed = s
        .reg
        .seal(
            &s.id,
            &painted,
            &SealOptions {
                project: "fox",
                title: "Fox at dawn",
                license: Some("CC-BY-NC-4.0"),
                import: false,
                visible_label: None,
                source_type: None,
                tsa: None,
                output: &sealed_path,
            },
        )
        .unwrap();
    let works = s.reg.store.works().unwrap();
    assert_eq!(works.iter().map(|w| w.title.as_str()).collect::<Vec<_>>(), ["Red fox", "Fox at dawn"]);
    assert_eq!(s.reg.store.work(sealed.work.id).unwrap().unwrap(), sealed.work);
    assert_eq!(s.reg.store.work_by_sha256(&registered.sha256).unwrap().unwrap(), registered);
    let thumb = s.reg.store.thumbnail(registered.id).unwrap();
    assert!(thumb.width.max(thumb.height) <= registry::works::THUMBNAIL_SIDE);
    let catalog = s.reg.store.catalog().unwrap();
    let found = catalog.search(&scanned.fingerprint);
    assert_eq!(found.first().map(|m| m.work), Some(registered.id), "the registered file finds itself");

    // The seal's journal proof verifies in the image; the export verifies offline.
    let registered_pair = registry::verify_image::Registered { store: &s.reg.store, catalog: &catalog };
    let verdict = registry::verify_image::verify_image(&sealed_path, Some(&registered_pair), None).unwrap();
    let proof = verdict.journal.as_ref().expect("a journal proof");
    assert!(proof.verified, "{:?}", proof.problems);
    assert_eq!(verdict.work.as_ref().map(|w| w.id), Some(sealed.work.id));
    let export = s.dir.path().join("export");
    s.reg.export(&s.id, "fox", &export).unwrap();
    let checked = registry::export::verify_export(&export).unwrap();
    assert!(checked.ok(), "{:?}", checked.findings.iter().map(|f| &f.message).collect::<Vec<_>>());
    assert!(s.findings().is_empty(), "{:?}", s.findings());
}

/// Changing an event, a node, or removing the last checkpoint's events is named by verify.
fn tampering_is_found(mut s: Setup) {
    s.reg.record(&s.id, "fox", &s.paths(&["a1111-txt2img.png", "comfyui-basic.png"])).unwrap();
    s.reg.note(&s.id, "fox", "first idea").unwrap();
    assert!(s.findings().is_empty());
    let last = s.reg.store.events(None).unwrap().len() as i64 - 1;
    s.edit_event(last, "first idea", "other idea");
    let found = s.findings();
    assert!(found.iter().any(|m| m.contains("signature")), "{found:?}");
    s.edit_event(last, "other idea", "first idea");
    assert!(s.findings().is_empty(), "{:?}", s.findings());
    s.sql("UPDATE merkle_nodes SET hash = (SELECT hash FROM merkle_nodes WHERE level = 0 AND idx = 0) WHERE level = 0 AND idx = 1");
    let found = s.findings();
    assert!(found.iter().any(|m| m.contains("stored Merkle nodes do not match")), "{found:?}");
}

/// Four writers with their own connections append at once: every event lands, every chain
/// stays contiguous and the log verifies.
fn concurrent_writers_keep_every_chain_contiguous(s: Setup) {
    s.reg.create_project("owl").unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (home, database) = (s.home.clone(), s.database.clone());
            std::thread::spawn(move || {
                let mut reg = Registry::open_with(&home, &database).unwrap();
                let id = reg.signer(None).unwrap();
                let project = if w % 2 == 0 { "fox" } else { "owl" };
                for i in 0..25 {
                    reg.note(&id, project, &format!("writer {w} note {i}")).unwrap();
                }
            })
        })
        .collect();
    writers.into_iter().for_each(|w| w.join().unwrap());
    let events = s.reg.store.events(None).unwrap();
    assert_eq!(events.len(), 100);
    for project in ["fox", "owl"] {
        let chain = s.reg.store.events(Some(project)).unwrap();
        assert_eq!(chain.len(), 50);
        for (i, e) in chain.iter().enumerate() {
            assert_eq!(e.event.project_seq, i as u64);
        }
    }
    assert_eq!(s.reg.store.checkpoints().unwrap().len(), 100, "one checkpoint per append");
    assert!(s.findings().is_empty(), "{:?}", s.findings());
}

/// A journal is one key's: another identity pointed at the same store appends nothing.
fn another_key_cannot_append(mut s: Setup) {
    s.reg.note(&s.id, "fox", "mine").unwrap();
    let other_home = s.dir.path().join("other");
    identity::create(&other_home, "Someone Else", None).unwrap();
    let mut other = Registry::open_with(&other_home, &s.database).unwrap();
    let other_id = other.signer(None).unwrap();
    let err = other.note(&other_id, "fox", "theirs").unwrap_err();
    assert!(err.to_string().contains("signed by another key"), "{err}");
    assert_eq!(s.reg.store.events(None).unwrap().len(), 1);
    assert!(s.findings().is_empty());
}

/// A schema written by a newer handprint is refused, and left as it was.
fn a_newer_schema_is_refused_untouched(mut s: Setup) {
    s.reg.note(&s.id, "fox", "before").unwrap();
    match &s.database {
        Database::Sqlite(_) => s.sql("PRAGMA user_version = 99"),
        Database::Postgres(_) => s.sql("UPDATE handprint_schema SET version = 99"),
    }
    let err = Store::connect(&s.database).err().expect("refused");
    assert!(err.to_string().contains("newer than this handprint understands"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Damaged);
    match &s.database {
        Database::Sqlite(_) => s.sql("PRAGMA user_version = 5"),
        Database::Postgres(_) => s.sql("UPDATE handprint_schema SET version = 5"),
    }
    assert_eq!(Store::connect(&s.database).unwrap().events(None).unwrap().len(), 1, "nothing was lost");
}

fn reopening_migrates_nothing_and_keeps_everything(mut s: Setup) {
    s.reg.record(&s.id, "fox", &s.paths(&["a1111-txt2img.png"])).unwrap();
    let before = s.reg.store.events(None).unwrap();
    for _ in 0..2 {
        let again = Store::connect(&s.database).unwrap();
        assert_eq!(again.events(None).unwrap(), before);
        assert_eq!(again.checkpoints().unwrap().len(), 1);
    }
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let db = Database::parse("postgres://handprint:hunter2@127.0.0.1:1/registry").unwrap();
    let err = Store::connect(&db).err().expect("no server");
    let text = err.to_string();
    assert!(matches!(err, RegistryError::Unavailable { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(text.contains("postgres://handprint:***@127.0.0.1:1/registry"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn a_connection_lost_mid_append_stores_nothing() {
    let Some(mut s) = setup(Kind::Postgres) else { return };
    s.reg.note(&s.id, "fox", "kept").unwrap();
    // Another session ends this one's connection (as a server restart or a network cut
    // would); the next append fails with a message and leaves nothing half-written.
    let Database::Postgres(url) = &s.database else { unreachable!() };
    let mut admin = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'handprint'",
        )
        .unwrap();
    let err = s.reg.note(&s.id, "fox", "lost").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("nothing of this change was stored"), "{err}");
    let fresh = Store::connect(&s.database).unwrap();
    let events = fresh.events(None).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(fresh.checkpoints().unwrap().len(), 1);
    let v = fresh.verify(&s.reg.public.verifying_key().unwrap()).unwrap();
    assert!(v.findings.is_empty());
}

/// Two works never carry one watermark ID: the second is refused as a conflict, and nothing
/// of it is stored.
fn a_watermark_id_names_one_work(s: Setup) {
    let mut generations = fixtures::project::write_round(&s.files, 0, 2).unwrap();
    let limits = fingerprint::decode::Limits::default();
    let first = registry::works::scan_file(&generations[0], &limits).unwrap();
    let registry::works::Registration::New(work) =
        s.reg.register(&s.id, None, &first, "First", None).unwrap()
    else {
        panic!("new")
    };
    let id = work.watermark_id.expect("a registered work has a watermark ID");
    assert_eq!(s.reg.store.work_by_watermark(id).unwrap(), Some(work.clone()));
    // The registered event names the ID and the nonce it derives from, under the author's key.
    let event = s.reg.store.events(Some("works")).unwrap().pop().unwrap();
    assert_eq!(event.event.kind, ledger::EventKind::Registered);
    assert_eq!(event.event.data["work"], work.id);
    let nonce = event.event.data["watermark"]["id_nonce"].as_str().unwrap();
    assert!(registry::watermark_id::belongs_to(id, &s.reg.public.verifying_key().unwrap(), nonce));

    let second = registry::works::scan_file(&generations.pop().unwrap(), &limits).unwrap();
    let mut clash = registry::works::NewWork::from_scanned(None, &second, "Second", None, &s.reg.public);
    clash.watermark_id = Some(id);
    let err = s.reg.store.transaction(|tx| tx.insert_work(&clash)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains(&format!("watermark ID {id:016x} is already another work's")), "{err}");
    assert_eq!(s.reg.store.works().unwrap().len(), 1);
}
