// Builds images and runs recipes' smoke checks with the docker CLI. Used by the image tests and
// bench/images.ts. A smoke failure reads "<target>: <check>: exit <n>" and the output's tail.
import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import type { ExpectedConfig, Recipe, Runtime, SmokeCheck } from "../../src/recipes/types.js";

export interface Result {
  code: number;
  out: string;
}

/** Where mounts come from: the build context (the matrix's folder) and pg-images's own tree. */
export interface MountRoots {
  context: string;
  fixtures: string;
}

let legacyBuilder: boolean | undefined;

// Without the buildx plugin the CLI refuses BuildKit; the classic builder renders the same file.
function dockerEnv(): NodeJS.ProcessEnv {
  legacyBuilder ??= spawnSync("docker", ["buildx", "version"], { stdio: "ignore" }).status !== 0;
  return legacyBuilder ? { ...process.env, DOCKER_BUILDKIT: "0" } : process.env;
}

/** docker with these arguments; output is stdout and stderr interleaved. */
export function docker(args: string[], input?: string): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn("docker", args, { env: dockerEnv(), stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? 1, out }));
    // A command that exits before reading its input (docker run) closes the pipe: its exit code says the rest.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/** Is a Docker engine answering? Returns why not, or undefined. */
export function engineProblem(): string | undefined {
  const r = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8", env: process.env });
  if (r.error) return `the docker CLI is not installed (${r.error.message})`;
  if (r.status !== 0) return `no Docker engine answers at ${process.env.DOCKER_HOST ?? "the default socket"}: ${r.stderr.trim().split("\n").pop()}`;
  return undefined;
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

export interface Build {
  seconds: number;
}

/** docker build --network host from a Dockerfile's text; throws "<target>: build failed: …". */
export async function build(target: string, tag: string, dockerfile: string, context: string, buildArgs: Record<string, string> = {}): Promise<Build> {
  const started = Date.now();
  const args = ["build", "--network", "host", "-t", tag, "-f", "-", ...Object.entries(buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]), context];
  const r = await docker(args, dockerfile);
  if (r.code !== 0) throw new Error(`${target}: build failed (exit ${r.code}):\n${tail(r.out)}`);
  return { seconds: (Date.now() - started) / 1000 };
}

/** The `docker run` arguments of one smoke check. */
export function smokeArgs(image: string, check: SmokeCheck, roots: MountRoots): string[] {
  const mounts = (check.mounts ?? []).flatMap((m) => [
    "-v",
    `${resolve("context" in m ? roots.context : roots.fixtures, "context" in m ? m.context : m.fixture)}:${m.at}:ro`,
  ]);
  const user = check.runtime ? [] : check.user ? ["-u", check.user] : [];
  return ["run", "--rm", "--network", "host", ...user, ...(check.runtime ? runtimeArgs(check.runtime) : []), ...mounts, image, "sh", "-ec", check.script];
}

/**
 * A Runtime as docker run flags: all of it is native. Docker has no fsGroup, so a volume is a
 * local volume on tmpfs whose root belongs to the run's user (`--rm` removes it); a tmpfs keeps
 * the image's mode when the directory exists there (Docker's doing: /run stays 0755).
 */
export function runtimeArgs(r: Runtime): string[] {
  const [uid, gid = uid] = r.user.split(":");
  return [
    ...(r.readOnlyRoot ? ["--read-only"] : []),
    "-u",
    r.user,
    ...(r.dropCapabilities ? ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"] : []),
    ...r.tmpfs.flatMap((p) => ["--tmpfs", `${p}:mode=0777`]),
    ...r.volumes.flatMap((p) => ["--mount", `type=volume,dst=${p},volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=uid=${uid},gid=${gid},mode=0700"`]),
    ...Object.entries(r.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
  ];
}

/** Problems with an image's config against what the recipe expects (pure). */
export function configProblems(expected: ExpectedConfig | undefined, config: { User?: string; Entrypoint?: string[] | null }): string[] {
  if (!expected) return [];
  const problems: string[] = [];
  if ((config.User ?? "") !== expected.user) problems.push(`image user: "${config.User ?? ""}", expected "${expected.user}"`);
  const entrypoint = config.Entrypoint ?? [];
  if (JSON.stringify(entrypoint) !== JSON.stringify(expected.entrypoint)) {
    problems.push(`image entrypoint: ${JSON.stringify(entrypoint)}, expected ${expected.entrypoint.length === 0 ? "none" : JSON.stringify(expected.entrypoint)}`);
  }
  return problems;
}

export interface SmokeReport {
  check: string;
  seconds: number;
  output: string;
}

/**
 * The image's config, then every smoke check in order. Throws at the first failure with
 * "<target>: <check>: …"; returns each check's output and time otherwise.
 */
export async function smoke(target: string, image: string, recipe: Recipe, roots: MountRoots): Promise<SmokeReport[]> {
  const reports: SmokeReport[] = [];
  if (recipe.config) {
    const r = await docker(["image", "inspect", "--format", "{{json .Config}}", image]);
    if (r.code !== 0) throw new Error(`${target}: image config: docker image inspect failed: ${tail(r.out)}`);
    const problems = configProblems(recipe.config, JSON.parse(r.out) as { User?: string; Entrypoint?: string[] | null });
    if (problems.length > 0) throw new Error(`${target}: ${problems.join("; ")}`);
    reports.push({ check: "image config", seconds: 0, output: `user ${recipe.config.user}, entrypoint ${JSON.stringify(recipe.config.entrypoint)}` });
  }
  for (const check of recipe.smoke) {
    const started = Date.now();
    const r = await docker(smokeArgs(image, check, roots));
    if (r.code !== 0) throw new Error(`${target}: ${check.name}: exit ${r.code}\n${tail(r.out)}`);
    reports.push({ check: check.name, seconds: (Date.now() - started) / 1000, output: tail(r.out, 5) });
  }
  return reports;
}

/** Unpacked size of a local image, in bytes. */
export async function imageSize(image: string): Promise<number> {
  const r = await docker(["image", "inspect", "--format", "{{.Size}}", image]);
  if (r.code !== 0) throw new Error(`docker image inspect ${image}: ${tail(r.out)}`);
  return Number(r.out.trim());
}
