// Operand images: what people run. An image without `from` installs PostgreSQL on the distro's
// base (minimal); one with `from` stacks its packages, extensions and pip requirements on that
// image (standard on minimal, system on standard: the flavours are the matrix's words). No
// entrypoint, user 26, no cluster in the image: an operator (CloudNativePG and the like) owns the
// data directory and the process.
import type { OperandTarget } from "../plan/types.js";
import { aptInstall, aptSetup, pgInstall, pgPackages, pgPath, pinned } from "./apt.js";
import { sha256 } from "./key.js";
import { reproducible } from "./reproducible.js";
import { binDir, expectVersion, onPath, startCluster, stopCluster } from "./smoke.js";
import type { RecipeContext } from "./index.js";
import type { Recipe, Runtime, SmokeCheck, Step } from "./types.js";

/** The user operand images run as, by UID (and GID): what operators expect (runAsUser: 26). */
export const OPERAND_UID = 26;

/**
 * How an operator runs the image; this mirrors CloudNativePG's instance pod: read-only root,
 * UID/GID 26, every capability dropped, emptyDirs at /run, /controller (sockets and TMPDIR for
 * the instance manager) and /dev/shm, PGDATA one level down the data volume.
 */
export const OPERATOR_RUNTIME: Runtime = {
  readOnlyRoot: true,
  user: `${OPERAND_UID}:${OPERAND_UID}`,
  dropCapabilities: true,
  tmpfs: ["/run", "/controller", "/dev/shm"],
  volumes: ["/var/lib/postgresql/data"],
  env: { PGDATA: "/var/lib/postgresql/data/pgdata", PGHOST: "/controller/run", TMPDIR: "/controller/tmp" },
};

/** What the operator calls, by name, from PATH. */
const OPERATOR_COMMANDS = ["initdb", "postgres", "pg_ctl", "pg_controldata", "pg_isready", "pg_basebackup", "pg_rewind", "psql"];

/** Where an operand's requirements file is copied to before pip installs it. */
export const OPERAND_REQUIREMENTS = "/opt/pg-images/operand/requirements.txt";

export function operandRecipe(target: OperandTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const requirements = pipRequirements(target, ctx);
  const steps: Step[] = target.from ? layerSteps(target, requirements) : minimalSteps(target, ctx, requirements);
  if (requirements) steps.push(...pipSteps(requirements));
  steps.push(
    { op: "env", name: "PATH", value: pgPath(pg.major) },
    { op: "entrypoint", args: [] },
    { op: "cmd", args: ["bash"] },
    { op: "user", user: String(OPERAND_UID) },
  );
  return {
    target: target.id,
    base: target.from ? { target: target.from } : { image: target.base },
    artifacts: [],
    steps,
    smoke: [...operandSmoke(target), ...(requirements ? [pipSmoke(requirements)] : [])],
    config: { user: String(OPERAND_UID), entrypoint: [] },
  };
}

function minimalSteps(target: OperandTarget, ctx: RecipeContext, requirements: Requirements | undefined): Step[] {
  const [pg] = target.postgres;
  return [
    reproducible(aptSetup(target.packageSource, target.distro, target.postgres, ctx.pgdg)),
    reproducible(pgInstall([...pgPackages([pg]), ...extraPackages(target, requirements), ...extensionPackages(target.extensions)])),
    reproducible(moveToUid26()),
  ];
}

// Package steps end with the normalisation of reproducible.ts, so equal inputs give equal layers.
// A flavour on top of another: the parent is root-less (USER 26), so switch back for apt.
// target.extensions holds the parent's too; apt leaves those, already at their pins, alone.
function layerSteps(target: OperandTarget, requirements: Requirements | undefined): Step[] {
  const packages = [...extraPackages(target, requirements), ...extensionPackages(target.extensions)];
  return [{ op: "user", user: "root" }, ...(packages.length > 0 ? [reproducible(aptInstall(packages, "parent"))] : [])];
}

// pip comes with the requirements unless the matrix pins it among the packages.
const extraPackages = (t: OperandTarget, requirements: Requirements | undefined) => [
  ...(requirements && !t.packages.some((p) => p.name === PIP_PACKAGE) ? [PIP_PACKAGE] : []),
  ...t.packages.map((p) => pinned(p.name, p.version || undefined)),
];

const PIP_PACKAGE = "python3-pip";

interface Requirements {
  /** Relative to matrix.yaml, as the build context holds it. */
  path: string;
  text: string;
  /** Project names the file lists, for the smoke check. */
  names: string[];
}

function pipRequirements(target: OperandTarget, ctx: RecipeContext): Requirements | undefined {
  const path = target.requirements;
  if (path === undefined) return undefined;
  const text = ctx.files.get(path);
  if (text === undefined) throw new Error(`${target.id}: requirements file "${path}" was not read`);
  const names = text
    .split("\n")
    .map((line) => /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined);
  return { path, text, names: [...new Set(names)] };
}

/**
 * The hash-pinned requirements, installed into the system Python (where the operator finds tools
 * such as barman-cloud-backup on PATH). Debian marks that Python as externally managed (PEP 668);
 * PIP_BREAK_SYSTEM_PACKAGES is set for this one command only, so the image keeps no such variable.
 * The file is checked against the text the plan read, as the failtester's is.
 */
function pipSteps(r: Requirements): Step[] {
  return [
    { op: "copy", source: { context: r.path }, what: "file", to: OPERAND_REQUIREMENTS },
    {
      op: "run",
      script: [
        `echo "${sha256(r.text)}  ${OPERAND_REQUIREMENTS}" | sha256sum -c --quiet`,
        `PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir --no-compile --require-hashes -r ${OPERAND_REQUIREMENTS}`,
      ].join("\n"),
    },
  ];
}

function pipSmoke(r: Requirements): SmokeCheck {
  return {
    name: `pip installed ${r.names.join(", ") || "the requirements"}`,
    script: r.names.map((n) => `python3 -m pip show ${n} >/dev/null 2>&1 || { echo "pip package ${n} is not installed"; exit 1; }`).join("\n") || "python3 -m pip --version",
  };
}
const extensionPackages = (e: OperandTarget["extensions"]) => e.map((x) => pinned(x.package, x.version));

/**
 * Debian installs postgres with a dynamic system UID; operators run the image as 26. Move the
 * user and its group to 26 and re-own what the packages made. Debian gives GID 26 to "tape",
 * which nothing in a container uses: it makes way.
 */
function moveToUid26(): string {
  return [
    `old_uid=$(id -u postgres) && old_gid=$(id -g postgres)`,
    `if [ "$(getent group ${OPERAND_UID} | cut -d: -f1)" = tape ]; then groupdel tape; fi`,
    `groupmod -g ${OPERAND_UID} postgres`,
    `usermod -u ${OPERAND_UID} -g ${OPERAND_UID} postgres`,
    `find / -xdev -uid "$old_uid" -exec chown -h ${OPERAND_UID} {} +`,
    `find / -xdev -gid "$old_gid" -exec chgrp -h ${OPERAND_UID} {} +`,
  ].join("\n");
}

function operandSmoke(target: OperandTarget): SmokeCheck[] {
  const [pg] = target.postgres;
  const bin = binDir(pg.major);
  const checks: SmokeCheck[] = [
    { name: "runs as UID 26", script: `u=$(id -u); g=$(id -g); [ "$u:$g" = "${OPERAND_UID}:${OPERAND_UID}" ] || { echo "id -u:id -g is $u:$g, expected ${OPERAND_UID}:${OPERAND_UID}"; exit 1; }` },
    {
      name: `server starts and reports ${pg.version}`,
      script: [startCluster({ bin }), expectVersion(pg), stopCluster({ bin })].join("\n"),
    },
    operatorCheck(),
  ];
  const creates = target.extensions.flatMap((e) => e.create);
  if (creates.length > 0) {
    const preload = [...new Set(target.extensions.flatMap((e) => e.preload))];
    checks.push({
      name: `CREATE EXTENSION ${creates.join(", ")}`,
      script: [
        startCluster({ bin, preload }),
        ...creates.map((c) => `$psql -c 'CREATE EXTENSION ${c} CASCADE' || { echo "CREATE EXTENSION ${c} failed"; exit 1; }`),
        stopCluster({ bin }),
      ].join("\n"),
    });
  }
  // Preload-only packages (no CREATE EXTENSION) still must load.
  const preloadOnly = target.extensions.filter((e) => e.create.length === 0 && e.preload.length > 0).flatMap((e) => e.preload);
  if (preloadOnly.length > 0) {
    checks.push({
      name: `server starts with ${preloadOnly.join(", ")} preloaded`,
      script: [startCluster({ bin, preload: preloadOnly }), `$psql -c 'SELECT 1' >/dev/null`, stopCluster({ bin })].join("\n"),
    });
  }
  return checks;
}

/**
 * The cluster's life as the operator drives it, under OPERATOR_RUNTIME: every command from PATH,
 * initdb (UTF8, C collation) into $PGDATA, a server whose sockets are in $PGHOST only, the
 * status and backup tools, a clean stop. Each step names itself when it fails; with the root
 * read-only, a write elsewhere fails the step that made it ("Read-only file system").
 */
function operatorCheck(): SmokeCheck {
  const id = OPERAND_UID;
  // The log first (when the command got as far as writing it), the verdict last.
  const fail = (what: string, log?: string) => `{ ${log ? `[ ! -f "${log}" ] || cat "${log}"; ` : ""}echo "${what}"; exit 1; }`;
  return {
    name: "runs as an operator runs it: read-only root, 26:26, no capabilities",
    runtime: OPERATOR_RUNTIME,
    script: [
      `[ "$(id -u):$(id -g)" = "${id}:${id}" ] || ${fail(`runs as $(id -u):$(id -g), expected ${id}:${id}`)}`,
      `getent passwd ${id} >/dev/null || ${fail(`no passwd entry for UID ${id}: initdb and postgres look the user up`)}`,
      `for c in CapPrm CapEff; do v=$(sed -n "s/^$c:[[:space:]]*//p" /proc/self/status); [ "$v" = 0000000000000000 ] || ${fail("$c is $v: the process holds capabilities")}; done`,
      onPath(OPERATOR_COMMANDS),
      // The instance manager makes these in the /controller tmpfs.
      `mkdir -p "$PGHOST" "$TMPDIR"`,
      `initdb -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --lc-collate=C --lc-ctype=C >"$TMPDIR/initdb.log" 2>&1 || ${fail("initdb into $PGDATA failed", "$TMPDIR/initdb.log")}`,
      `pg_ctl -D "$PGDATA" -l "$TMPDIR/server.log" -w -o "-c listen_addresses= -c unix_socket_directories=$PGHOST" start >/dev/null || ${fail("the server did not start with its sockets in $PGHOST", "$TMPDIR/server.log")}`,
      `r=$(pg_isready) || ${fail("pg_isready: $r", "$TMPDIR/server.log")}`,
      `e=$(psql -X -At -U postgres -d postgres -c "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate FROM pg_database WHERE datname = 'postgres'") || ${fail("psql on $PGHOST failed")}`,
      `[ "$e" = "UTF8 C" ] || ${fail("the cluster's encoding and collation are '$e', expected 'UTF8 C'")}`,
      `pg_controldata "$PGDATA" | grep -q '^Database cluster state: *in production$' || { pg_controldata "$PGDATA"; echo "pg_controldata: the cluster is not in production"; exit 1; }`,
      // mktemp follows TMPDIR: the copy lands in the /controller tmpfs.
      `b=$(mktemp -d)`,
      `pg_basebackup -U postgres -D "$b/base" -c fast -X stream >"$TMPDIR/basebackup.log" 2>&1 || ${fail("pg_basebackup into $b/base failed", "$TMPDIR/basebackup.log")}`,
      `[ -f "$b/base/PG_VERSION" ] || ${fail("pg_basebackup left no PG_VERSION in $b/base")}`,
      `pg_rewind --help >/dev/null || ${fail("pg_rewind --help failed")}`,
      `pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null || ${fail("the server did not stop", "$TMPDIR/server.log")}`,
      `grep -q 'database system is shut down' "$TMPDIR/server.log" || ${fail("no clean shutdown in the server log", "$TMPDIR/server.log")}`,
      `echo "$r; $e; base backup and clean stop under $PGDATA"`,
    ].join("\n"),
  };
}
