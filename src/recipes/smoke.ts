// Shell pieces the smoke checks share: a throwaway cluster on a Unix socket (never TCP), and the
// version assertion. Checks print what they found, so a failure explains itself.
import type { PgVersion } from "../plan/types.js";

export interface ClusterOptions {
  /** Directory of the major's binaries. */
  bin: string;
  /** Libraries for shared_preload_libraries. */
  preload?: readonly string[];
  /** Prefix for commands that must run as the postgres user (e.g. when the check runs as root). */
  asPostgres?: string;
}

/** `SELECT version()` starts with this: "PostgreSQL 17.9 " ("19~beta1" reads "19beta1"). */
export function versionBanner(p: PgVersion): string {
  return `PostgreSQL ${p.version.replace("~", "")} `;
}

/**
 * Shell: initdb into a fresh directory and start a server listening only on a socket there;
 * sets $d (the directory), $opts (server options, for a restart) and $psql.
 */
export function startCluster(o: ClusterOptions): string {
  const as = o.asPostgres ? `${o.asPostgres} ` : "";
  const preload = o.preload && o.preload.length > 0 ? ` -c shared_preload_libraries=${o.preload.join(",")}` : "";
  return [
    `d=$(${as}mktemp -d)`,
    `${as}${o.bin}/initdb -D "$d/data" -U postgres --auth=trust --no-locale -E UTF8 >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log"; echo "initdb failed"; exit 1; }`,
    `opts="-c listen_addresses= -k $d${preload}"`,
    `${as}${o.bin}/pg_ctl -D "$d/data" -l "$d/server.log" -w -o "$opts" start >/dev/null || { cat "$d/server.log"; echo "server did not start"; exit 1; }`,
    `psql="${o.bin}/psql -h $d -U postgres -X -q -At -v ON_ERROR_STOP=1"`,
  ].join("\n");
}

/** Shell: a clean fast shutdown, checked in the server log. */
export function stopCluster(o: ClusterOptions): string {
  const as = o.asPostgres ? `${o.asPostgres} ` : "";
  return [
    `${as}${o.bin}/pg_ctl -D "$d/data" -m fast -w stop >/dev/null || { cat "$d/server.log"; echo "server did not stop"; exit 1; }`,
    `grep -q 'database system is shut down' "$d/server.log" || { cat "$d/server.log"; echo "no clean shutdown in the server log"; exit 1; }`,
  ].join("\n");
}

/**
 * Shell: fail unless `SELECT version()` reports exactly this version, built for the machine it
 * runs on ("… on aarch64-unknown-linux-gnu"), which must be $PG_IMAGES_MACHINE when the runner
 * says which platform it started (an arm64 image under emulation still reports aarch64).
 */
export function expectVersion(p: PgVersion): string {
  const banner = versionBanner(p);
  return [
    `v=$($psql -c 'SELECT version()')`,
    `case "$v" in "${banner}"*) echo "$v" ;; *) echo "SELECT version() returned '$v', expected '${banner}…'"; exit 1 ;; esac`,
    `m=$(uname -m)`,
    `[ -z "\${PG_IMAGES_MACHINE:-}" ] || [ "$m" = "$PG_IMAGES_MACHINE" ] || { echo "the image runs as $m, expected $PG_IMAGES_MACHINE"; exit 1; }`,
    `case "$v" in *" on $m-"*) ;; *) echo "SELECT version() returned '$v', not a build for $m"; exit 1 ;; esac`,
  ].join("\n");
}

/** Shell: fail naming the missing command unless each is on PATH. */
export function onPath(commands: readonly string[]): string {
  return `for c in ${commands.join(" ")}; do command -v "$c" >/dev/null || { echo "$c is not on PATH ($PATH)"; exit 1; }; done`;
}

export const binDir = (major: number) => `/usr/lib/postgresql/${major}/bin`;

/** Runs a command as the postgres user from a root check. */
export const AS_POSTGRES = "runuser -u postgres --";
