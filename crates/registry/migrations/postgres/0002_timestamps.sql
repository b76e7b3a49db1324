-- RFC 3161 timestamp tokens over checkpoints.
CREATE TABLE timestamps (
    size  BIGINT NOT NULL REFERENCES checkpoints(size),
    tsa   TEXT NOT NULL,
    token BYTEA NOT NULL,
    time  TEXT NOT NULL,
    PRIMARY KEY (size, tsa)
);
