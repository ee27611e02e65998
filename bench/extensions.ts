// Real extensions, from their own repositories, on the test images: each one is built in the
// extbuilder of every major the image tests' matrix gives an exttester, then installed and run
// through its own `make installcheck` in that exttester, both with no network. Prints extension,
// ref, major, build seconds and the tests that passed and failed.
//
//   npm run build && node dist/bench/extensions.js --git DIR [--only a,b] [--pg 15,17] [--keep]
//
// Only references are committed (EXTENSIONS below). DIR holds bare git repositories, one per row:
// DIR/<owner>+<name>/repo or DIR/<name>.git (`git clone --bare`); each ref is read with git
// archive into a scratch folder. The images are built with the local Docker engine from the
// Dockerfiles pg-images renders (cached, under this bench's own tags), as bench/images.ts does.
// Logs of every step land in the scratch folder, which --keep keeps.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { planFromText } from "../src/plan/fromText.js";
import type { PlannedTarget } from "../src/plan/types.js";
import { recipeFor } from "../src/recipes/index.js";
import { AS_POSTGRES, binDir, startCluster, stopCluster } from "../src/recipes/smoke.js";
import { renderDockerfile } from "../src/render/dockerfile.js";
import { build, docker, engineProblem, tail } from "../scripts/world/docker.js";
import { makeContext, resolveMatrix, TEMPLATE, useWorldEngine } from "../scripts/world/world.js";

interface Extension {
  name: string;
  /** owner/name on GitHub. */
  repository: string;
  /** A release tag; per major where the project keeps one release line per major. */
  ref: string | Record<number, string>;
  /** Server settings its suite expects of the server it runs against (postgres -c). */
  settings?: string[];
}

/** Plain PGXS extensions whose installcheck needs no network. */
export const EXTENSIONS: Extension[] = [
  // 1.4.0 predates PostgreSQL 17 (tuplestore_donestoring is gone); no later release tag here yet.
  { name: "hypopg", repository: "HypoPG/hypopg", ref: { 15: "1.4.0", 16: "1.4.0" } },
  { name: "ip4r", repository: "RhodiumToad/ip4r", ref: "2.4.2" },
  { name: "orafce", repository: "orafce/orafce", ref: "VERSION_4_16_5" },
  { name: "pg_cron", repository: "citusdata/pg_cron", ref: "v1.6.7" },
  { name: "pgaudit", repository: "pgaudit/pgaudit", ref: { 15: "1.7.1", 16: "16.1", 17: "17.1", 18: "18.0" }, settings: ["shared_preload_libraries=pgaudit"] },
  { name: "pguint", repository: "petere/pguint", ref: "1.20250815" },
  { name: "pgvector", repository: "pgvector/pgvector", ref: "v0.8.6" },
  { name: "prefix", repository: "dimitri/prefix", ref: "v1.2.10" },
  { name: "roaringbitmap", repository: "ChenHuajun/pg_roaringbitmap", ref: "v1.2.0" },
  { name: "semver", repository: "theory/pg-semver", ref: "v0.41.0" },
  { name: "tdigest", repository: "tvondra/tdigest", ref: "v1.4.4" },
];

const INPUTS = { timestamp: "202601010000", revision: "bench" };
// Tags of this bench's own, so that image tests running beside it keep theirs.
const REGISTRY = { testing: "127.0.0.1:5000/pg-images-bench-ext", release: "127.0.0.1:5000/pg-images-bench-ext/release" };

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const refOf = (e: Extension, major: number): string | undefined => (typeof e.ref === "string" ? e.ref : e.ref[major]);

function gitDir(root: string, repository: string): string {
  const [owner, name] = repository.split("/");
  const candidates = [join(root, `${owner}+${name}`, "repo"), join(root, `${name}.git`)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${repository}: no bare repository at ${candidates.join(" or ")}`);
  return found;
}

/** The ref's tree into dest, through git archive: what the project released, nothing else. */
function checkout(git: string, ref: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  const r = spawnSync("bash", ["-o", "pipefail", "-c", 'git --git-dir="$1" archive "$2" | tar -x -C "$3"', "_", git, ref, dest], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git archive ${ref} of ${git}: ${tail(r.stderr)}`);
}

/** pg_regress's verdicts, before 16 (`test x ... ok`) and from 16 on (TAP: `ok 1 - x`). */
export function countTests(log: string): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const line of log.split("\n")) {
    if (/^(ok \d+|.*\.\.\. ok\b)/.test(line.trimStart())) passed += 1;
    else if (/^(not ok \d+|.*\.\.\. FAILED\b)/.test(line.trimStart())) failed += 1;
  }
  return { passed, failed };
}

interface Row {
  name: string;
  ref: string;
  major: number;
  build: string;
  passed: number | string;
  failed: number | string;
  note: string;
}

async function run(): Promise<void> {
  const root = flag("--git");
  if (!root) throw new Error("usage: node dist/bench/extensions.js --git DIR [--only a,b] [--pg 15,17] [--keep]");
  const only = flag("--only")?.split(",");
  const unknown = only?.filter((n) => !EXTENSIONS.some((e) => e.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown extension ${unknown.join(", ")}; known: ${EXTENSIONS.map((e) => e.name).join(", ")}`);
  const extensions = EXTENSIONS.filter((e) => !only || only.includes(e.name));

  useWorldEngine();
  const problem = engineProblem();
  if (problem) throw new Error(`bench/extensions needs a Docker engine: ${problem}`);
  const scratch = mkdtempSync("/var/tmp/pg-images-bench-ext-");
  const { text } = await resolveMatrix(readFileSync(TEMPLATE, "utf8"));
  makeContext(scratch, text);
  const files = new Map([["images/failtester/requirements.txt", readFileSync(join(scratch, "images/failtester/requirements.txt"), "utf8")]]);
  const pgs = flag("--pg")?.split(",").map(Number);
  const { matrix, plan } = planFromText(text, join(scratch, "matrix.yaml"), {
    inputs: INPUTS,
    files,
    registry: REGISTRY,
    filters: { image: ["extbuilder", "exttester"], ...(pgs ? { pg: pgs } : {}) },
  });
  const ctx = { pgdg: matrix.pgdg, files };
  const lookup = (id: string) => plan.targets.find((t) => t.id === id);
  const ref = (t: PlannedTarget) => `${t.repository.testing}:${t.tags.testing}`;
  for (const t of plan.targets) {
    const { seconds } = await build(t.id, ref(t), renderDockerfile(t, recipeFor(t, ctx), lookup), scratch);
    console.log(`image ${t.id}: ${seconds.toFixed(0)} s`);
  }

  const rows: Row[] = [];
  for (const tester of plan.targets.filter((t) => t.kind === "exttester")) {
    const builder = lookup(tester.from!)!;
    const major = tester.postgres[0]!.major;
    for (const e of extensions) {
      const r = refOf(e, major);
      if (!r) {
        rows.push({ name: e.name, ref: "-", major, build: "-", passed: "-", failed: "-", note: "no release for this major in the table" });
        continue;
      }
      rows.push(await one(e, r, major, ref(builder), ref(tester), gitDir(root, e.repository), join(scratch, `${e.name}-${major}`)));
      const last = rows[rows.length - 1]!;
      console.log(`${last.name} ${last.ref} pg${major}: build ${last.build} s, ${last.passed} passed, ${last.failed} failed ${last.note}`);
    }
  }

  const head = ["extension", "ref", "major", "build s", "passed", "failed", "note"];
  const cells = rows.map((r) => [r.name, r.ref, String(r.major), r.build, String(r.passed), String(r.failed), r.note]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(width[i]!)).join("  ").trimEnd();
  console.log(`\n${line(head)}\n${cells.map(line).join("\n")}`);
  const tried = rows.filter((r) => r.ref !== "-");
  const ok = tried.filter((r) => r.failed === 0 && typeof r.passed === "number" && r.passed > 0).length;
  console.log(`\n${ok} of ${tried.length} builds pass their own installcheck; logs in ${scratch}`);
  if (!process.argv.includes("--keep")) rmSync(scratch, { recursive: true, force: true });
  if (ok !== tried.length) process.exitCode = 1;
}

/**
 * Build in the extbuilder into a volume, then install and run installcheck from that volume in the
 * exttester, as postgres against a server started with the extension's settings. No network.
 */
async function one(e: Extension, ref: string, major: number, builder: string, tester: string, git: string, dir: string): Promise<Row> {
  const row: Row = { name: e.name, ref, major, build: "-", passed: "-", failed: "-", note: "" };
  const src = join(dir, "src");
  checkout(git, ref, src);
  const volume = `pg-images-bench-ext-${e.name}-${major}-${process.pid}`;
  try {
    const started = Date.now();
    const b = await docker(["run", "--rm", "--network", "none", "-u", "root", "-v", `${src}:/src:ro`, "-v", `${volume}:/build`, builder, "sh", "-ec", "cp -R /src/. /build && cd /build && make -j$(nproc) USE_PGXS=1"]);
    writeFileSync(join(dir, "build.log"), b.out);
    if (b.code !== 0) return { ...row, note: `build failed: ${lastError(b.out)}` };
    row.build = ((Date.now() - started) / 1000).toFixed(1);
    const bin = binDir(major);
    const script = [
      "cd /build && make USE_PGXS=1 install >install.log 2>&1 || { cat install.log; echo 'make install failed'; exit 1; }",
      "chown -R postgres /build",
      startCluster({ bin, asPostgres: AS_POSTGRES }),
      ...(e.settings ?? []).map((s) => `${AS_POSTGRES} $psql -c "ALTER SYSTEM SET ${s.replace("=", " = '")}'"`),
      e.settings ? `${AS_POSTGRES} ${bin}/pg_ctl -D "$d/data" -l "$d/server.log" -w -o "$opts" restart >/dev/null` : "",
      `rc=0; ${AS_POSTGRES} env PATH="$PATH" PGHOST="$d" PGUSER=postgres make USE_PGXS=1 installcheck || rc=$?`,
      `echo '${DIFFS}'; cat regression.diffs 2>/dev/null | head -200 || true`,
      stopCluster({ bin, asPostgres: AS_POSTGRES }),
      "exit $rc",
    ].join("\n");
    const t = await docker(["run", "--rm", "--network", "none", "-u", "root", "-v", `${volume}:/build`, tester, "sh", "-ec", script]);
    writeFileSync(join(dir, "installcheck.log"), t.out);
    // The diffs quote the suites' own output, which may hold lines like pg_regress's verdicts.
    const { passed, failed } = countTests(t.out.split(DIFFS)[0]!);
    return { ...row, passed, failed, note: t.code === 0 ? "" : failed > 0 ? "installcheck failed" : `installcheck: ${lastError(t.out)}` };
  } finally {
    await docker(["volume", "rm", "-f", volume]);
  }
}

const DIFFS = "=== regression.diffs (first 200 lines)";
const lastError = (out: string) => (tail(out, 1) || "no output").slice(0, 120);

run().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
