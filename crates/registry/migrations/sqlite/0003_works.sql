-- Registered works and their fingerprints.
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
