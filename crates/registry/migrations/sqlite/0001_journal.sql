-- The journal: projects, signed events, the file index, the Merkle log and its checkpoints.
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
