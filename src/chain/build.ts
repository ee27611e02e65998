// build-all: every target of the plan through build → smoke → SBOM, as concurrently as the
// dependency graph allows, in one engine session.
import { dag, ImageLayerCompression, ImageMediaTypes, type Container, type Directory, type File, type Platform as EnginePlatform } from "@dagger.io/dagger";
import { failedTargets } from "../release/verdict.js";
import { Report } from "../report.js";
import type { Matrix } from "../matrix/schema.js";
import { table } from "../plan/format.js";
import { findTarget } from "../plan/graph.js";
import { targetRefs } from "../plan/tags.js";
import type { Plan, PlannedTarget } from "../plan/types.js";
import { recipeFor, type RecipeContext } from "../recipes/index.js";
import type { Recipe } from "../recipes/types.js";
import type { CheckResult } from "../release/decisions.js";
import { renderImage, type DaggerContext, type LoopbackTunnels } from "../render/dagger.js";
import { loopbackAccess } from "../render/loopback.js";
import type { Platform } from "../kinds.js";
import type { HostService } from "./hostServices.js";
import type { OperatorStage } from "./operator.js";
import { KEYS } from "../plan/metadata.js";
import { resolvePlan, type Lock } from "../release/freshness.js";
import { resolveAll, type Resolution } from "./resolve.js";
import { baseEpoch, failure, finishTarball, sbom, secondsSince, smokeEveryPlatform, unpackedSize, type Sbom, type TargetResult } from "./target.js";
import { readLayoutTop } from "./attest.js";
import { layoutImages, platformDigests } from "../release/attestations.js";

export interface Built {
  target: PlannedTarget;
  recipe: Recipe;
  /** The image for the target's first platform. */
  image: Container;
  /**
   * Every platform in one OCI tarball (an image index when there are several), normalised: the
   * artefact that is smoke-tested, scanned, signed and pushed, so its digest is the one published.
   */
  tarball: File;
  /** One per platform, the first platform's first; empty unless the target passed. */
  sboms: Sbom[];
  result: TargetResult;
}

export class Builder {
  private readonly images = new Map<string, Container>();
  private readonly epochs = new Map<string, File>();
  private readonly runs = new Map<string, Promise<Built>>();
  private resolutions = new Map<string, Resolution>();

  constructor(
    readonly matrix: Matrix,
    private resolved: Plan,
    private readonly recipes: RecipeContext,
    private readonly dirs: { context: Directory; fixtures: Directory },
    hostService: HostService,
    /** The CloudNativePG stage, when a cluster was given. */
    private readonly operator?: OperatorStage,
  ) {
    this.loopback = loopbackTunnels(matrix.pgdg, hostService);
  }

  private readonly loopback: LoopbackTunnels | undefined;

  /** The plan, with each target's packages folded into its key once resolvePackages ran. */
  get plan(): Plan {
    return this.resolved;
  }

  /**
   * What apt would install for every target, against the archive as it is in this run (`run`
   * names the run, so the engine never replays an old answer). Call before anything builds: the
   * keys, labels and apt steps' cache keys follow the answer.
   */
  async resolvePackages(run: string): Promise<void> {
    if (this.images.size > 0) throw new Error("packages are resolved before any image is rendered");
    this.resolutions = await resolveAll(this, this.resolved.targets, run);
    const locks = new Map([...this.resolutions].flatMap(([id, r]) => ("lock" in r ? [[id, r.lock] as const] : [])));
    this.resolved = resolvePlan(this.resolved, locks);
  }

  /** apt's message when the target's packages did not resolve. */
  unresolved(id: string): string | undefined {
    const r = this.resolutions.get(id);
    return r && "error" in r ? r.error : undefined;
  }

  /** The target's resolved packages, undefined when they were not resolved or did not resolve. */
  lock(id: string): Lock | undefined {
    const r = this.resolutions.get(id);
    return r && "lock" in r ? r.lock : undefined;
  }

  /**
   * What a recipe renders against on one platform: parents and bases of that platform, and the
   * epoch of the target's chain (without a target: none, as for smoke checks and resolution).
   */
  ctx(platform: Platform, id?: string): DaggerContext {
    return {
      ...this.dirs,
      image: (parent) => this.image(parent, platform),
      pull: (ref) => dag.container({ platform: platform as string as EnginePlatform }).from(ref),
      loopback: this.loopback,
      ...(id ? { epoch: this.epoch(id) } : {}),
    };
  }

  /**
   * The epoch of a target's chain: its root's base image creation time, read on the root's first
   * platform, so every platform and every image of the chain share it.
   */
  epoch(id: string): File {
    const { root, image } = this.chainBase(id);
    let epoch = this.epochs.get(root.id);
    if (!epoch) {
      epoch = baseEpoch(this.ctx(root.platforms[0]!).pull(image), this.matrix.tools.crane);
      this.epochs.set(root.id, epoch);
    }
    return epoch;
  }

  /** The first target of the target's chain, and the base image that chain starts from. */
  private chainBase(id: string): { root: PlannedTarget; image: string } {
    let root = this.target(id);
    for (const seen = new Set([root.id]); root.from; seen.add(root.id)) {
      root = this.target(root.from);
      if (seen.has(root.id)) throw new Error(`${id}: its chain of "from" loops at ${root.id}`);
    }
    const base = this.recipe(root.id).base;
    if (!("image" in base)) throw new Error(`${root.id}: the first target of a chain must start from an image`);
    return { root, image: base.image };
  }

  target(id: string): PlannedTarget {
    return findTarget(this.plan, id);
  }

  recipe(id: string): Recipe {
    return recipeFor(this.target(id), this.recipes);
  }

  /** The target's image on a platform (default: its first), lazily: nothing runs until asked. */
  image(id: string, platform: Platform = this.target(id).platforms[0]!): Container {
    const key = `${id} ${platform}`;
    let image = this.images.get(key);
    if (!image) {
      const t = this.target(id);
      image = renderImage(this.recipe(id), this.ctx(platform, id), t.annotations, t.annotations[KEYS.packagesKey]);
      this.images.set(key, image);
    }
    return image;
  }

  /**
   * Every platform of the target in one OCI tarball; several make an image index. Compression
   * and media types are forced (else the engine reuses whatever blob its cache holds), then every
   * layer is written again canonically in the chain's base image and the times are normalised
   * to the chain's epoch.
   */
  tarball(t: PlannedTarget): File {
    const [first, ...rest] = t.platforms.map((p) => this.image(t.id, p));
    const exported = first!.asTarball({ platformVariants: rest, forcedCompression: ImageLayerCompression.Gzip, mediaTypes: ImageMediaTypes.OcimediaTypes });
    const { crane, regctl } = this.matrix.tools;
    return finishTarball(exported, { crane, regctl, layerTools: this.chainBase(t.id).image, epoch: this.epoch(t.id), indexAnnotations: rest.length > 0 ? t.annotations : undefined });
  }

  /** One platform's image as it is in the tarball: what the smoke checks run against. */
  imported(t: PlannedTarget, tarball: File, platform: Platform): Container {
    return dag.container({ platform: platform as string as EnginePlatform }).import_(tarball);
  }

  /** The recipe's smoke checks on each platform's image (built here, or pulled for a release). */
  smokeEveryPlatform(t: PlannedTarget, recipe: Recipe, imageOn: (p: Platform) => Container): Promise<CheckResult[]> {
    return smokeEveryPlatform(t.platforms.map((p) => ({ platform: p, image: imageOn(p), ctx: this.ctx(p) })), recipe);
  }

  /** Build, smoke-test and scan one target, once per session however often it is asked. */
  run(id: string): Promise<Built> {
    let run = this.runs.get(id);
    if (!run) {
      const t = this.target(id);
      // A chain never rejects: whatever escapes its own handling is this target's failure, so one
      // target cannot take the other results of Promise.all down with it.
      run = this.chain(t).catch((e: unknown) => this.unexpected(t, e));
      this.runs.set(id, run);
    }
    return run;
  }

  private unexpected(t: PlannedTarget, e: unknown): Built {
    const image = this.image(t.id);
    const result: TargetResult = { id: t.id, inputKey: t.inputKey, status: "failed", checks: [], seconds: 0, reason: `internal error: ${failure(e)}` };
    return { target: t, recipe: this.recipe(t.id), image, tarball: image.asTarball(), sboms: [], result };
  }

  async runAll(targets: readonly PlannedTarget[]): Promise<Built[]> {
    return Promise.all(targets.map((t) => this.run(t.id)));
  }

  private async chain(t: PlannedTarget): Promise<Built> {
    const start = Date.now();
    const recipe = this.recipe(t.id);
    const image = this.image(t.id);
    const tarball = this.tarball(t);
    const base = { target: t, recipe, image, tarball, sboms: [] };
    const result = (rest: Omit<TargetResult, "id" | "inputKey" | "seconds">): TargetResult => ({
      id: t.id,
      inputKey: t.inputKey,
      seconds: secondsSince(start),
      ...rest,
    });
    // A pin the archive does not carry: nothing is built. The parent's verdict still comes first
    // (a child asks apt for its parent's packages too, so its resolution fails with the parent's).
    const resolution = this.resolutions.get(t.id);
    const unresolved = resolution && "error" in resolution ? resolution.error : undefined;
    // The build starts at once (the engine shares the parent's layers), but the parent's verdict
    // decides first: a child of a parent that did not pass is blocked, whatever its own build did.
    const built = unresolved
      ? undefined
      : readLayoutTop(tarball, this.matrix.tools.crane).then(
          (top) => ({ digest: top.descriptor.digest, manifests: platformDigests(layoutImages(top, t.platforms).images) }),
        ).catch((error: unknown) => ({ error }));
    const parent = t.from ? await this.run(t.from) : undefined;
    if (parent && parent.result.status !== "passed") {
      return { ...base, result: result({ status: "blocked", checks: [], reason: `${parent.target.id} ${parent.result.status}, so it is not tested` }) };
    }
    if (!built) return { ...base, result: result({ status: "failed", checks: [], reason: `packages did not resolve: ${unresolved}` }) };
    const build = await built;
    if ("error" in build) return { ...base, result: result({ status: "failed", checks: [], reason: `build failed: ${failure(build.error)}` }) };
    const { digest, manifests } = build;
    // A target passes only if every platform passes; each check is named with its platform. The
    // checks run on the tarball's images: exactly what is scanned and pushed.
    // The operator stage runs beside them on the same tarball, so a failure there reports the
    // operator's own reason even when a smoke check fails too.
    const [smoked, operated] = await Promise.all([
      this.smokeEveryPlatform(t, recipe, (p) => this.imported(t, tarball, p)),
      this.operator?.applies(t) ? this.operator.run(t, tarball, digest) : ([] as CheckResult[]),
    ]);
    const checks = [...smoked, ...operated];
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      // The summary puts the target's id before its reason: each line says it once.
      const reason = failed.map((c) => `${operated.includes(c) ? "operator" : "smoke"} check "${c.name}" failed: ${c.detail ?? ""}`).join("\n");
      return { ...base, result: result({ status: "failed", digest, manifests, checks, reason }) };
    }
    try {
      const sboms = t.platforms.map((p, i) => sbom(tarball, this.matrix.tools.syft, p, sbomPaths(t.id, p, i === 0)));
      const [size] = await Promise.all([unpackedSize(image), ...sboms.flatMap((s) => [s.spdx.sync(), s.cyclonedx.sync()])]);
      const paths = Object.fromEntries(sboms.map((s) => [s.platform, s.paths]));
      return { ...base, sboms, result: result({ status: "passed", digest, manifests, size, checks, sbom: sboms[0]!.paths, sboms: paths }) };
    } catch (e) {
      return { ...base, result: result({ status: "failed", digest, manifests, checks, reason: `SBOM failed: ${failure(e)}` }) };
    }
  }
}

/** The report's SBOM paths: the first platform's without a suffix, the others with theirs. */
function sbomPaths(id: string, platform: Platform, first: boolean): { spdx: string; cyclonedx: string } {
  const name = first ? id : `${id}.${platform.replace("/", "-")}`;
  return { spdx: `sbom/${name}.spdx.json`, cyclonedx: `sbom/${name}.cdx.json` };
}

/** The run's Report: summary.txt, summary.json, the SBOMs and extra files, and its verdict. */
export function report(plan: Plan, results: readonly TargetResult[], sboms: ReadonlyMap<string, readonly Sbom[]>, extra: Record<string, string> = {}): Report {
  const summary = summaryText(results);
  let dir = dag.directory().withNewFile("summary.txt", summary).withNewFile("summary.json", summaryJson(plan, results));
  for (const r of results) {
    for (const s of r.sbom ? (sboms.get(r.id) ?? []) : []) dir = dir.withFile(s.paths.spdx, s.spdx).withFile(s.paths.cyclonedx, s.cyclonedx);
  }
  for (const [path, text] of Object.entries(extra)) dir = dir.withNewFile(path, text);
  return new Report(summary, failedTargets(results), dir);
}

export function summaryJson(plan: Plan, results: readonly TargetResult[]): string {
  const byId = new Map(plan.targets.map((t) => [t.id, t]));
  const targets = Object.fromEntries(
    results.map((r) => {
      const t = byId.get(r.id)!;
      const { testing, release } = targetRefs(t);
      return [r.id, { ...r, tags: { testing, release, aliases: t.tags.aliases } }];
    }),
  );
  return JSON.stringify({ timestamp: plan.inputs.timestamp, revision: plan.inputs.revision, targets }, null, 2) + "\n";
}

export function summaryText(results: readonly TargetResult[]): string {
  const rows = results.map((r) => [
    r.id,
    r.status,
    r.digest ? r.digest.slice(0, 19) : "-",
    r.size !== undefined ? `${(r.size / 1e6).toFixed(0)} MB` : "-",
    r.checks.length ? `${r.checks.filter((c) => c.ok).length}/${r.checks.length}` : "-",
    `${r.seconds}s`,
    r.published?.join(" ") ?? "",
  ]);
  const problems = results.flatMap((r) => [...(r.change ? [`${r.id}: ${r.change}`] : []), ...(r.reason ? [`${r.id}: ${r.reason}`] : [])]);
  const counts = ["passed", "unchanged", "failed", "blocked"].map((s) => `${results.filter((r) => r.status === s).length} ${s}`).join(", ");
  return [...table(["TARGET", "STATUS", "DIGEST", "SIZE", "SMOKE", "TIME", "PUBLISHED"], rows), "", counts, ...(problems.length ? ["", ...problems] : [])].join("\n") + "\n";
}

/** PGDG's mirror, archive or key on the caller's loopback, as the build containers reach them. */
function loopbackTunnels(pgdg: Matrix["pgdg"], hostService: HostService): LoopbackTunnels | undefined {
  const access = loopbackAccess([pgdg.mirror, pgdg.archive, pgdg.keyUrl]);
  if (!access) return undefined;
  return {
    files: dag.directory().withNewFile("apt.conf", access.aptConf).withNewFile(".curlrc", access.curlrc),
    tunnels: access.hosts.map((h) => ({ alias: h.alias, service: hostService(h.host, h.port) })),
  };
}
