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

/** Where a run step finds the epoch; mounted for the step only, so no layer keeps it. */
export const EPOCH_FILE = "/run/pg-images-epoch";

export function renderImage(recipe: Recipe, ctx: DaggerContext, annotations: Record<string, string> = {}): Container {
  const artifacts = new Map(recipe.artifacts.map((a) => [a.id, renderArtifact(a, ctx)]));
  let c = applySteps(baseContainer(recipe.base, ctx), recipe.steps, ctx, artifacts);
  // Labels go to the image config (docker inspect), annotations to the manifest (registries).
  for (const [key, value] of Object.entries(annotations)) c = c.withLabel(key, value).withAnnotation(key, value);
  return c;
}

/** An artifact's output directory; the engine caches it by its inputs, so it is built once. */
export function renderArtifact(a: Artifact, ctx: DaggerContext): Directory {
  return applySteps(baseContainer(a.base, ctx), a.steps, ctx, new Map()).directory("/");
}

const relative = (path: string) => path.replace(/^\/+/, "");

export function mountDirectory(m: Mount, ctx: DaggerContext): Directory {
  return "context" in m ? ctx.context.directory(m.context) : ctx.fixtures.directory(m.fixture);
}

function baseContainer(base: Base, ctx: DaggerContext): Container {
  return "image" in base ? ctx.pull(base.image) : ctx.image(base.target);
}

function artifactOutput(artifacts: ReadonlyMap<string, Directory>, id: string): Directory {
  const output = artifacts.get(id);
  if (!output) throw new Error(`copy from artifact "${id}", which the recipe does not build; it builds ${[...artifacts.keys()].join(", ") || "none"}`);
  return output;
}

function applySteps(start: Container, steps: readonly Step[], ctx: DaggerContext, artifacts: ReadonlyMap<string, Directory>): Container {
  return steps.reduce((c, step) => {
    switch (step.op) {
      case "env":
        return c.withEnvVariable(step.name, step.value);
      case "run":
        return viaLoopback(c, ctx.loopback, (x) => withEpoch(x, ctx.epoch, step.script));
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
