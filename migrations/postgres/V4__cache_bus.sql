-- The cache invalidation bus. Every write that changes what a cached answer shows
-- takes the next number of this sequence and announces it, with the tags it
-- touched, on the `pujo_cache` channel (NOTIFY). Replicas LISTEN and compare the
-- numbers with the ones their cached answers were read at (ARCHITECTURE.md,
-- "The edge cache"). Numbers only grow; gaps are harmless.
CREATE SEQUENCE IF NOT EXISTS pujo_cache_seq AS bigint;
