// Fixtures the smoke checks mount: small extensions shipped in pg-images's own tree, so checks
// never depend on the project being built.

export interface Fixture {
  /** Path in pg-images's tree. */
  path: string;
  /** Where the checks mount it (read-only). */
  at: string;
  /** Its extension name (the .control file's). */
  extension: string;
}

/** A C extension built with PGXS, with a pg_regress suite (sql/ and expected/). */
export const PGXS_FIXTURE: Fixture = { path: "test/fixtures/pgxs-hello", at: "/fixture", extension: "pgxs_hello" };

/**
 * An extension shaped like a real one: includes libpq/libpq-be.h and libpq/auth.h, links
 * OpenSSL, libcurl, lz4, zstd and ICU, must be in shared_preload_libraries, and has a
 * pg_regress suite, an isolation spec and a TAP test (PostgreSQL::Test::Cluster, IPC::Run).
 */
export const REAL_FIXTURE: Fixture = { path: "test/fixtures/ext-real", at: "/fixture-real", extension: "ext_real" };
