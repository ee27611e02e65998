// Fixtures the smoke checks mount: small extensions shipped in pg-images's own tree, so checks
// never depend on the project being built.

/** A C extension built with PGXS, with a pg_regress suite (sql/ and expected/). */
export const PGXS_FIXTURE = { path: "test/fixtures/pgxs-hello", at: "/fixture", extension: "pgxs_hello" } as const;
