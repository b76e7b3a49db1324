//! The PostgreSQL backend, for a registry that many processes and machines write to.
//!
//! Every write transaction first takes one transaction-level advisory lock, so writers are
//! serialised as SQLite's `BEGIN IMMEDIATE` serialises them: two appends from different
//! processes never read the same log size or chain head. The lock goes with the transaction,
//! so a writer that dies or loses its connection releases it and leaves nothing behind. The
//! schema's version is the one row of `handprint_schema`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use fingerprint::catalog::WorkId;
use ledger::Hash;
use ledger::merkle::Node;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Statement};

use super::{Backend, EventRow, PublicationRow, R, Read, StoredTimestamp, WorkKey, Write};
use crate::RegistryError;
use crate::works::{NewWork, Work};

/// The schema, one step per version: version N has run the first N.
const MIGRATIONS: [&str; 5] = [
    include_str!("../../migrations/postgres/0001_journal.sql"),
    include_str!("../../migrations/postgres/0002_timestamps.sql"),
    include_str!("../../migrations/postgres/0003_works.sql"),
    include_str!("../../migrations/postgres/0004_watermark_ids.sql"),
    include_str!("../../migrations/postgres/0005_publications.sql"),
];
const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The advisory lock every write transaction holds ("handprint" in ASCII, as a number).
const WRITE_LOCK: i64 = 0x68_616e_6470_7269;

/// One connection, with the statements it has prepared: each query is one round trip after
/// its first.
pub(super) struct Postgres {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    shown: String,
}

/// A PostgreSQL failure as an error naming the database: a lost, refused or shut-down
/// connection is `Unavailable`, anything else a database error with the server's words.
fn pg_err(shown: &str, e: postgres::Error) -> RegistryError {
    let text = describe(&e);
    // SQLSTATE classes 08 (connection exception) and 57 (operator intervention: the server
    // shutting down or ending the session).
    let lost = e.is_closed()
        || e.code().is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57"))
        || (e.as_db_error().is_none() && e.code().is_none());
    if lost {
        RegistryError::Unavailable {
            at: shown.to_owned(),
            message: format!(
                "the connection to PostgreSQL failed ({text}); nothing of this change was stored"
            ),
        }
    } else {
        RegistryError::Db { at: shown.to_owned(), error: text.into() }
    }
}

/// The server's message with its SQLSTATE, detail and hint, or the client's error and cause
/// (`postgres::Error` alone displays "db error").
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl Postgres {
    pub(super) fn connect(url: &str) -> R<Postgres> {
        let shown = super::redact(url);
        let mut config = postgres::Config::from_str(url).map_err(|e| {
            RegistryError::Invalid(format!("database {shown}: not a PostgreSQL connection URL ({e})"))
        })?;
        if config.get_application_name().is_none() {
            config.application_name("handprint");
        }
        config.connect_timeout(Duration::from_secs(10)).keepalives_idle(Duration::from_secs(30));
        let mut client = config.connect(NoTls).map_err(|e| RegistryError::Unavailable {
            at: shown.clone(),
            message: format!("cannot connect to PostgreSQL: {}", describe(&e)),
        })?;
        // A writer waits for another's transaction as SQLite's busy timeout waits, then fails.
        client.batch_execute("SET lock_timeout = '30s'").map_err(|e| pg_err(&shown, e))?;
        let pg = Postgres { client: RefCell::new(client), statements: Default::default(), shown };
        pg.migrate()?;
        Ok(pg)
    }

    fn migrate(&self) -> R<()> {
        let mut client = self.borrow()?;
        let err = |e| pg_err(&self.shown, e);
        let mut tx = client.transaction().map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]).map_err(err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS handprint_schema (version INTEGER NOT NULL)")
            .map_err(err)?;
        let version: i32 =
            tx.query_opt("SELECT version FROM handprint_schema", &[]).map_err(err)?.map_or(0, |r| r.get(0));
        if version > SCHEMA_VERSION {
            return Err(RegistryError::Store(format!(
                "{}: schema version {version} is newer than this handprint understands ({SCHEMA_VERSION}); \
                 nothing was changed",
                self.shown
            )));
        }
        if version < SCHEMA_VERSION {
            for step in &MIGRATIONS[version as usize..] {
                tx.batch_execute(step).map_err(err)?;
            }
            tx.execute("DELETE FROM handprint_schema", &[]).map_err(err)?;
            tx.execute("INSERT INTO handprint_schema (version) VALUES ($1)", &[&SCHEMA_VERSION])
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

impl Postgres {
    /// The connection; a query made while another is being read is a bug, reported as an
    /// error rather than a panic.
    fn borrow(&self) -> R<std::cell::RefMut<'_, Client>> {
        self.client.try_borrow_mut().map_err(|_| {
            RegistryError::Store(format!("{}: a query was made while another was being read", self.shown))
        })
    }

    /// `sql` prepared on this connection, once.
    fn statement(&self, client: &mut Client, sql: &str) -> R<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let prepared = client.prepare(sql).map_err(self.err())?;
        self.statements.borrow_mut().insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }
}

/// Ends a write transaction that did not commit (an error, a panic) with a rollback, so that
/// the connection is never left inside it.
struct RollbackUnlessDone<'a> {
    pg: &'a Postgres,
    done: bool,
}

impl Drop for RollbackUnlessDone<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Ok(mut client) = self.pg.client.try_borrow_mut()
        {
            let _ = client.batch_execute("ROLLBACK");
        }
    }
}

impl Backend for Postgres {
    fn write(&self, f: &mut dyn FnMut(&dyn Write) -> R<()>) -> R<()> {
        let shown = &self.shown;
        // BEGIN and the lock in one round trip (the simple protocol runs both).
        self.borrow()?
            .batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
            .map_err(|e| pg_err(shown, e))?;
        let mut guard = RollbackUnlessDone { pg: self, done: false };
        f(self)?;
        guard.done = true;
        self.borrow()?.batch_execute("COMMIT").map_err(|e| {
            if e.is_closed() || e.as_db_error().is_none() {
                RegistryError::Unavailable {
                    at: shown.clone(),
                    message: format!(
                        "the connection to PostgreSQL was lost while committing ({}): the change may or may \
                         not be stored; `handprint log` shows which",
                        describe(&e)
                    ),
                }
            } else {
                pg_err(shown, e)
            }
        })
    }
}

fn work_from_row(row: &postgres::Row) -> R<Work> {
    let sha: Vec<u8> = row.get(6);
    Ok(Work {
        id: row.get(0),
        title: row.get(1),
        license: row.get(2),
        registrant: row.get(3),
        public_key: row.get(4),
        file_name: row.get(5),
        sha256: Hash::from_slice(&sha)
            .ok_or_else(|| RegistryError::Store("a work's SHA-256 is not 32 bytes".into()))?,
        width: row.get::<_, i32>(7) as u32,
        height: row.get::<_, i32>(8) as u32,
        registered: row.get(9),
        watermark_id: row.get::<_, Option<i64>>(10).map(|id| id as u64),
    })
}

const PUBLICATION_COLUMNS: &str =
    "work, log_index, creator_key, domain, disputes, evidence_public, withdrawn, manifest_id";

fn publication_from_row(row: &postgres::Row) -> R<PublicationRow> {
    let work: WorkId = row.get(0);
    let disputes: String = row.get(4);
    Ok(PublicationRow {
        work,
        log_index: row.get::<_, i64>(1) as u64,
        creator_key: row.get(2),
        domain: row.get(3),
        disputes: serde_json::from_str(&disputes)
            .map_err(|_| RegistryError::Store(format!("publication of work {work}: damaged disputes")))?,
        evidence_public: row.get(5),
        withdrawn: row.get::<_, Option<i64>>(6).map(|i| i as u64),
        manifest_id: row.get(7),
    })
}

const WORK_COLUMNS: &str =
    "id, title, license, registrant, public_key, file_name, sha256, width, height, registered, watermark_id";

type Params<'a> = &'a [&'a (dyn postgres::types::ToSql + Sync)];

impl Postgres {
    fn err(&self) -> impl Fn(postgres::Error) -> RegistryError + '_ {
        move |e| pg_err(&self.shown, e)
    }

    fn rows(&self, sql: &str, params: Params) -> R<Vec<postgres::Row>> {
        let mut client = self.borrow()?;
        let st = self.statement(&mut client, sql)?;
        client.query(&st, params).map_err(self.err())
    }

    fn opt(&self, sql: &str, params: Params) -> R<Option<postgres::Row>> {
        let mut client = self.borrow()?;
        let st = self.statement(&mut client, sql)?;
        client.query_opt(&st, params).map_err(self.err())
    }

    fn exec(&self, sql: &str, params: Params) -> R<u64> {
        let mut client = self.borrow()?;
        let st = self.statement(&mut client, sql)?;
        client.execute(&st, params).map_err(self.err())
    }

    /// Streams the rows of `sql` to `f` without holding them all.
    fn each(&self, sql: &str, params: Params, f: &mut dyn FnMut(&postgres::Row) -> R<()>) -> R<()> {
        let mut client = self.borrow()?;
        let st = self.statement(&mut client, sql)?;
        let mut rows = client.query_raw(&st, params.iter().copied()).map_err(self.err())?;
        while let Some(row) = rows.next().map_err(self.err())? {
            f(&row)?;
        }
        Ok(())
    }
}

impl Read for Postgres {
    fn append_state(&self, projects: &[&str]) -> R<super::AppendState> {
        let rows = self.rows(
            "SELECT (SELECT COALESCE(MAX(log_index) + 1, 0)::bigint FROM events),
                    c.size, c.note, EXISTS (SELECT 1 FROM projects WHERE name = p.name), h.project_seq, h.hash
             FROM UNNEST($1::text[]) WITH ORDINALITY AS p(name, ord)
             LEFT JOIN LATERAL (SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1) c ON true
             LEFT JOIN LATERAL (
                 SELECT project_seq, hash FROM events WHERE project = p.name ORDER BY project_seq DESC LIMIT 1
             ) h ON true
             ORDER BY p.ord",
            &[&projects],
        )?;
        let first = rows.first();
        Ok(super::AppendState {
            size: first.map_or(0, |r| r.get::<_, i64>(0) as u64),
            latest: first
                .and_then(|r| r.get::<_, Option<i64>>(1).map(|size| (size as u64, r.get::<_, String>(2)))),
            heads: rows
                .iter()
                .map(|r| (r.get(3), r.get::<_, Option<i64>>(4).map(|seq| (seq as u64, r.get(5)))))
                .collect(),
        })
    }

    fn project_exists(&self, name: &str) -> R<bool> {
        Ok(self.opt("SELECT 1 FROM projects WHERE name = $1", &[&name])?.is_some())
    }

    fn projects(&self) -> R<Vec<(String, String, u64)>> {
        let rows = self.rows(
            "SELECT p.name, p.created, (SELECT COUNT(*) FROM events e WHERE e.project = p.name)
             FROM projects p ORDER BY p.name",
            &[],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get::<_, i64>(2) as u64)).collect())
    }

    fn each_event(&self, project: Option<&str>, f: &mut dyn FnMut(u64, Vec<u8>) -> R<()>) -> R<()> {
        self.each(
            "SELECT log_index, bytes FROM events WHERE $1::text IS NULL OR project = $1 ORDER BY log_index",
            &[&project],
            &mut |r| f(r.get::<_, i64>(0) as u64, r.get(1)),
        )
    }

    fn events_with_file(&self, sha256: &Hash, role: &str, project: Option<&str>) -> R<Vec<Vec<u8>>> {
        let rows = self.rows(
            "SELECT e.bytes FROM files f JOIN events e ON e.log_index = f.log_index
             WHERE f.sha256 = $1 AND f.role = $2 AND ($3::text IS NULL OR e.project = $3)
             ORDER BY e.log_index DESC",
            &[&sha256.0.as_slice(), &role, &project],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn latest_events(&self, project: &str, kind: &str, limit: usize) -> R<Vec<Vec<u8>>> {
        let rows = self.rows(
            "SELECT bytes FROM events WHERE project = $1 AND kind = $2 ORDER BY log_index DESC LIMIT $3",
            &[&project, &kind, &(limit as i64)],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn nodes_at(&self, at: &[(u8, u64)]) -> R<Vec<(u8, u64, Vec<u8>)>> {
        let levels: Vec<i16> = at.iter().map(|(l, _)| *l as i16).collect();
        let indexes: Vec<i64> = at.iter().map(|(_, i)| *i as i64).collect();
        let rows = self.rows(
            // LATERAL: one index lookup per node asked for, never a scan of the table.
            "SELECT w.level, w.idx, m.hash FROM UNNEST($1::smallint[], $2::bigint[]) AS w(level, idx)
             CROSS JOIN LATERAL (SELECT hash FROM merkle_nodes WHERE level = w.level AND idx = w.idx) m",
            &[&levels, &indexes],
        )?;
        Ok(rows.iter().map(|r| (r.get::<_, i16>(0) as u8, r.get::<_, i64>(1) as u64, r.get(2))).collect())
    }

    fn all_nodes(&self) -> R<Vec<(u8, u64, Vec<u8>)>> {
        let mut out = Vec::new();
        self.each("SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx", &[], &mut |r| {
            out.push((r.get::<_, i16>(0) as u8, r.get::<_, i64>(1) as u64, r.get(2)));
            Ok(())
        })?;
        Ok(out)
    }

    fn checkpoints(&self) -> R<Vec<String>> {
        Ok(self.rows("SELECT note FROM checkpoints ORDER BY size", &[])?.iter().map(|r| r.get(0)).collect())
    }

    fn latest_checkpoint(&self) -> R<Option<(u64, String)>> {
        let row = self.opt("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", &[])?;
        Ok(row.map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
    }

    fn timestamps(&self) -> R<Vec<StoredTimestamp>> {
        let rows = self.rows(
            "SELECT t.size, t.tsa, t.token, c.note FROM timestamps t JOIN checkpoints c ON c.size = t.size
             ORDER BY t.size",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| StoredTimestamp {
                size: r.get::<_, i64>(0) as u64,
                tsa_url: r.get(1),
                token: r.get(2),
                note: r.get(3),
            })
            .collect())
    }

    fn work(&self, key: WorkKey) -> R<Option<Work>> {
        let row = match key {
            WorkKey::Id(id) => {
                self.opt(&format!("SELECT {WORK_COLUMNS} FROM works WHERE id = $1"), &[&id])?
            }
            WorkKey::Sha256(sha) => self
                .opt(&format!("SELECT {WORK_COLUMNS} FROM works WHERE sha256 = $1"), &[&sha.0.as_slice()])?,
            WorkKey::Watermark(id) => self
                .opt(&format!("SELECT {WORK_COLUMNS} FROM works WHERE watermark_id = $1"), &[&(id as i64)])?,
        };
        row.as_ref().map(work_from_row).transpose()
    }

    fn works(&self) -> R<Vec<Work>> {
        self.rows(&format!("SELECT {WORK_COLUMNS} FROM works ORDER BY id"), &[])?
            .iter()
            .map(work_from_row)
            .collect()
    }

    fn thumbnail(&self, id: WorkId) -> R<Option<Vec<u8>>> {
        Ok(self.opt("SELECT thumbnail FROM works WHERE id = $1", &[&id])?.map(|r| r.get(0)))
    }

    fn each_work_code(&self, f: &mut dyn FnMut(WorkId, String, Vec<u8>) -> R<()>) -> R<()> {
        self.each("SELECT work, variant, code FROM work_codes", &[], &mut |r| f(r.get(0), r.get(1), r.get(2)))
    }

    fn each_work_features(&self, f: &mut dyn FnMut(WorkId, Vec<u8>) -> R<()>) -> R<()> {
        self.each("SELECT id, features FROM works ORDER BY id", &[], &mut |r| f(r.get(0), r.get(1)))
    }
    fn works_after(&self, after: WorkId, limit: usize) -> R<Vec<super::StoredWork>> {
        let mut works: Vec<super::StoredWork> = self
            .rows(
                "SELECT id, features FROM works WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &(limit as i64)],
            )?
            .iter()
            .map(|r| (r.get(0), Vec::new(), r.get(1)))
            .collect();
        let Some(last) = works.last().map(|w| w.0) else { return Ok(works) };
        for r in self.rows(
            "SELECT work, variant, code FROM work_codes WHERE work > $1 AND work <= $2",
            &[&after, &last],
        )? {
            let work: WorkId = r.get(0);
            if let Ok(i) = works.binary_search_by_key(&work, |w| w.0) {
                works[i].1.push((r.get(1), r.get(2)));
            }
        }
        Ok(works)
    }

    fn publication(&self, work: WorkId) -> R<Option<PublicationRow>> {
        self.opt(&format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE work = $1"), &[&work])?
            .as_ref()
            .map(publication_from_row)
            .transpose()
    }

    fn publication_by_manifest(&self, manifest_id: &str) -> R<Option<PublicationRow>> {
        self.opt(
            &format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE manifest_id = $1"),
            &[&manifest_id],
        )?
        .as_ref()
        .map(publication_from_row)
        .transpose()
    }

    fn event_range(&self, start: u64, end: u64) -> R<Vec<(u64, Vec<u8>)>> {
        Ok(self
            .rows(
                "SELECT log_index, bytes FROM events WHERE log_index >= $1 AND log_index < $2 ORDER BY log_index",
                &[&(start.min(i64::MAX as u64) as i64), &(end.min(i64::MAX as u64) as i64)],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .collect())
    }

    fn recent_publications(&self, limit: usize) -> R<Vec<PublicationRow>> {
        self.rows(
            &format!("SELECT {PUBLICATION_COLUMNS} FROM publications ORDER BY log_index DESC LIMIT $1"),
            &[&(limit as i64)],
        )?
        .iter()
        .map(publication_from_row)
        .collect()
    }

    fn publication_file(&self, work: WorkId, name: &str) -> R<Option<Vec<u8>>> {
        Ok(self
            .opt("SELECT bytes FROM publication_files WHERE work = $1 AND name = $2", &[&work, &name])?
            .map(|r| r.get(0)))
    }

    fn publication_files(&self, work: WorkId) -> R<Vec<String>> {
        Ok(self
            .rows("SELECT name FROM publication_files WHERE work = $1 ORDER BY name", &[&work])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}

impl Write for Postgres {
    // One statement for the whole append: the foreign keys are checked at its end, when
    // every row is in.
    fn insert_append(
        &self,
        events: &[EventRow],
        files: &[(Hash, u64, &str)],
        nodes: &[Node],
        checkpoint: (u64, &str),
    ) -> R<()> {
        let log_index: Vec<i64> = events.iter().map(|e| e.log_index as i64).collect();
        let project: Vec<&str> = events.iter().map(|e| e.project).collect();
        let seq: Vec<i64> = events.iter().map(|e| e.project_seq as i64).collect();
        let kind: Vec<&str> = events.iter().map(|e| e.kind).collect();
        let hash: Vec<&[u8]> = events.iter().map(|e| e.hash.0.as_slice()).collect();
        let bytes: Vec<&[u8]> = events.iter().map(|e| e.bytes.as_slice()).collect();
        let file_sha: Vec<&[u8]> = files.iter().map(|f| f.0.0.as_slice()).collect();
        let file_index: Vec<i64> = files.iter().map(|f| f.1 as i64).collect();
        let file_role: Vec<&str> = files.iter().map(|f| f.2).collect();
        let level: Vec<i16> = nodes.iter().map(|n| n.level as i16).collect();
        let index: Vec<i64> = nodes.iter().map(|n| n.index as i64).collect();
        let node_hash: Vec<&[u8]> = nodes.iter().map(|n| n.hash.0.as_slice()).collect();
        self.exec(
            "WITH e AS (
                 INSERT INTO events (log_index, project, project_seq, kind, hash, bytes)
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bytea[], $6::bytea[])),
             f AS (
                 INSERT INTO files (sha256, log_index, role)
                 SELECT * FROM UNNEST($7::bytea[], $8::bigint[], $9::text[]) ON CONFLICT DO NOTHING),
             n AS (
                 INSERT INTO merkle_nodes (level, idx, hash)
                 SELECT * FROM UNNEST($10::smallint[], $11::bigint[], $12::bytea[]))
             INSERT INTO checkpoints (size, note) VALUES ($13, $14)",
            &[
                &log_index,
                &project,
                &seq,
                &kind,
                &hash,
                &bytes,
                &file_sha,
                &file_index,
                &file_role,
                &level,
                &index,
                &node_hash,
                &(checkpoint.0 as i64),
                &checkpoint.1,
            ],
        )
        .map(drop)
    }

    fn create_project(&self, name: &str, created: &str) -> R<bool> {
        let n = self.exec(
            "INSERT INTO projects (name, created) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&name, &created],
        )?;
        Ok(n == 1)
    }

    fn put_timestamp(&self, size: u64, tsa: &str, token: &[u8], time: &str) -> R<()> {
        self.exec(
            "INSERT INTO timestamps (size, tsa, token, time) VALUES ($1, $2, $3, $4)
             ON CONFLICT (size, tsa) DO UPDATE SET token = EXCLUDED.token, time = EXCLUDED.time",
            &[&(size as i64), &tsa, &token, &time],
        )
        .map(drop)
    }

    fn next_work_id(&self) -> R<WorkId> {
        let row = self.opt("SELECT COALESCE(MAX(id), 0) + 1 FROM works", &[])?;
        Ok(row.map_or(1, |r| r.get(0)))
    }

    fn insert_work(&self, w: &NewWork) -> R<WorkId> {
        let id = match w.id {
            Some(id) => id,
            None => self.next_work_id()?,
        };
        let insert =
            "INSERT INTO works (id, title, license, registrant, public_key, file_name, sha256, width, height,
                                registered, pdq_quality, phash, features, thumbnail, watermark_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        let mut client = self.borrow()?;
        let st = self.statement(&mut client, insert)?;
        client
            .execute(
                &st,
                &[
                    &id,
                    &w.title,
                    &w.license,
                    &w.registrant,
                    &w.public_key,
                    &w.file_name,
                    &w.sha256.0.as_slice(),
                    &(w.width as i32),
                    &(w.height as i32),
                    &w.registered,
                    &(w.pdq_quality as i32),
                    &w.phash,
                    &w.features,
                    &w.thumbnail,
                    &w.watermark_id.map(|id| id as i64),
                ],
            )
            .map_err(|e| match (e.code(), w.watermark_id) {
                (Some(&postgres::error::SqlState::UNIQUE_VIOLATION), Some(id))
                    if e.as_db_error().and_then(|d| d.constraint()) == Some("works_watermark_id") =>
                {
                    super::watermark_taken(id)
                }
                _ => pg_err(&self.shown, e),
            })?;
        drop(client);
        let variants: Vec<&str> = w.codes.iter().map(|(v, _)| v.as_str()).collect();
        let codes: Vec<&[u8]> = w.codes.iter().map(|(_, c)| c.as_slice()).collect();
        self.exec(
            "INSERT INTO work_codes (work, variant, code) SELECT $1, * FROM UNNEST($2::text[], $3::bytea[])",
            &[&id, &variants, &codes],
        )?;
        Ok(id)
    }

    fn insert_publication(&self, row: &PublicationRow, files: &[(String, Vec<u8>)]) -> R<()> {
        let disputes = serde_json::to_string(&row.disputes).expect("IDs serialize");
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        let bytes: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
        self.exec(
            "WITH p AS (INSERT INTO publications
                          (work, log_index, creator_key, domain, disputes, evidence_public, withdrawn, manifest_id)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $10))
             INSERT INTO publication_files (work, name, bytes) SELECT $1, * FROM UNNEST($8::text[], $9::bytea[])",
            &[
                &row.work,
                &(row.log_index as i64),
                &row.creator_key,
                &row.domain,
                &disputes,
                &row.evidence_public,
                &row.withdrawn.map(|i| i as i64),
                &names,
                &bytes,
                &row.manifest_id,
            ],
        )
        .map(drop)
    }

    fn mark_withdrawn(&self, work: WorkId, log_index: u64) -> R<()> {
        self.exec("UPDATE publications SET withdrawn = $2 WHERE work = $1", &[&work, &(log_index as i64)])
            .map(drop)
    }
}
