// One target through the chain: build → smoke → SBOM. Results, not exceptions: one target
// failing never hides the others' results.
import { dag, ExecError, type Container, type File } from "@dagger.io/dagger";
import type { CheckResult } from "../release/decisions.js";
import type { Recipe } from "../recipes/types.js";
import { mountDirectory, type DaggerContext } from "../render/dagger.js";

export interface Sbom {
  spdx: File;
  cyclonedx: File;
}

/** Smoke checks and the image-config expectations, run against any container. */
export async function smoke(image: Container, recipe: Recipe, ctx: DaggerContext): Promise<CheckResult[]> {
  const checks = recipe.smoke.map(async (check): Promise<CheckResult> => {
    let c = image;
    for (const m of check.mounts ?? []) c = c.withMountedDirectory(m.at, mountDirectory(m, ctx));
    if (check.user) c = c.withUser(check.user);
    try {
      await c.withExec(["sh", "-ec", check.script]).sync();
      return { name: check.name, ok: true };
    } catch (e) {
      return { name: check.name, ok: false, detail: failure(e) };
    }
  });
  return [...(await configChecks(image, recipe)), ...(await Promise.all(checks))];
}

async function configChecks(image: Container, recipe: Recipe): Promise<CheckResult[]> {
  if (!recipe.config) return [];
  const [user, entrypoint] = await Promise.all([image.user(), image.entrypoint()]);
  const want = recipe.config;
  return [
    user === want.user ? { name: `image user is ${want.user}`, ok: true } : { name: `image user is ${want.user}`, ok: false, detail: `image user is "${user}"` },
    JSON.stringify(entrypoint) === JSON.stringify(want.entrypoint)
      ? { name: "image entrypoint", ok: true }
      : { name: "image entrypoint", ok: false, detail: `entrypoint is ${JSON.stringify(entrypoint)}, expected ${JSON.stringify(want.entrypoint)}` },
  ];
}

/** SPDX and CycloneDX JSON from syft, scanning the image tarball (what gets pushed). */
export function sbom(tarball: File, syftImage: string): Sbom {
  const scanned = dag
    .container()
    .from(syftImage)
    .withEnvVariable("SYFT_CHECK_FOR_APP_UPDATE", "false")
    .withMountedFile("/image.tar", tarball)
    .withExec(["/syft", "scan", "oci-archive:/image.tar", "-q", "-o", "spdx-json=/tmp/sbom.spdx.json", "-o", "cyclonedx-json=/tmp/sbom.cdx.json"]);
  return { spdx: scanned.file("/tmp/sbom.spdx.json"), cyclonedx: scanned.file("/tmp/sbom.cdx.json") };
}

/** The manifest digest inside an OCI tarball: what a registry will report once it is pushed. */
export async function tarballDigest(tarball: File, toolImage: string): Promise<string> {
  const index = await dag.container().from(toolImage).withMountedFile("/image.tar", tarball).withExec(["tar", "-xOf", "/image.tar", "index.json"]).stdout();
  const digest = (JSON.parse(index) as { manifests?: { digest?: string }[] }).manifests?.[0]?.digest;
  if (!digest) throw new Error("image tarball has no manifest in index.json");
  return digest;
}

/** Unpacked size in bytes: the filesystem as a container sees it. */
export async function unpackedSize(image: Container): Promise<number> {
  const out = await image.withUser("root").withExec(["du", "-sxb", "/"]).stdout();
  return Number(out.split(/\s+/)[0]);
}

/** Seconds since a Date.now() reading, to a tenth, for reports. */
export function secondsSince(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

/** The end of what a failed step said, for reports. */
export function failure(e: unknown): string {
  if (e instanceof ExecError) {
    const text = `${e.stdout}\n${e.stderr}`.trim().split("\n").slice(-15).join("\n");
    return `exit ${e.exitCode}: ${text}`;
  }
  return e instanceof Error ? e.message : String(e);
}

export type TargetStatus = "passed" | "failed" | "blocked" | "unchanged";

export interface TargetResult {
  id: string;
  status: TargetStatus;
  inputKey: string;
  digest?: string;
  size?: number;
  checks: CheckResult[];
  /** Paths in the output directory. */
  sbom?: { spdx: string; cyclonedx: string };
  seconds: number;
  /** Why it failed, was blocked, or was skipped. */
  reason?: string;
  /** Filled by publish. */
  published?: string[];
  gate?: string;
}
