//! The store: where the journal and the registered works are kept, in an embedded SQLite file
//! (the default, nothing to start) or a PostgreSQL database.
//!
//! The backends hold only SQL: they implement the primitives of [`Read`] and [`Write`] and
//! run a write transaction in which no other writer runs (SQLite `BEGIN IMMEDIATE`,
//! PostgreSQL a transaction-level advisory lock). The journal's protocol is written once,
//! here, over those primitives: an append reads the log size and the chain heads, builds and
//! signs the events, and writes events, the file index, the new Merkle nodes and a signed
//! checkpoint in one transaction, so that two processes can never fork a chain or the log
//! and a crash (or a lost connection) leaves either the whole batch or none of it.

mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use fingerprint::catalog::WorkId;
use ledger::checkpoint::{Checkpoint, origin_for};
use ledger::merkle::{self, Node, NodeSource};
use ledger::{Draft, EventKind, Hash, Head, SignedEvent};

use crate::RegistryError;
use crate::works::{NewWork, Work};
use serde::Serialize;

type R<T> = Result<T, RegistryError>;

/// Where a store is: `--database` / `HANDPRINT_DATABASE`, else the SQLite file in the data
/// directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (libpq's URL form).
    Postgres(String),
}

impl Database {
    /// The embedded store of a data directory.
    pub fn in_home(home: &Path) -> Database {
        Database::Sqlite(home.join(crate::stored::STORE_FILE))
    }

    /// `postgres://…` or `postgresql://…`, `sqlite:PATH`, or a path to an SQLite file.
    pub fn parse(text: &str) -> Result<Database, RegistryError> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Database::Postgres(text.to_owned()))
        } else if let Some(path) = text.strip_prefix("sqlite:") {
            Ok(Database::Sqlite(PathBuf::from(path.trim_start_matches("//"))))
        } else if text.contains("://") {
            Err(RegistryError::Invalid(format!(
                "database {}: handprint stores in SQLite (a file path) or PostgreSQL (postgres://…)",
                redact(text)
            )))
        } else if text.is_empty() {
            Err(RegistryError::Invalid("the database is empty: give a file path or a postgres:// URL".into()))
        } else {
            Ok(Database::Sqlite(PathBuf::from(text)))
        }
    }

    /// How messages name the store: the file, or the URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(url) => redact(url),
        }
    }
}

/// `url` with any password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    // A password can also be a query parameter.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| if kv.starts_with("password=") { "password=***".into() } else { kv.to_owned() })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// An RFC 3161 token over the checkpoint of `size` events, whose signed note is `note`.
pub struct StoredTimestamp {
    pub size: u64,
    pub tsa_url: String,
    pub token: Vec<u8>,
    pub note: String,
}

/// A file's part in an event, for the file index.
pub type FileRole = &'static str;

/// A draft with the files it names, for the file index.
pub struct Pending {
    pub draft: Draft,
    pub files: Vec<(Hash, FileRole)>,
}

/// A work published on a registry server, as its row of `publications` holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicationRow {
    pub work: WorkId,
    /// The `published` event's index in the server's log.
    pub log_index: u64,
    /// The creator's Ed25519 key, base64: the key that signed the work's credentials, its
    /// journal and the publication request.
    pub creator_key: String,
    /// The label of the image's active C2PA manifest.
    pub manifest_id: Option<String>,
    /// A web domain that named the key when the work was published.
    pub domain: Option<String>,
    /// Earlier works, published under other keys, this image matches.
    pub disputes: Vec<WorkId>,
    pub evidence_public: bool,
    /// The `withdrawn` event's index, once withdrawn.
    pub withdrawn: Option<u64>,
}

/// A work as the index reads it: its ID, its codes (variant name, bytes), its features.
pub type StoredWork = (WorkId, Vec<(String, Vec<u8>)>, Vec<u8>);

/// A signed event as stored.
pub(crate) struct EventRow<'a> {
    pub log_index: u64,
    pub project: &'a str,
    pub project_seq: u64,
    pub kind: &'a str,
    pub hash: Hash,
    pub bytes: Vec<u8>,
}

/// A work found by its ID or its file's SHA-256.
#[derive(Clone, Copy)]
pub(crate) enum WorkKey<'a> {
    Id(WorkId),
    Sha256(&'a Hash),
    Watermark(u64),
}

/// The conflict of a watermark ID already carried by another work of the store.
pub(crate) fn watermark_taken(id: u64) -> RegistryError {
    RegistryError::Conflict(format!(
        "watermark ID {id:016x} is already another work's in this registry: refused (a watermark must name \
         one work); seal the image again for a new ID"
    ))
}

/// What a backend reads. Event and node bytes come back as stored: the protocol checks them.
pub(crate) trait Read {
    fn project_exists(&self, name: &str) -> R<bool>;
    /// Projects with their creation time and event count, by name.
    fn projects(&self) -> R<Vec<(String, String, u64)>>;
    /// Event bytes in log order (optionally one project's), streamed.
    fn each_event(&self, project: Option<&str>, f: &mut dyn FnMut(u64, Vec<u8>) -> R<()>) -> R<()>;
    /// Events naming a file in `role`, newest first.
    fn events_with_file(&self, sha256: &Hash, role: &str, project: Option<&str>) -> R<Vec<Vec<u8>>>;
    /// The newest events of `kind` in `project`, newest first.
    fn latest_events(&self, project: &str, kind: &str, limit: usize) -> R<Vec<Vec<u8>>>;
    /// Merkle nodes by (level, index); missing ones are left out.
    fn nodes_at(&self, at: &[(u8, u64)]) -> R<Vec<(u8, u64, Vec<u8>)>>;
    /// Every stored Merkle node, by level then index.
    fn all_nodes(&self) -> R<Vec<(u8, u64, Vec<u8>)>>;
    /// Checkpoint notes by size.
    fn checkpoints(&self) -> R<Vec<String>>;
    fn latest_checkpoint(&self) -> R<Option<(u64, String)>>;
    fn timestamps(&self) -> R<Vec<StoredTimestamp>>;
    fn work(&self, key: WorkKey) -> R<Option<Work>>;
    fn works(&self) -> R<Vec<Work>>;
    fn thumbnail(&self, id: WorkId) -> R<Option<Vec<u8>>>;
    /// Every work's codes: (work, variant name, code bytes).
    fn each_work_code(&self, f: &mut dyn FnMut(WorkId, String, Vec<u8>) -> R<()>) -> R<()>;
    /// Every work's local features in byte form, by work ID.
    fn each_work_features(&self, f: &mut dyn FnMut(WorkId, Vec<u8>) -> R<()>) -> R<()>;
    /// Works with an ID above `after`, by ID: (work, its codes, its features) — what a
    /// running index catches up with.
    fn works_after(&self, after: WorkId, limit: usize) -> R<Vec<StoredWork>>;
    fn publication(&self, work: WorkId) -> R<Option<PublicationRow>>;
    fn publication_by_manifest(&self, manifest_id: &str) -> R<Option<PublicationRow>>;
    /// Event bytes with log indexes in `start..end`, in order.
    fn event_range(&self, start: u64, end: u64) -> R<Vec<(u64, Vec<u8>)>>;
    /// The newest publications, newest first.
    fn recent_publications(&self, limit: usize) -> R<Vec<PublicationRow>>;
    fn publication_file(&self, work: WorkId, name: &str) -> R<Option<Vec<u8>>>;
    /// The names of a publication's files, by name.
    fn publication_files(&self, work: WorkId) -> R<Vec<String>>;

    /// What an append starts from: the log size, the latest checkpoint, each project's
    /// existence and head.
    fn append_state(&self, projects: &[&str]) -> R<AppendState>;
}

/// The log size, the latest checkpoint, and for each project asked whether it exists and
/// its last event (sequence number and hash), in the order asked.
pub(crate) struct AppendState {
    pub size: u64,
    pub latest: Option<(u64, String)>,
    pub heads: Vec<(bool, Option<StoredHead>)>,
}

/// A project's last event as stored: its sequence number and hash bytes.
pub(crate) type StoredHead = (u64, Vec<u8>);

/// What a backend writes, inside a write transaction.
pub(crate) trait Write: Read {
    fn create_project(&self, name: &str, created: &str) -> R<bool>;
    fn put_timestamp(&self, size: u64, tsa: &str, token: &[u8], time: &str) -> R<()>;
    fn next_work_id(&self) -> R<WorkId>;
    fn insert_work(&self, work: &NewWork) -> R<WorkId>;
    fn insert_publication(&self, row: &PublicationRow, files: &[(String, Vec<u8>)]) -> R<()>;
    fn mark_withdrawn(&self, work: WorkId, log_index: u64) -> R<()>;

    /// Everything an append writes: its events, their file index rows, the new Merkle
    /// nodes and the signed checkpoint.
    fn insert_append(
        &self,
        events: &[EventRow],
        files: &[(Hash, u64, &str)],
        nodes: &[Node],
        checkpoint: (u64, &str),
    ) -> R<()>;
}

pub(crate) trait Backend: Read + Send {
    /// Runs `f` in a write transaction that no other writer overlaps; commits if it returns
    /// `Ok`, rolls back otherwise.
    fn write(&self, f: &mut dyn FnMut(&dyn Write) -> R<()>) -> R<()>;
}

/// An opened store.
pub struct Store {
    backend: Box<dyn Backend>,
    shown: String,
}

impl Store {
    /// Opens (creating and migrating if needed) the SQLite store at `path`.
    pub fn open(path: &Path) -> R<Store> {
        Store::connect(&Database::Sqlite(path.to_path_buf()))
    }

    /// Opens an existing SQLite store for reading only: nothing is created, migrated or
    /// written, so that a journal can be checked on a full disk or from a read-only copy.
    pub fn open_read_only(path: &Path) -> R<Store> {
        Ok(Store {
            backend: Box::new(sqlite::Sqlite::open_read_only(path)?),
            shown: path.display().to_string(),
        })
    }

    /// Opens the store `database` names, creating its tables or migrating them to this
    /// handprint's schema; a schema from a newer handprint is refused untouched.
    pub fn connect(database: &Database) -> R<Store> {
        let backend: Box<dyn Backend> = match database {
            Database::Sqlite(path) => Box::new(sqlite::Sqlite::open(path)?),
            Database::Postgres(url) => Box::new(postgres::Postgres::connect(url)?),
        };
        Ok(Store { backend, shown: database.shown() })
    }

    /// Opens an existing store without writing to it: SQLite read-only; PostgreSQL opened
    /// as usual (its schema must already be this handprint's).
    pub fn connect_read_only(database: &Database) -> R<Store> {
        match database {
            Database::Sqlite(path) => Store::open_read_only(path),
            Database::Postgres(_) => Store::connect(database),
        }
    }

    /// The store as messages name it (a file, or a URL without its password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs `f` in one write transaction: whatever it appends or registers is committed
    /// together, or nothing is if it fails.
    pub fn transaction<T, F>(&self, f: F) -> R<T>
    where
        F: FnOnce(&Tx) -> R<T>,
    {
        let mut f = Some(f);
        let mut out = None;
        self.backend.write(&mut |w| {
            let f = f.take().ok_or_else(|| RegistryError::Store("a transaction was run twice".into()))?;
            out = Some(f(&Tx { w, shown: &self.shown })?);
            Ok(())
        })?;
        out.ok_or_else(|| RegistryError::Store("a transaction ended without its result".into()))
    }

    /// Runs `build` inside a write transaction, then numbers, signs and stores what it
    /// returns, with a new signed checkpoint. Returns the stored events.
    pub fn append<F>(&self, key: &SigningKey, build: F) -> R<Vec<SignedEvent>>
    where
        F: FnOnce(&View) -> R<Vec<Pending>>,
    {
        self.transaction(|tx| {
            let pending = build(&tx.view())?;
            tx.append(key, pending)
        })
    }

    pub fn create_project(&self, name: &str) -> R<bool> {
        self.transaction(|tx| tx.create_project(name))
    }

    /// Projects with their creation time and event counts, by name.
    pub fn projects(&self) -> R<Vec<(String, String, u64)>> {
        self.backend.projects()
    }

    pub fn project_exists(&self, name: &str) -> R<bool> {
        self.backend.project_exists(name)
    }

    pub fn view(&self) -> View<'_> {
        View(&*self.backend)
    }

    /// All events in log order (optionally one project's), parsed.
    pub fn events(&self, project: Option<&str>) -> R<Vec<SignedEvent>> {
        let mut out = Vec::new();
        self.for_each_leaf(project, |i, bytes| {
            out.push(parse_event(i, &bytes)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Streams stored event bytes in log order.
    pub fn for_each_leaf(&self, project: Option<&str>, mut f: impl FnMut(u64, Vec<u8>) -> R<()>) -> R<()> {
        self.backend.each_event(project, &mut f)
    }

    pub fn checkpoints(&self) -> R<Vec<String>> {
        self.backend.checkpoints()
    }

    /// The latest checkpoint: its size and signed note.
    pub fn latest_checkpoint(&self) -> R<Option<(u64, String)>> {
        self.backend.latest_checkpoint()
    }

    pub fn add_timestamp(&self, size: u64, tsa: &str, token: &[u8], time: &str) -> R<()> {
        self.transaction(|tx| tx.w.put_timestamp(size, tsa, token, time))
    }

    /// Stored timestamp tokens with the checkpoint note each covers.
    pub fn timestamps(&self) -> R<Vec<StoredTimestamp>> {
        self.backend.timestamps()
    }

    /// Stored Merkle nodes, by level then index.
    pub fn nodes(&self) -> R<Vec<Node>> {
        self.backend
            .all_nodes()?
            .into_iter()
            .map(|(level, index, hash)| Ok(Node { level, index, hash: node_hash(level, index, &hash)? }))
            .collect()
    }

    /// Inclusion proof of `index` in the tree of `size` events, from the stored nodes.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> R<Vec<Hash>> {
        Nodes::batched(&*self.backend, |n| merkle::inclusion_proof(n, index, size))
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> R<Vec<Hash>> {
        Nodes::batched(&*self.backend, |n| merkle::consistency_proof(n, old, new))
    }

    pub fn root(&self, size: u64) -> R<Hash> {
        Nodes::batched(&*self.backend, |n| merkle::root(n, size))
    }

    pub fn work(&self, id: WorkId) -> R<Option<Work>> {
        self.backend.work(WorkKey::Id(id))
    }

    pub fn work_by_sha256(&self, sha256: &Hash) -> R<Option<Work>> {
        self.backend.work(WorkKey::Sha256(sha256))
    }

    /// The work whose watermark carries `id`.
    pub fn work_by_watermark(&self, id: u64) -> R<Option<Work>> {
        self.backend.work(WorkKey::Watermark(id))
    }

    pub fn works(&self) -> R<Vec<Work>> {
        self.backend.works()
    }

    /// Works registered after `after` (by ID), at most `limit`, with what the index needs.
    pub fn works_after(&self, after: WorkId, limit: usize) -> R<Vec<StoredWork>> {
        self.backend.works_after(after, limit)
    }

    pub fn publication(&self, work: WorkId) -> R<Option<PublicationRow>> {
        self.backend.publication(work)
    }

    pub fn publication_by_manifest(&self, manifest_id: &str) -> R<Option<PublicationRow>> {
        self.backend.publication_by_manifest(manifest_id)
    }

    /// The events at log indexes `start..end` (those that exist), in order.
    pub fn event_range(&self, start: u64, end: u64) -> R<Vec<SignedEvent>> {
        self.backend.event_range(start, end)?.iter().map(|(i, b)| parse_event(*i, b)).collect()
    }

    /// The newest publications, newest first.
    pub fn recent_publications(&self, limit: usize) -> R<Vec<PublicationRow>> {
        self.backend.recent_publications(limit)
    }

    /// One of a publication's files (`image`, `evidence/PATH`).
    pub fn publication_file(&self, work: WorkId, name: &str) -> R<Option<Vec<u8>>> {
        self.backend.publication_file(work, name)
    }

    pub fn publication_files(&self, work: WorkId) -> R<Vec<String>> {
        self.backend.publication_files(work)
    }

    /// The work's stored thumbnail (PNG).
    pub fn thumbnail_png(&self, id: WorkId) -> R<Vec<u8>> {
        self.backend.thumbnail(id)?.ok_or_else(|| RegistryError::Store(format!("no work {id}")))
    }

    pub(crate) fn backend(&self) -> &dyn Read {
        &*self.backend
    }

    /// Checks the whole journal (see [`ledger::verify::verify`]) and that the stored Merkle
    /// nodes are those the events give, streaming events from the store.
    pub fn verify(&self, key: &ed25519_dalek::VerifyingKey) -> R<ledger::verify::Verification> {
        let notes = self.checkpoints()?;
        // The events stream through a bounded channel: the backend reads while the ledger
        // checks, and neither holds the whole log.
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(1024);
        let mut v = std::thread::scope(|scope| {
            let checker = scope.spawn(|| ledger::verify::verify(key, receive, &notes));
            let read = self.backend.each_event(None, &mut |_, bytes| {
                send.send(bytes).map_err(|_| RegistryError::Store("the journal check stopped".into()))
            });
            drop(send);
            let v = checker.join().map_err(|_| RegistryError::Store("the journal check failed".into()))?;
            read.map(|()| v)
        })?;
        let stored = self.nodes()?;
        let computed: Vec<Node> = v.tree.nodes().collect();
        let mut wrong = stored.iter().zip(&computed).filter(|(s, c)| s != c).map(|(s, _)| s).peekable();
        if wrong.peek().is_some() || stored.len() != computed.len() {
            let names: Vec<String> = wrong.take(5).map(|n| format!("({}, {})", n.level, n.index)).collect();
            v.findings.push(ledger::verify::Finding {
                log_index: None,
                message: format!(
                    "the stored Merkle nodes do not match the events ({} stored, {} expected; differing: {}): proofs from this store would be wrong",
                    stored.len(),
                    computed.len(),
                    if names.is_empty() { "none, but the counts differ".into() } else { names.join(", ") }
                ),
            });
        }
        Ok(v)
    }
}

fn parse_event(log_index: u64, bytes: &[u8]) -> R<SignedEvent> {
    SignedEvent::from_bytes(bytes).map_err(|e| RegistryError::Store(format!("event {log_index}: {e}")))
}

fn node_hash(level: u8, index: u64, bytes: &[u8]) -> R<Hash> {
    Hash::from_slice(bytes)
        .ok_or_else(|| RegistryError::Store(format!("Merkle node ({level}, {index}) is not 32 bytes")))
}

/// A write transaction of the store (see [`Store::transaction`]).
pub struct Tx<'a> {
    w: &'a dyn Write,
    shown: &'a str,
}

impl Tx<'_> {
    pub fn view(&self) -> View<'_> {
        View(self.w)
    }

    /// Numbers, signs and stores `pending`, with a new signed checkpoint.
    pub fn append(&self, key: &SigningKey, pending: Vec<Pending>) -> R<Vec<SignedEvent>> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let w = self.w;
        let mut projects: Vec<&str> = pending.iter().map(|p| p.draft.project.as_str()).collect();
        projects.sort_unstable();
        projects.dedup();
        let state = w.append_state(&projects)?;
        let size = state.size;
        // The log is one key's: appending with another (an identity copied over this one)
        // would leave a journal that never verifies again.
        if let Some((_, note)) = &state.latest {
            let key = key.verifying_key();
            if Checkpoint::verify_note(note, &key).is_err() {
                return Err(RegistryError::Identity(format!(
                    "{}: this journal was signed by another key than the identity's ({}): the identity \
                     files were replaced or restored from elsewhere, or this database holds another \
                     creator's journal; nothing was appended",
                    self.shown,
                    origin_for(&key)
                )));
            }
        }
        let mut heads: HashMap<String, Head> = HashMap::new();
        for (project, (exists, head)) in projects.iter().zip(state.heads) {
            if !exists {
                return Err(RegistryError::NoProject((*project).to_owned()));
            }
            if let Some((seq, hash)) = head {
                let hash = Hash::from_slice(&hash)
                    .ok_or_else(|| RegistryError::Store("a stored event hash is not 32 bytes".into()))?;
                heads.insert((*project).to_owned(), Head { seq, hash });
            }
        }
        let files: Vec<Vec<(Hash, FileRole)>> = pending.iter().map(|p| p.files.clone()).collect();
        let signed = ledger::append(key, size, &mut heads, pending.into_iter().map(|p| p.draft).collect());
        let leaves: Vec<Hash> = signed.iter().map(|e| merkle::leaf_hash(&e.to_bytes())).collect();
        // The nodes an append reads are the complete subtrees of the log as it stands:
        // fetched in one query, not one per node.
        let nodes = Nodes::prefetched(w, size)?;
        let new_nodes = merkle::nodes_for_append(&nodes, size, &leaves)?;
        let rows: Vec<EventRow> = signed
            .iter()
            .map(|e| EventRow {
                log_index: e.event.log_index,
                project: &e.event.project,
                project_seq: e.event.project_seq,
                kind: e.event.kind.as_str(),
                hash: e.hash(),
                bytes: e.to_bytes(),
            })
            .collect();
        let file_rows: Vec<(Hash, u64, &str)> = signed
            .iter()
            .zip(&files)
            .flat_map(|(e, files)| files.iter().map(|(sha, role)| (*sha, e.event.log_index, *role)))
            .collect();
        // The new root from the nodes in hand: the new complete subtrees are among them.
        nodes.add(&new_nodes);
        let new_size = size + signed.len() as u64;
        let checkpoint = Checkpoint {
            origin: origin_for(&key.verifying_key()),
            size: new_size,
            root: merkle::root(&nodes, new_size)?,
            time: ledger::event::now(),
        };
        w.insert_append(&rows, &file_rows, &new_nodes, (new_size, &checkpoint.sign(key)))?;
        Ok(signed)
    }

    /// The latest checkpoint: its size and signed note, as this transaction sees it.
    pub fn latest_checkpoint(&self) -> R<Option<(u64, String)>> {
        self.w.latest_checkpoint()
    }

    /// Inclusion proof of `index` in the tree of `size` events.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> R<Vec<Hash>> {
        Nodes::batched(self.w, |n| merkle::inclusion_proof(n, index, size))
    }

    /// Creates a project; false if it already exists.
    pub fn create_project(&self, name: &str) -> R<bool> {
        self.w.create_project(name, &ledger::event::now())
    }

    /// The ID the next registered work gets (the write lock is held: nobody else takes it).
    pub fn next_work_id(&self) -> R<WorkId> {
        self.w.next_work_id()
    }

    /// Stores a work with its codes.
    pub fn insert_work(&self, work: &NewWork) -> R<WorkId> {
        self.w.insert_work(work)
    }

    /// Stores a publication's row and its files.
    pub fn insert_publication(&self, row: &PublicationRow, files: &[(String, Vec<u8>)]) -> R<()> {
        self.w.insert_publication(row, files)
    }

    /// Marks a published work withdrawn by the `withdrawn` event at `log_index`.
    pub fn mark_withdrawn(&self, work: WorkId, log_index: u64) -> R<()> {
        self.w.mark_withdrawn(work, log_index)
    }

    pub fn publication(&self, work: WorkId) -> R<Option<PublicationRow>> {
        self.w.publication(work)
    }
}

/// Read access inside (or outside) a transaction, for building drafts.
pub struct View<'a>(&'a dyn Read);

impl View<'_> {
    pub fn project_exists(&self, name: &str) -> R<bool> {
        self.0.project_exists(name)
    }

    /// Events that name a file with this hash in `role`, newest first (optionally in one project).
    pub fn events_with_file(&self, sha256: &Hash, role: &str, project: Option<&str>) -> R<Vec<SignedEvent>> {
        self.0.events_with_file(sha256, role, project)?.iter().map(|b| parse_event(0, b)).collect()
    }

    /// The newest events of `kind` in `project`, up to `limit`, newest first.
    pub fn latest(&self, project: &str, kind: EventKind, limit: usize) -> R<Vec<SignedEvent>> {
        self.0.latest_events(project, kind.as_str(), limit)?.iter().map(|b| parse_event(0, b)).collect()
    }
}

/// The Merkle node table as a [`NodeSource`], with the nodes already known kept in memory.
struct Nodes<'a> {
    read: &'a dyn Read,
    known: std::cell::RefCell<HashMap<(u8, u64), Hash>>,
    /// While set, nodes not known are noted here and read as zeros (see [`Nodes::batched`]).
    wanted: std::cell::RefCell<Option<Vec<(u8, u64)>>>,
}

impl<'a> Nodes<'a> {
    fn new(read: &'a dyn Read) -> Self {
        Nodes { read, known: Default::default(), wanted: Default::default() }
    }

    /// Runs `f` (a proof or a root) with every node it reads fetched in one query: which
    /// nodes a proof reads depends only on the indexes and sizes, so a first run on zeros
    /// names them.
    fn batched<T>(read: &'a dyn Read, f: impl Fn(&Nodes) -> R<T>) -> R<T> {
        let nodes = Nodes::new(read);
        *nodes.wanted.borrow_mut() = Some(Vec::new());
        f(&nodes)?;
        let wanted = nodes.wanted.borrow_mut().take().unwrap_or_default();
        for (level, index, hash) in read.nodes_at(&wanted)? {
            nodes.known.borrow_mut().insert((level, index), node_hash(level, index, &hash)?);
        }
        f(&nodes)
    }

    /// With the complete subtrees of a log of `size` leaves read in one query.
    fn prefetched(read: &'a dyn Read, size: u64) -> R<Self> {
        let nodes = Nodes::new(read);
        let mut at = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1 << level) != 0 {
                at.push((level, start >> level));
                start += 1 << level;
            }
        }
        for (level, index, hash) in read.nodes_at(&at)? {
            nodes.known.borrow_mut().insert((level, index), node_hash(level, index, &hash)?);
        }
        Ok(nodes)
    }

    fn add(&self, nodes: &[Node]) {
        self.known.borrow_mut().extend(nodes.iter().map(|n| ((n.level, n.index), n.hash)));
    }
}

impl NodeSource for Nodes<'_> {
    type Error = RegistryError;
    fn node(&self, level: u8, index: u64) -> R<Hash> {
        if let Some(h) = self.known.borrow().get(&(level, index)) {
            return Ok(*h);
        }
        if let Some(wanted) = self.wanted.borrow_mut().as_mut() {
            wanted.push((level, index));
            return Ok(Hash::default());
        }
        match self.read.nodes_at(&[(level, index)])?.pop() {
            Some((_, _, hash)) => node_hash(level, index, &hash),
            None => {
                Err(RegistryError::Store(format!("Merkle node ({level}, {index}) is missing from the store")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            redact("postgres://hp:s3cret@db.example:5432/reg"),
            "postgres://hp:***@db.example:5432/reg"
        );
        assert_eq!(
            redact("postgres://hp@db/reg?password=s3cret&x=1"),
            "postgres://hp@db/reg?password=***&x=1"
        );
        assert_eq!(redact("postgresql://db/reg"), "postgresql://db/reg");
        assert_eq!(redact("postgres://a:b@c@d/e"), "postgres://a:***@d/e");
    }

    #[test]
    fn a_database_is_a_url_or_a_path() {
        assert_eq!(Database::parse("postgres://x/y").unwrap(), Database::Postgres("postgres://x/y".into()));
        assert_eq!(Database::parse("sqlite:/a/b.db").unwrap(), Database::Sqlite("/a/b.db".into()));
        assert_eq!(Database::parse("b.db").unwrap(), Database::Sqlite("b.db".into()));
        let err = Database::parse("mysql://u:pw@h/d").unwrap_err().to_string();
        assert!(err.contains("mysql://u:***@h/d") && !err.contains("pw"), "{err}");
    }
}
