-- The watermark ID each sealed work carries (docs/registry.md): unique in a store, so that a
-- watermark names one work. Works sealed before IDs were derived from keys carry their
-- work ID as their watermark ID.
ALTER TABLE works ADD COLUMN watermark_id BIGINT;
UPDATE works SET watermark_id = id;
CREATE UNIQUE INDEX works_watermark_id ON works (watermark_id);
