-- Works published on a registry server (docs/server.md). A row is written in the same
-- transaction as the `published` event of the server's log that it names.
CREATE TABLE publications (
    work            BIGINT PRIMARY KEY REFERENCES works(id),
    log_index       BIGINT NOT NULL UNIQUE,
    creator_key     TEXT NOT NULL,
    -- The label of the image's active C2PA manifest (urn:c2pa:…), for the soft-binding API.
    manifest_id     TEXT UNIQUE,
    -- A web domain whose /.well-known/handprint.txt named the key when it was published.
    domain          TEXT,
    -- JSON array: the earlier works, published under other keys, that this image matches.
    disputes        TEXT NOT NULL,
    evidence_public BOOLEAN NOT NULL,
    -- The log index of the `withdrawn` event, once the creator withdrew the work.
    withdrawn       BIGINT
);
-- The files kept with a publication: `image` (the sealed image as published) and
-- `evidence/PATH` (its evidence bundle).
CREATE TABLE publication_files (
    work  BIGINT NOT NULL REFERENCES works(id),
    name  TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (work, name)
);
