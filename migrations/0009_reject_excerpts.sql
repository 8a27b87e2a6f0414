-- Version 9: a reject keeps at most the first 256 bytes of its raw value (a 100 MB field once
-- cost 100 MB here and in every report); these say how long the whole value was and its
-- SHA-256, which with the run's raw snapshot finds it again. Both NULL when kept whole.
ALTER TABLE etl_rejects ADD COLUMN raw_bytes INTEGER;
ALTER TABLE etl_rejects ADD COLUMN raw_sha256 TEXT;
