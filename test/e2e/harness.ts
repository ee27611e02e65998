// What the end-to-end tests share: the module's functions run in client mode through the local
// engine (bin/pg-images-local.ts), each call's report read back from its out/ directory.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, WORLD } from "../../scripts/world/world.js";

/**
 * The --timestamp of every file's calls on test/e2e/matrix.yaml's images (chain, faults,
 * operator), and of the broken recipe's: the labels are the same, so the engine builds and
 * smoke-tests each image once for all of them.
 */
export const MATRIX_TIME = "202611230100";
export const BROKEN_TIME = "202611230300";
/** The same for test/e2e/catalogs.yaml's PostgreSQL 17 images (catalogs and operator). */
export const CATALOGS_17_TIME = "202611290200";

export interface Summary {
  timestamp: string;
  targets: Record<string, {
    status: string;
    digest?: string;
    /** Each platform's manifest digest, under the index (with its attestations) that digest names. */
    manifests?: Record<string, string>;
    reason?: string;
    /** The freshness decision: "unchanged (same packages)", "changed: …". */
    change?: string;
    gate?: string;
    published?: string[];
    signed?: string[];
    checks: { name: string; ok: boolean }[];
    sbom?: { spdx: string };
    /** Full references: the unique testing and release tags and the aliases (tags only). */
    tags: { testing: string; release: string; aliases: string[] };
  }>;
}

export interface CallResult {
  code: number;
  log: string;
  /** undefined when the call wrote no report (it died before the end). */
  summary?: Summary;
}

export const statuses = (s: Summary) => Object.fromEntries(Object.entries(s.targets).map(([id, t]) => [id, t.status]));

/** Each target's freshness decision (or, without one, why it did not pass): what a failed status check prints. */
export const reasons = (s: Summary) => Object.fromEntries(Object.entries(s.targets).map(([id, t]) => [id, t.change ?? t.reason]));

/** One module function through the local engine; its report lands in <work>/out/<name>. */
export function start(work: string, name: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CallResult> } {
  const out = join(work, "out", name);
  const child = spawn("node", ["dist/bin/pg-images-local.js", ...args, "--out", out], { cwd: REPO, env: { ...process.env, ...env } });
  let log = "";
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const done = new Promise<CallResult>((resolve) =>
    child.on("close", (c) => {
      writeFileSync(join(work, `${name}.log`), log);
      let summary: Summary | undefined;
      try {
        summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as Summary;
      } catch {
        summary = undefined;
      }
      resolve({ code: c ?? 1, log, summary });
    }),
  );
  return { child, done };
}

/** A call that must write its report. */
export async function call(work: string, name: string, args: string[], env: Record<string, string> = {}): Promise<CallResult & { summary: Summary }> {
  const r = await start(work, name, args, env).done;
  if (!r.summary) throw new Error(`${name}: no summary (exit ${r.code}); log ends:\n${r.log.split("\n").slice(-40).join("\n")}`);
  return r as CallResult & { summary: Summary };
}

/** The engine variables scripts/world/env.sh sets, put into this process so every child gets them. */
export function useWorldDagger(): void {
  const r = spawnSync("bash", ["-c", "source scripts/world/env.sh && test -S ${_EXPERIMENTAL_DAGGER_RUNNER_HOST#unix://} && env -0"], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`no Dagger engine socket under ${WORLD}: run scripts/world/up.sh (the README's test command does)`);
  for (const line of r.stdout.split("\0")) {
    const [k, v] = line.split(/=(.*)/s) as [string, string];
    if (/^(_EXPERIMENTAL_DAGGER|DAGGER_|DO_NOT_TRACK|DOCKER_HOST|PATH$)/.test(k)) process.env[k] = v;
  }
}

/** Removes a test's work directory, unless PG_IMAGES_KEEP_WORK=1 keeps its logs and reports for reading. */
export function dropWork(work: string): void {
  if (process.env.PG_IMAGES_KEEP_WORK !== "1") rmSync(work, { recursive: true, force: true });
}
