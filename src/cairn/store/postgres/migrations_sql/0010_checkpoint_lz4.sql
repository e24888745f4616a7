-- A checkpoint's content is compressed with lz4 where the server has it (PostgreSQL 14+, built
-- with lz4, as Debian's and the official images are), not pglz (issue 12): a 2 KB version cost
-- ~145k instructions of pglz on every write, lz4 ~10k (1,474k -> 1,369k per write, callgrind),
-- for a few percent less compression. Versions already stored keep their pglz; both read alike,
-- and a dump carries the text, not its compression. A server without lz4 keeps pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
            WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE checkpoints ALTER COLUMN content SET COMPRESSION lz4;
    END IF;
END;
$$;
