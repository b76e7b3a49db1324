-- RFC 3161 timestamp tokens over checkpoints.
CREATE TABLE timestamps (
    size  INTEGER NOT NULL REFERENCES checkpoints(size),
    tsa   TEXT NOT NULL,
    token BLOB NOT NULL,
    time  TEXT NOT NULL,
    PRIMARY KEY (size, tsa)
);
