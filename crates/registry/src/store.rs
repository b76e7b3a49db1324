//! The embedded store: one SQLite file (WAL, synchronous=FULL) holding the journal.
//!
//! Appends run in one `BEGIN IMMEDIATE` transaction that reads the log size and the chain
//! heads, builds and signs the events, and writes events, the file index, the new Merkle
//! nodes and a signed checkpoint. Writers are serialised by SQLite, so two processes can
//! never fork a chain or the log; a crash leaves either the whole batch or none of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use ledger::checkpoint::{Checkpoint, origin_for};
use ledger::merkle::{self, NodeSource};
use ledger::{Draft, Hash, Head, SignedEvent};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::RegistryError;

const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE projects (
    name    TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
CREATE TABLE events (
    log_index   INTEGER PRIMARY KEY,
    project     TEXT NOT NULL REFERENCES projects(name),
    project_seq INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    hash        BLOB NOT NULL UNIQUE,
    bytes       BLOB NOT NULL,
    UNIQUE (project, project_seq)
);
-- Which events name which files, by SHA-256: `output` for a file the event produced or
-- brought in (generated, imported, edit output), `input` for one it used.
CREATE TABLE files (
    sha256    BLOB NOT NULL,
    log_index INTEGER NOT NULL REFERENCES events(log_index),
    role      TEXT NOT NULL,
    PRIMARY KEY (sha256, log_index, role)
) WITHOUT ROWID;
-- Complete subtrees of the RFC 9162 Merkle log: (level, index) covers leaves
-- index*2^level .. (index+1)*2^level.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);
";

/// Version 2: RFC 3161 timestamp tokens over checkpoints.
const SCHEMA_2: &str = "
CREATE TABLE timestamps (
    size  INTEGER NOT NULL REFERENCES checkpoints(size),
    tsa   TEXT NOT NULL,
    token BLOB NOT NULL,
    time  TEXT NOT NULL,
    PRIMARY KEY (size, tsa)
);
";

/// Version 3: registered works and their fingerprints (see `works.rs`).
const SCHEMA_3: &str = "
CREATE TABLE works (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    license    TEXT,
    registrant TEXT NOT NULL,
    public_key TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    sha256     BLOB NOT NULL UNIQUE,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    registered TEXT NOT NULL,
    pdq_quality INTEGER NOT NULL,
    phash      INTEGER NOT NULL,
    features   BLOB NOT NULL,
    thumbnail  BLOB NOT NULL
);
-- The global codes a work is found by: PDQ's dihedral variants and PDQ without borders.
CREATE TABLE work_codes (
    work    INTEGER NOT NULL REFERENCES works(id),
    variant TEXT NOT NULL,
    code    BLOB NOT NULL,
    PRIMARY KEY (work, variant)
) WITHOUT ROWID;
";

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// An RFC 3161 token over the checkpoint of `size` events, whose signed note is `note`.
pub struct StoredTimestamp {
    pub size: u64,
    pub tsa_url: String,
    pub token: Vec<u8>,
    pub note: String,
}

/// A draft with the files it names, for the file index.
pub struct Pending {
    pub draft: Draft,
    pub files: Vec<(Hash, &'static str)>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, RegistryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::identity::private_dir(dir)?;
        }
        // Private whatever the umask: prompts, notes and file history. SQLite gives its -wal
        // and -shm files the database file's mode.
        let mut create = std::fs::OpenOptions::new();
        create.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
        create.open(path).map_err(|e| RegistryError::io(path, e))?;
        crate::identity::restrict(path, 0o600)?;
        let conn = Connection::open(path).map_err(|e| RegistryError::db(path, e))?;
        let db = |e| RegistryError::db(path, e);
        conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        let mut store = Store { conn, path: path.to_path_buf() };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing store for reading only: nothing is created, migrated or written, so
    /// that a journal can be checked on a full disk or from a read-only copy.
    pub fn open_read_only(path: &Path) -> Result<Store, RegistryError> {
        use rusqlite::OpenFlags;
        let db = |e| RegistryError::db(path, e);
        let meta = std::fs::metadata(path).map_err(|e| RegistryError::io(path, e))?;
        if !meta.is_file() {
            return Err(RegistryError::File { path: path.into(), message: "not a regular file".into() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = |uri: Option<String>| -> rusqlite::Result<(Connection, i64)> {
            let conn = match uri {
                Some(uri) => Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?,
                None => Connection::open_with_flags(path, flags)?,
            };
            conn.busy_timeout(Duration::from_secs(30))?;
            let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((conn, version))
        };
        // Reading a WAL database needs its `-shm` index, which a full disk or a read-only
        // folder cannot hold. With no `-wal` file (or an empty one) every change is in the
        // database file itself, which is then read as it is.
        let wal =
            path.with_file_name(format!("{}-wal", path.file_name().unwrap_or_default().to_string_lossy()));
        let (conn, version) = match open(None) {
            Ok(v) => v,
            Err(e) if std::fs::metadata(&wal).map_or(true, |m| m.len() == 0) => {
                let uri = format!("file:{}?immutable=1", uri_path(path));
                open(Some(uri)).map_err(|_| db(e))?
            }
            Err(e) => return Err(db(e)),
        };
        if version != SCHEMA_VERSION {
            return Err(RegistryError::Store(format!(
                "{}: schema version {version}, this handprint reads {SCHEMA_VERSION}: {}",
                path.display(),
                if version > SCHEMA_VERSION {
                    "a newer handprint wrote it"
                } else {
                    "run any command that writes (`handprint project list` does) to upgrade it first"
                }
            )));
        }
        Ok(Store { conn, path: path.to_path_buf() })
    }

    fn migrate(&mut self) -> Result<(), RegistryError> {
        let path = self.path.clone();
        let db = |e| RegistryError::db(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
        match version {
            0..=2 => {
                if version == 0 {
                    tx.execute_batch(SCHEMA).map_err(db)?;
                }
                if version <= 1 {
                    tx.execute_batch(SCHEMA_2).map_err(db)?;
                }
                tx.execute_batch(SCHEMA_3).map_err(db)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(db)?;
            }
            SCHEMA_VERSION => {}
            v => {
                return Err(RegistryError::Store(format!(
                    "{}: schema version {v} is newer than this handprint understands ({SCHEMA_VERSION})",
                    path.display()
                )));
            }
        }
        tx.commit().map_err(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn db(&self) -> impl Fn(rusqlite::Error) -> RegistryError + '_ {
        move |e| RegistryError::db(&self.path, e)
    }

    pub fn create_project(&self, name: &str) -> Result<bool, RegistryError> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO projects (name, created) VALUES (?1, ?2)",
                params![name, ledger::event::now()],
            )
            .map_err(self.db())?;
        Ok(n == 1)
    }

    /// Projects with their event counts, by name.
    pub fn projects(&self) -> Result<Vec<(String, String, u64)>, RegistryError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT p.name, p.created, (SELECT COUNT(*) FROM events e WHERE e.project = p.name)
                 FROM projects p ORDER BY p.name",
            )
            .map_err(self.db())?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))
            .map_err(self.db())?;
        rows.collect::<Result<_, _>>().map_err(self.db())
    }

    pub fn project_exists(&self, name: &str) -> Result<bool, RegistryError> {
        View(&self.conn).project_exists(name)
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): whatever it appends or
    /// registers is committed together, or nothing is if it fails.
    pub fn transaction<T, F>(&mut self, f: F) -> Result<T, RegistryError>
    where
        F: FnOnce(&Tx) -> Result<T, RegistryError>,
    {
        let path = self.path.clone();
        let db = |e| RegistryError::db(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let t = Tx { tx, path: &path };
        let out = f(&t)?;
        t.tx.commit().map_err(db)?;
        Ok(out)
    }

    /// Runs `build` inside a write transaction, then numbers, signs and stores what it
    /// returns, with a new signed checkpoint. Returns the stored events.
    pub fn append<F>(&mut self, key: &SigningKey, build: F) -> Result<Vec<SignedEvent>, RegistryError>
    where
        F: FnOnce(&View) -> Result<Vec<Pending>, RegistryError>,
    {
        self.transaction(|tx| {
            let pending = build(&tx.view())?;
            tx.append(key, pending)
        })
    }

    /// All events in log order (optionally one project's), parsed.
    pub fn events(&self, project: Option<&str>) -> Result<Vec<SignedEvent>, RegistryError> {
        let mut out = Vec::new();
        self.for_each_leaf(project, |i, bytes| {
            out.push(
                SignedEvent::from_bytes(&bytes)
                    .map_err(|e| RegistryError::Store(format!("event {i}: {e}")))?,
            );
            Ok(())
        })?;
        Ok(out)
    }

    /// Streams stored event bytes in log order.
    pub fn for_each_leaf(
        &self,
        project: Option<&str>,
        mut f: impl FnMut(u64, Vec<u8>) -> Result<(), RegistryError>,
    ) -> Result<(), RegistryError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT log_index, bytes FROM events WHERE ?1 IS NULL OR project = ?1 ORDER BY log_index",
            )
            .map_err(self.db())?;
        let mut rows = st.query([project]).map_err(self.db())?;
        while let Some(row) = rows.next().map_err(self.db())? {
            f(row.get::<_, i64>(0).map_err(self.db())? as u64, row.get(1).map_err(self.db())?)?;
        }
        Ok(())
    }

    pub fn checkpoints(&self) -> Result<Vec<String>, RegistryError> {
        let mut st = self.conn.prepare("SELECT note FROM checkpoints ORDER BY size").map_err(self.db())?;
        let rows = st.query_map([], |r| r.get(0)).map_err(self.db())?;
        rows.collect::<Result<_, _>>().map_err(self.db())
    }

    /// The latest checkpoint: its size and signed note.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, RegistryError> {
        latest_checkpoint(&self.conn).map_err(self.db())
    }

    pub fn add_timestamp(&self, size: u64, tsa: &str, token: &[u8], time: &str) -> Result<(), RegistryError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO timestamps (size, tsa, token, time) VALUES (?1, ?2, ?3, ?4)",
                params![size as i64, tsa, token, time],
            )
            .map_err(self.db())?;
        Ok(())
    }

    /// Stored timestamp tokens with the checkpoint note each covers.
    pub fn timestamps(&self) -> Result<Vec<StoredTimestamp>, RegistryError> {
        let mut st = self
            .conn
            .prepare("SELECT t.size, t.tsa, t.token, c.note FROM timestamps t JOIN checkpoints c ON c.size = t.size ORDER BY t.size")
            .map_err(self.db())?;
        let rows = st
            .query_map([], |r| {
                Ok(StoredTimestamp {
                    size: r.get::<_, i64>(0)? as u64,
                    tsa_url: r.get(1)?,
                    token: r.get(2)?,
                    note: r.get(3)?,
                })
            })
            .map_err(self.db())?;
        rows.collect::<Result<_, _>>().map_err(self.db())
    }

    /// Stored Merkle nodes, by level then index.
    pub fn nodes(&self) -> Result<Vec<merkle::Node>, RegistryError> {
        let mut st = self
            .conn
            .prepare("SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx")
            .map_err(self.db())?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
            .map_err(self.db())?;
        let mut out = Vec::new();
        for row in rows {
            let (level, index, hash) = row.map_err(self.db())?;
            let hash = Hash::from_slice(&hash).unwrap_or_default();
            out.push(merkle::Node { level, index: index as u64, hash });
        }
        Ok(out)
    }

    pub fn view(&self) -> View<'_> {
        View(&self.conn)
    }

    /// Inclusion proof of `index` in the tree of `size` events, from the stored nodes.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, RegistryError> {
        merkle::inclusion_proof(&TxNodes(&self.conn), index, size)
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, RegistryError> {
        merkle::consistency_proof(&TxNodes(&self.conn), old, new)
    }

    pub fn root(&self, size: u64) -> Result<Hash, RegistryError> {
        merkle::root(&TxNodes(&self.conn), size)
    }
}

/// A write transaction of the store (see [`Store::transaction`]).
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    path: &'a Path,
}

impl Tx<'_> {
    pub fn view(&self) -> View<'_> {
        View(&self.tx)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }

    pub(crate) fn db(&self) -> impl Fn(rusqlite::Error) -> RegistryError + '_ {
        move |e| RegistryError::db(self.path, e)
    }

    /// Numbers, signs and stores `pending`, with a new signed checkpoint.
    pub fn append(&self, key: &SigningKey, pending: Vec<Pending>) -> Result<Vec<SignedEvent>, RegistryError> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let path = self.path;
        let db = |e| RegistryError::db(path, e);
        let tx = &self.tx;
        let size: u64 = tx
            .query_row("SELECT COALESCE(MAX(log_index) + 1, 0) FROM events", [], |r| r.get::<_, i64>(0))
            .map_err(db)? as u64;
        // The log is one key's: appending with another (an identity copied over this one)
        // would leave a journal that never verifies again.
        if let Some((_, note)) = latest_checkpoint(tx).map_err(db)? {
            let key = key.verifying_key();
            if Checkpoint::verify_note(&note, &key).is_err() {
                return Err(RegistryError::Identity(format!(
                    "{}: this journal was signed by another key than the identity's ({}): the identity \
                     files were replaced or restored from elsewhere; put back the identity this journal \
                     belongs to, nothing was appended",
                    path.display(),
                    origin_for(&key)
                )));
            }
        }
        let mut heads: HashMap<String, Head> = HashMap::new();
        for p in &pending {
            let project = &p.draft.project;
            if heads.contains_key(project) {
                continue;
            }
            if !View(tx).project_exists(project)? {
                return Err(RegistryError::NoProject(project.clone()));
            }
            let head = tx
                .query_row(
                    "SELECT project_seq, hash FROM events WHERE project = ?1 ORDER BY project_seq DESC LIMIT 1",
                    [project],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
                )
                .optional()
                .map_err(db)?;
            if let Some((seq, hash)) = head {
                let hash = Hash::from_slice(&hash)
                    .ok_or_else(|| RegistryError::Store("a stored event hash is not 32 bytes".into()))?;
                heads.insert(project.clone(), Head { seq: seq as u64, hash });
            }
        }
        let files: Vec<Vec<(Hash, &'static str)>> = pending.iter().map(|p| p.files.clone()).collect();
        let signed = ledger::append(key, size, &mut heads, pending.into_iter().map(|p| p.draft).collect());
        let leaves: Vec<Hash> = signed.iter().map(|e| merkle::leaf_hash(&e.to_bytes())).collect();
        let nodes = merkle::nodes_for_append(&TxNodes(tx), size, &leaves)?;
        {
            let mut ins_event = tx
                .prepare_cached("INSERT INTO events (log_index, project, project_seq, kind, hash, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(db)?;
            let mut ins_file = tx
                .prepare_cached("INSERT OR IGNORE INTO files (sha256, log_index, role) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for (e, files) in signed.iter().zip(&files) {
                let ev = &e.event;
                ins_event
                    .execute(params![
                        ev.log_index as i64,
                        ev.project,
                        ev.project_seq as i64,
                        ev.kind.as_str(),
                        e.hash().0.as_slice(),
                        e.to_bytes()
                    ])
                    .map_err(db)?;
                for (sha, role) in files {
                    ins_file.execute(params![sha.0.as_slice(), ev.log_index as i64, role]).map_err(db)?;
                }
            }
            let mut ins_node = tx
                .prepare_cached("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for n in &nodes {
                ins_node.execute(params![n.level, n.index as i64, n.hash.0.as_slice()]).map_err(db)?;
            }
        }
        let new_size = size + signed.len() as u64;
        let checkpoint = Checkpoint {
            origin: origin_for(&key.verifying_key()),
            size: new_size,
            root: merkle::root(&TxNodes(tx), new_size)?,
            time: ledger::event::now(),
        };
        tx.execute(
            "INSERT INTO checkpoints (size, note) VALUES (?1, ?2)",
            params![new_size as i64, checkpoint.sign(key)],
        )
        .map_err(db)?;
        Ok(signed)
    }

    /// The latest checkpoint: its size and signed note, as this transaction sees it.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, RegistryError> {
        latest_checkpoint(&self.tx).map_err(self.db())
    }

    /// Inclusion proof of `index` in the tree of `size` events.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, RegistryError> {
        merkle::inclusion_proof(&TxNodes(&self.tx), index, size)
    }
}

fn latest_checkpoint(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    conn.query_row("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", [], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
    })
    .optional()
}

/// Read access inside (or outside) a transaction, for building drafts.
pub struct View<'a>(&'a Connection);

impl View<'_> {
    fn err(e: rusqlite::Error) -> RegistryError {
        RegistryError::Store(format!("query failed: {e}"))
    }

    pub fn project_exists(&self, name: &str) -> Result<bool, RegistryError> {
        self.0
            .query_row("SELECT 1 FROM projects WHERE name = ?1", [name], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(Self::err)
    }

    /// Events that name a file with this hash in `role`, newest first (optionally in one project).
    pub fn events_with_file(
        &self,
        sha256: &Hash,
        role: &str,
        project: Option<&str>,
    ) -> Result<Vec<SignedEvent>, RegistryError> {
        let mut st = self
            .0
            .prepare_cached(
                "SELECT e.bytes FROM files f JOIN events e ON e.log_index = f.log_index
                 WHERE f.sha256 = ?1 AND f.role = ?2 AND (?3 IS NULL OR e.project = ?3)
                 ORDER BY e.log_index DESC",
            )
            .map_err(Self::err)?;
        let rows = st
            .query_map(params![sha256.0.as_slice(), role, project], |r| r.get::<_, Vec<u8>>(0))
            .map_err(Self::err)?;
        rows.map(|b| {
            let b = b.map_err(Self::err)?;
            SignedEvent::from_bytes(&b).map_err(|e| RegistryError::Store(e.to_string()))
        })
        .collect()
    }

    /// The newest events of `kind` in `project`, up to `limit`, newest first.
    pub fn latest(&self, project: &str, kind: &str, limit: usize) -> Result<Vec<SignedEvent>, RegistryError> {
        let mut st = self
            .0
            .prepare_cached(
                "SELECT bytes FROM events WHERE project = ?1 AND kind = ?2 ORDER BY log_index DESC LIMIT ?3",
            )
            .map_err(Self::err)?;
        let rows = st
            .query_map(params![project, kind, limit as i64], |r| r.get::<_, Vec<u8>>(0))
            .map_err(Self::err)?;
        rows.map(|b| {
            let b = b.map_err(Self::err)?;
            SignedEvent::from_bytes(&b).map_err(|e| RegistryError::Store(e.to_string()))
        })
        .collect()
    }
}

/// The Merkle node table, read through any connection or transaction.
struct TxNodes<'a>(&'a Connection);

impl NodeSource for TxNodes<'_> {
    type Error = RegistryError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, RegistryError> {
        let mut st = self
            .0
            .prepare_cached("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2")
            .map_err(|e| RegistryError::Store(format!("Merkle node lookup: {e}")))?;
        let bytes: Option<Vec<u8>> = st
            .query_row(params![level, index as i64], |r| r.get(0))
            .optional()
            .map_err(|e| RegistryError::Store(format!("Merkle node lookup: {e}")))?;
        bytes.and_then(|b| Hash::from_slice(&b)).ok_or_else(|| {
            RegistryError::Store(format!("Merkle node ({level}, {index}) is missing from the store"))
        })
    }
}

impl Store {
    /// Checks the whole journal (see [`ledger::verify::verify`]) and that the stored Merkle
    /// nodes are those the events give, streaming events from the database.
    pub fn verify(
        &self,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<ledger::verify::Verification, RegistryError> {
        let notes = self.checkpoints()?;
        let mut st = self.conn.prepare("SELECT bytes FROM events ORDER BY log_index").map_err(self.db())?;
        let failure = std::cell::RefCell::new(None);
        let leaves =
            st.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(self.db())?.map_while(|r| match r {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    *failure.borrow_mut() = Some(e);
                    None
                }
            });
        let mut v = ledger::verify::verify(key, leaves, &notes);
        if let Some(e) = failure.into_inner() {
            return Err(self.db()(e));
        }
        let stored = self.nodes()?;
        let computed: Vec<merkle::Node> = v.tree.nodes().collect();
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

/// `path` as the path of an SQLite `file:` URI: `%`, `?` and `#` percent-encoded.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_2_store_gains_the_works_tables_and_keeps_its_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(SCHEMA_2).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute("INSERT INTO projects (name, created) VALUES ('fox', '2026-01-01T00:00:00Z')", [])
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let version: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert!(store.project_exists("fox").unwrap());
        assert!(store.works().unwrap().is_empty());
        drop(store);
        // Opening again changes nothing.
        assert!(Store::open(&path).unwrap().project_exists("fox").unwrap());
    }

    #[test]
    fn a_newer_store_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = Store::open(&path).err().expect("refused").to_string();
        assert!(err.contains("newer than this handprint understands"), "{err}");
    }
}
