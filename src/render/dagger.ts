// Recipe data → Dagger containers. The Dockerfile renderer reads the same data. This file only maps
// steps to Container calls; every container it starts from comes through the context, so the
// mapping runs (and is tested) without an engine.
import type { Container, Directory, File, Service } from "@dagger.io/dagger";
import { EPOCH_VAR } from "../recipes/reproducible.js";
import type { Artifact, Base, Mount, Recipe, Step } from "../recipes/types.js";
import { LOOPBACK_DIR, LOOPBACK_ENV } from "./loopback.js";

export interface LoopbackTunnels {
  /** apt.conf and .curlrc, mounted at LOOPBACK_DIR for each step. */
  files: Directory;
  tunnels: { alias: string; service: Service }[];
}

export interface DaggerContext {
  /** The pipeline's source directory (the folder holding matrix.yaml). */
  context: Directory;
  /** pg-images's own source tree, for its fixtures. */
  fixtures: Directory;
  /** The built image of another target (a parent). */
  image: (targetId: string) => Container;
  /** A container from a digest-pinned image; the engine side passes dag.container().from. */
  pull: (ref: string) => Container;
  /** Package sources on the caller's loopback: the engine's tunnels to them, and the files that
   * point apt and curl there (loopback.ts); the engine side makes both. */
  loopback?: LoopbackTunnels;
  /** The build's epoch (seconds, as text): every run step gets it as SOURCE_DATE_EPOCH. */
  epoch?: File;
}

/**
 * Set around every apt step while it runs: the key of the packages the run resolved for the
 * target. It is part of the step's cache key, so the engine replays a cached apt step only while
 * the archive still resolves to the same packages; it leaves the image config again afterwards.
 */
export const APT_LOCK_ENV = "PG_IMAGES_PACKAGES_KEY";

/** Where a run step finds the epoch; mounted for the step only, so no layer keeps it. */
export const EPOCH_FILE = "/run/pg-images-epoch";

export function renderImage(recipe: Recipe, ctx: DaggerContext, annotations: Record<string, string> = {}, packagesKey?: string): Container {
  const artifacts = new Map(recipe.artifacts.map((a) => [a.id, renderArtifact(a, ctx, packagesKey)]));
  let c = renderSteps(baseContainer(recipe.base, ctx), recipe.steps, ctx, artifacts, packagesKey);
  // Labels go to the image config (docker inspect), annotations to the manifest (registries).
  for (const [key, value] of Object.entries(annotations)) c = c.withLabel(key, value).withAnnotation(key, value);
  return c;
}

/** An artifact's output directory; the engine caches it by its inputs, so it is built once. */
export function renderArtifact(a: Artifact, ctx: DaggerContext, packagesKey?: string): Directory {
  return renderSteps(baseContainer(a.base, ctx), a.steps, ctx, new Map(), packagesKey).directory("/");
}

const relative = (path: string) => path.replace(/^\/+/, "");

export function mountDirectory(m: Mount, ctx: DaggerContext): Directory {
  return "context" in m ? ctx.context.directory(m.context) : ctx.fixtures.directory(m.fixture);
}

export function baseContainer(base: Base, ctx: DaggerContext): Container {
  return "image" in base ? ctx.pull(base.image) : ctx.image(base.target);
}

function artifactOutput(artifacts: ReadonlyMap<string, Directory>, id: string): Directory {
  const output = artifacts.get(id);
  if (!output) throw new Error(`copy from artifact "${id}", which the recipe does not build; it builds ${[...artifacts.keys()].join(", ") || "none"}`);
  return output;
}

export function renderSteps(start: Container, steps: readonly Step[], ctx: DaggerContext, artifacts: ReadonlyMap<string, Directory> = new Map(), packagesKey?: string): Container {
  return steps.reduce((c, step) => {
    switch (step.op) {
      case "env":
        return c.withEnvVariable(step.name, step.value);
      case "run": {
        const keyed = step.apt && packagesKey ? c.withEnvVariable(APT_LOCK_ENV, packagesKey) : c;
        const ran = viaLoopback(keyed, ctx.loopback, (x) => withEpoch(x, ctx.epoch, step.script));
        return step.apt && packagesKey ? ran.withoutEnvVariable(APT_LOCK_ENV) : ran;
      }
      case "user":
        return c.withUser(step.user);
      case "workdir":
        return c.withWorkdir(step.path);
      case "copy": {
        const s = step.source;
        // An artifact's output is a directory; paths in it are absolute in the artifact's image.
        const [root, path] = "context" in s ? [ctx.context, s.context] : [artifactOutput(artifacts, s.artifact), relative(s.path)];
        if (step.what === "directory") return c.withDirectory(step.to, root.directory(path));
        const to = step.to.endsWith("/") ? step.to + path.slice(path.lastIndexOf("/") + 1) : step.to;
        return c.withFile(to, root.file(path));
      }
      case "entrypoint":
        return step.args.length === 0 ? c.withoutEntrypoint() : c.withEntrypoint(step.args);
      case "cmd":
        return step.args.length === 0 ? c.withoutDefaultArgs() : c.withDefaultArgs(step.args);
    }
  }, start);
}

/** A shell script run with sh -e, the package sources on the caller's loopback reachable. */
export function runScript(c: Container, script: string, ctx: DaggerContext): Container {
  return viaLoopback(c, ctx.loopback, (x) => x.withExec(["sh", "-ec", script]));
}

/**
 * Runs a step with the loopback sources reachable: their tunnels bound, apt and curl pointed at
 * them by a mounted config. The mount and the variables leave again, so the image keeps nothing.
 */
function viaLoopback(c: Container, loopback: LoopbackTunnels | undefined, run: (c: Container) => Container): Container {
  if (!loopback) return run(c);
  let x = c.withMountedDirectory(LOOPBACK_DIR, loopback.files);
  for (const [name, value] of Object.entries(LOOPBACK_ENV)) x = x.withEnvVariable(name, value);
  for (const t of loopback.tunnels) x = x.withServiceBinding(t.alias, t.service);
  x = run(x);
  for (const name of Object.keys(LOOPBACK_ENV)) x = x.withoutEnvVariable(name);
  return x.withoutMount(LOOPBACK_DIR);
}

/**
 * A run step with the epoch exported inside its script: from a mounted file, not the image's
 * environment, so the image config keeps no trace and the step's cache key follows its value.
 */
function withEpoch(c: Container, epoch: File | undefined, script: string): Container {
  if (!epoch) return c.withExec(["sh", "-ec", script]);
  const prelude = `${EPOCH_VAR}=$(cat ${EPOCH_FILE}); export ${EPOCH_VAR}\n`;
  return c.withMountedFile(EPOCH_FILE, epoch).withExec(["sh", "-ec", prelude + script]).withoutMount(EPOCH_FILE);
}
