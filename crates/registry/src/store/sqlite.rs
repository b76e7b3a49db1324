//! The embedded backend: one SQLite file (WAL, synchronous=FULL). Writers are serialised by
//! `BEGIN IMMEDIATE`; the schema's version is `PRAGMA user_version`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fingerprint::catalog::WorkId;
use ledger::Hash;
use ledger::merkle::Node;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    AppendState, Backend, EventRow, PublicationRow, R, Read, StoredHead, StoredTimestamp, WorkKey, Write,
};
use crate::RegistryError;
use crate::works::{NewWork, Work};

/// The schema, one step per version: `user_version` N has run the first N.
const MIGRATIONS: [&str; 5] = [
    include_str!("../../migrations/sqlite/0001_journal.sql"),
    include_str!("../../migrations/sqlite/0002_timestamps.sql"),
    include_str!("../../migrations/sqlite/0003_works.sql"),
    include_str!("../../migrations/sqlite/0004_watermark_ids.sql"),
    include_str!("../../migrations/sqlite/0005_publications.sql"),
];
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) struct Sqlite {
    conn: Connection,
    path: PathBuf,
}

/// A query failure as an error naming the file; a full disk says so.
fn db(path: &Path, e: rusqlite::Error) -> RegistryError {
    use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
    match e.sqlite_error_code() {
        Some(DiskFull | SystemIoFailure) => RegistryError::Full(path.to_path_buf(), e.to_string()),
        _ => RegistryError::Db { at: path.display().to_string(), error: Box::new(e) },
    }
}

impl Sqlite {
    pub(super) fn open(path: &Path) -> R<Sqlite> {
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
        let conn = Connection::open(path).map_err(|e| db(path, e))?;
        let err = |e| db(path, e);
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        let store = Sqlite { conn, path: path.to_path_buf() };
        store.migrate()?;
        Ok(store)
    }

    pub(super) fn open_read_only(path: &Path) -> R<Sqlite> {
        use rusqlite::OpenFlags;
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
                open(Some(uri)).map_err(|_| db(path, e))?
            }
            Err(e) => return Err(db(path, e)),
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
        Ok(Sqlite { conn, path: path.to_path_buf() })
    }

    fn migrate(&self) -> R<()> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if version > SCHEMA_VERSION {
            return Err(RegistryError::Store(format!(
                "{}: schema version {version} is newer than this handprint understands ({SCHEMA_VERSION}); \
                 nothing was changed",
                self.path.display()
            )));
        }
        if version < SCHEMA_VERSION {
            for step in &MIGRATIONS[version.max(0) as usize..] {
                tx.execute_batch(step).map_err(|e| self.err(e))?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> RegistryError {
        db(&self.path, e)
    }
}

impl Backend for Sqlite {
    fn write(&self, f: &mut dyn FnMut(&dyn Write) -> R<()>) -> R<()> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        f(self)?;
        tx.commit().map_err(|e| self.err(e))
    }
}

const WORK_COLUMNS: &str =
    "id, title, license, registrant, public_key, file_name, sha256, width, height, registered, watermark_id";

const PUBLICATION_COLUMNS: &str =
    "work, log_index, creator_key, domain, disputes, evidence_public, withdrawn, manifest_id";

fn publication_from_row(row: &rusqlite::Row) -> rusqlite::Result<R<PublicationRow>> {
    let disputes: String = row.get(4)?;
    let work: WorkId = row.get(0)?;
    let Ok(disputes) = serde_json::from_str(&disputes) else {
        return Ok(Err(RegistryError::Store(format!("publication of work {work}: damaged disputes"))));
    };
    Ok(Ok(PublicationRow {
        work,
        log_index: row.get::<_, i64>(1)? as u64,
        creator_key: row.get(2)?,
        domain: row.get(3)?,
        disputes,
        evidence_public: row.get(5)?,
        withdrawn: row.get::<_, Option<i64>>(6)?.map(|i| i as u64),
        manifest_id: row.get(7)?,
    }))
}

fn work_from_row(row: &rusqlite::Row) -> rusqlite::Result<Work> {
    let sha: Vec<u8> = row.get(6)?;
    Ok(Work {
        id: row.get(0)?,
        title: row.get(1)?,
        license: row.get(2)?,
        registrant: row.get(3)?,
        public_key: row.get(4)?,
        file_name: row.get(5)?,
        sha256: Hash(sha.try_into().map_err(|_| {
            rusqlite::Error::InvalidColumnType(6, "sha256".into(), rusqlite::types::Type::Blob)
        })?),
        width: row.get(7)?,
        height: row.get(8)?,
        registered: row.get(9)?,
        watermark_id: row.get::<_, Option<i64>>(10)?.map(|id| id as u64),
    })
}

/// The rows an append reads and writes, one statement each (SQLite runs in-process: there
/// are no round trips to save).
impl Sqlite {
    fn log_size(&self) -> R<u64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(log_index) + 1, 0) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    fn head(&self, project: &str) -> R<Option<StoredHead>> {
        self.conn
            .query_row(
                "SELECT project_seq, hash FROM events WHERE project = ?1 ORDER BY project_seq DESC LIMIT 1",
                [project],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn insert_events(&self, events: &[EventRow]) -> R<()> {
        let mut st = self
            .conn
            .prepare_cached(
                "INSERT INTO events (log_index, project, project_seq, kind, hash, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(|e| self.err(e))?;
        for e in events {
            st.execute(params![
                e.log_index as i64,
                e.project,
                e.project_seq as i64,
                e.kind,
                e.hash.0.as_slice(),
                e.bytes
            ])
            .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn insert_files(&self, files: &[(Hash, u64, &str)]) -> R<()> {
        let mut st = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO files (sha256, log_index, role) VALUES (?1, ?2, ?3)")
            .map_err(|e| self.err(e))?;
        for (sha, log_index, role) in files {
            st.execute(params![sha.0.as_slice(), *log_index as i64, role]).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn insert_nodes(&self, nodes: &[Node]) -> R<()> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
            .map_err(|e| self.err(e))?;
        for n in nodes {
            st.execute(params![n.level, n.index as i64, n.hash.0.as_slice()]).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn insert_checkpoint(&self, size: u64, note: &str) -> R<()> {
        self.conn
            .execute("INSERT INTO checkpoints (size, note) VALUES (?1, ?2)", params![size as i64, note])
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

impl Read for Sqlite {
    fn append_state(&self, projects: &[&str]) -> R<AppendState> {
        let mut heads = Vec::with_capacity(projects.len());
        for p in projects {
            heads.push((self.project_exists(p)?, self.head(p)?));
        }
        Ok(AppendState { size: self.log_size()?, latest: self.latest_checkpoint()?, heads })
    }

    fn project_exists(&self, name: &str) -> R<bool> {
        self.conn
            .query_row("SELECT 1 FROM projects WHERE name = ?1", [name], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    fn projects(&self) -> R<Vec<(String, String, u64)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT p.name, p.created, (SELECT COUNT(*) FROM events e WHERE e.project = p.name)
                 FROM projects p ORDER BY p.name",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn each_event(&self, project: Option<&str>, f: &mut dyn FnMut(u64, Vec<u8>) -> R<()>) -> R<()> {
        let mut st = self
            .conn
            .prepare(
                "SELECT log_index, bytes FROM events WHERE ?1 IS NULL OR project = ?1 ORDER BY log_index",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([project]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            f(row.get::<_, i64>(0).map_err(|e| self.err(e))? as u64, row.get(1).map_err(|e| self.err(e))?)?;
        }
        Ok(())
    }

    fn events_with_file(&self, sha256: &Hash, role: &str, project: Option<&str>) -> R<Vec<Vec<u8>>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT e.bytes FROM files f JOIN events e ON e.log_index = f.log_index
                 WHERE f.sha256 = ?1 AND f.role = ?2 AND (?3 IS NULL OR e.project = ?3)
                 ORDER BY e.log_index DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![sha256.0.as_slice(), role, project], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn latest_events(&self, project: &str, kind: &str, limit: usize) -> R<Vec<Vec<u8>>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT bytes FROM events WHERE project = ?1 AND kind = ?2 ORDER BY log_index DESC LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows =
            st.query_map(params![project, kind, limit as i64], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn nodes_at(&self, at: &[(u8, u64)]) -> R<Vec<(u8, u64, Vec<u8>)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2")
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(at.len());
        for &(level, index) in at {
            let hash: Option<Vec<u8>> = st
                .query_row(params![level, index as i64], |r| r.get(0))
                .optional()
                .map_err(|e| self.err(e))?;
            out.extend(hash.map(|h| (level, index, h)));
        }
        Ok(out)
    }

    fn all_nodes(&self) -> R<Vec<(u8, u64, Vec<u8>)>> {
        let mut st = self
            .conn
            .prepare("SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, u8>(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn checkpoints(&self) -> R<Vec<String>> {
        let mut st =
            self.conn.prepare("SELECT note FROM checkpoints ORDER BY size").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn latest_checkpoint(&self) -> R<Option<(u64, String)>> {
        self.conn
            .query_row("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    fn timestamps(&self) -> R<Vec<StoredTimestamp>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT t.size, t.tsa, t.token, c.note FROM timestamps t JOIN checkpoints c ON c.size = t.size
                 ORDER BY t.size",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(StoredTimestamp {
                    size: r.get::<_, i64>(0)? as u64,
                    tsa_url: r.get(1)?,
                    token: r.get(2)?,
                    note: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn work(&self, key: WorkKey) -> R<Option<Work>> {
        let found = match key {
            WorkKey::Id(id) => self.conn.query_row(
                &format!("SELECT {WORK_COLUMNS} FROM works WHERE id = ?1"),
                [id],
                work_from_row,
            ),
            WorkKey::Sha256(sha) => self.conn.query_row(
                &format!("SELECT {WORK_COLUMNS} FROM works WHERE sha256 = ?1"),
                [sha.0.as_slice()],
                work_from_row,
            ),
            WorkKey::Watermark(id) => self.conn.query_row(
                &format!("SELECT {WORK_COLUMNS} FROM works WHERE watermark_id = ?1"),
                [id as i64],
                work_from_row,
            ),
        };
        found.optional().map_err(|e| self.err(e))
    }

    fn works(&self) -> R<Vec<Work>> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {WORK_COLUMNS} FROM works ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], work_from_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn thumbnail(&self, id: WorkId) -> R<Option<Vec<u8>>> {
        self.conn
            .query_row("SELECT thumbnail FROM works WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn each_work_code(&self, f: &mut dyn FnMut(WorkId, String, Vec<u8>) -> R<()>) -> R<()> {
        let mut st =
            self.conn.prepare("SELECT work, variant, code FROM work_codes").map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let get = |e| self.err(e);
            f(row.get(0).map_err(get)?, row.get(1).map_err(get)?, row.get(2).map_err(get)?)?;
        }
        Ok(())
    }

    fn each_work_features(&self, f: &mut dyn FnMut(WorkId, Vec<u8>) -> R<()>) -> R<()> {
        let mut st =
            self.conn.prepare("SELECT id, features FROM works ORDER BY id").map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let get = |e| self.err(e);
            f(row.get(0).map_err(get)?, row.get(1).map_err(get)?)?;
        }
        Ok(())
    }
    fn works_after(&self, after: WorkId, limit: usize) -> R<Vec<super::StoredWork>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, features FROM works WHERE id > ?1 ORDER BY id LIMIT ?2")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, Vec::new(), r.get(1)?)))
            .map_err(|e| self.err(e))?;
        let mut works: Vec<super::StoredWork> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        let Some(last) = works.last().map(|w| w.0) else { return Ok(works) };
        let mut st = self
            .conn
            .prepare_cached("SELECT work, variant, code FROM work_codes WHERE work > ?1 AND work <= ?2")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query(params![after, last]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let get = |e| self.err(e);
            let work: WorkId = row.get(0).map_err(get)?;
            if let Ok(i) = works.binary_search_by_key(&work, |w| w.0) {
                works[i].1.push((row.get(1).map_err(get)?, row.get(2).map_err(get)?));
            }
        }
        Ok(works)
    }

    fn publication(&self, work: WorkId) -> R<Option<PublicationRow>> {
        self.conn
            .prepare_cached(&format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE work = ?1"))
            .and_then(|mut st| st.query_row([work], publication_from_row).optional())
            .map_err(|e| self.err(e))?
            .transpose()
    }

    fn publication_by_manifest(&self, manifest_id: &str) -> R<Option<PublicationRow>> {
        self.conn
            .prepare_cached(&format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE manifest_id = ?1"))
            .and_then(|mut st| st.query_row([manifest_id], publication_from_row).optional())
            .map_err(|e| self.err(e))?
            .transpose()
    }

    fn event_range(&self, start: u64, end: u64) -> R<Vec<(u64, Vec<u8>)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT log_index, bytes FROM events WHERE log_index >= ?1 AND log_index < ?2 ORDER BY log_index")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![start as i64, end.min(i64::MAX as u64) as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn recent_publications(&self, limit: usize) -> R<Vec<PublicationRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PUBLICATION_COLUMNS} FROM publications ORDER BY log_index DESC LIMIT ?1"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([limit as i64], publication_from_row).map_err(|e| self.err(e))?;
        rows.map(|r| r.map_err(|e| self.err(e))?).collect()
    }

    fn publication_file(&self, work: WorkId, name: &str) -> R<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT bytes FROM publication_files WHERE work = ?1 AND name = ?2",
                params![work, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn publication_files(&self, work: WorkId) -> R<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT name FROM publication_files WHERE work = ?1 ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([work], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

impl Write for Sqlite {
    fn insert_append(
        &self,
        events: &[EventRow],
        files: &[(Hash, u64, &str)],
        nodes: &[Node],
        checkpoint: (u64, &str),
    ) -> R<()> {
        self.insert_events(events)?;
        self.insert_files(files)?;
        self.insert_nodes(nodes)?;
        self.insert_checkpoint(checkpoint.0, checkpoint.1)
    }

    fn create_project(&self, name: &str, created: &str) -> R<bool> {
        self.conn
            .execute("INSERT OR IGNORE INTO projects (name, created) VALUES (?1, ?2)", params![name, created])
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    fn put_timestamp(&self, size: u64, tsa: &str, token: &[u8], time: &str) -> R<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO timestamps (size, tsa, token, time) VALUES (?1, ?2, ?3, ?4)",
                params![size as i64, tsa, token, time],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    fn next_work_id(&self) -> R<WorkId> {
        self.conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM works", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn insert_work(&self, w: &NewWork) -> R<WorkId> {
        self.conn
            .execute(
                "INSERT INTO works (id, title, license, registrant, public_key, file_name, sha256, width, height,
                                    registered, pdq_quality, phash, features, thumbnail, watermark_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    w.id,
                    w.title,
                    w.license,
                    w.registrant,
                    w.public_key,
                    w.file_name,
                    w.sha256.0.as_slice(),
                    w.width,
                    w.height,
                    w.registered,
                    w.pdq_quality,
                    w.phash,
                    w.features,
                    w.thumbnail,
                    w.watermark_id.map(|id| id as i64),
                ],
            )
            .map_err(|e| watermark_clash(e, w).unwrap_or_else(|e| self.err(e)))?;
        let id = self.conn.last_insert_rowid();
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO work_codes (work, variant, code) VALUES (?1, ?2, ?3)")
            .map_err(|e| self.err(e))?;
        for (variant, code) in &w.codes {
            st.execute(params![id, variant, code]).map_err(|e| self.err(e))?;
        }
        Ok(id)
    }
    fn insert_publication(&self, row: &PublicationRow, files: &[(String, Vec<u8>)]) -> R<()> {
        let disputes = serde_json::to_string(&row.disputes).expect("IDs serialize");
        self.conn
            .execute(
                "INSERT INTO publications
                   (work, log_index, creator_key, domain, disputes, evidence_public, withdrawn, manifest_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    row.work,
                    row.log_index as i64,
                    row.creator_key,
                    row.domain,
                    disputes,
                    row.evidence_public,
                    row.withdrawn.map(|i| i as i64),
                    row.manifest_id,
                ],
            )
            .map_err(|e| self.err(e))?;
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO publication_files (work, name, bytes) VALUES (?1, ?2, ?3)")
            .map_err(|e| self.err(e))?;
        for (name, bytes) in files {
            st.execute(params![row.work, name, bytes]).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn mark_withdrawn(&self, work: WorkId, log_index: u64) -> R<()> {
        self.conn
            .execute(
                "UPDATE publications SET withdrawn = ?2 WHERE work = ?1",
                params![work, log_index as i64],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

/// A watermark ID already taken, as the conflict it is.
fn watermark_clash(e: rusqlite::Error, w: &NewWork) -> Result<RegistryError, rusqlite::Error> {
    match (&e, w.watermark_id) {
        (rusqlite::Error::SqliteFailure(f, Some(m)), Some(id))
            if f.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("watermark_id") =>
        {
            Ok(super::watermark_taken(id))
        }
        _ => Err(e),
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
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATIONS[1]).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute("INSERT INTO projects (name, created) VALUES ('fox', '2026-01-01T00:00:00Z')", [])
                .unwrap();
        }
        let store = Sqlite::open(&path).unwrap();
        let version: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert!(store.project_exists("fox").unwrap());
        assert!(store.works().unwrap().is_empty());
        drop(store);
        // Opening again changes nothing.
        assert!(Sqlite::open(&path).unwrap().project_exists("fox").unwrap());
    }

    #[test]
    fn a_newer_store_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = Sqlite::open(&path).err().expect("refused").to_string();
        assert!(err.contains("newer than this handprint understands"), "{err}");
        let version: i64 =
            Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION + 1);
    }
}
