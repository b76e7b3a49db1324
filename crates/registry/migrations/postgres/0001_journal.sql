-- The journal: projects, signed events, the file index, the Merkle log and its checkpoints.
CREATE TABLE projects (
    name    TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
CREATE TABLE events (
    log_index   BIGINT PRIMARY KEY,
    project     TEXT NOT NULL REFERENCES projects(name),
    project_seq BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    hash        BYTEA NOT NULL UNIQUE,
    bytes       BYTEA NOT NULL,
    UNIQUE (project, project_seq)
);
CREATE INDEX events_project_kind ON events (project, kind, log_index);
-- Which events name which files, by SHA-256: `output` for a file the event produced or
-- brought in (generated, imported, edit output), `input` for one it used.
CREATE TABLE files (
    sha256    BYTEA NOT NULL,
    log_index BIGINT NOT NULL REFERENCES events(log_index),
    role      TEXT NOT NULL,
    PRIMARY KEY (sha256, log_index, role)
);
-- Complete subtrees of the RFC 9162 Merkle log: (level, index) covers leaves
-- index*2^level .. (index+1)*2^level.
CREATE TABLE merkle_nodes (
    level SMALLINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);
