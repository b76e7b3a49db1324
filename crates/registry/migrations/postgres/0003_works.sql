-- Registered works and their fingerprints.
CREATE TABLE works (
    id          BIGINT PRIMARY KEY,
    title       TEXT NOT NULL,
    license     TEXT,
    registrant  TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    sha256      BYTEA NOT NULL UNIQUE,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    registered  TEXT NOT NULL,
    pdq_quality INTEGER NOT NULL,
    phash       BIGINT NOT NULL,
    features    BYTEA NOT NULL,
    thumbnail   BYTEA NOT NULL
);
-- The global codes a work is found by: PDQ's dihedral variants and PDQ without borders.
CREATE TABLE work_codes (
    work    BIGINT NOT NULL REFERENCES works(id),
    variant TEXT NOT NULL,
    code    BYTEA NOT NULL,
    PRIMARY KEY (work, variant)
);
