// The engine side: loads the matrix from the module's source directory and runs the chain.
import { dag, type Container, type Directory, type Secret } from "@dagger.io/dagger";
import { randomUUID } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { applyBumps, parseMadison, pinQueries, pinReportText, proposeBumps } from "../matrix/pins.js";
import { aptSetup } from "../recipes/apt.js";
import { runScript } from "../render/dagger.js";
import { archiveNow } from "./resolve.js";
import { KINDS } from "../kinds.js";
import { parseMatrix } from "../matrix/load.js";
import { MatrixError } from "../matrix/problems.js";
import type { Matrix } from "../matrix/schema.js";
import { planJson, planTable } from "../plan/format.js";
import { planFromText, registryOverrideProblems } from "../plan/fromText.js";
import { findTarget } from "../plan/graph.js";
import { placeholderValues, targetRefs, utcMinute } from "../plan/tags.js";
import type { Filters, Plan, PlannedTarget, RunInputs } from "../plan/types.js";
import { filesNeeded, unreadableFileProblems, type RecipeContext } from "../recipes/index.js";
import { expiredTags, retentionReport, spareSharedDigests, templatePattern, type RetentionOutcome } from "../release/retention.js";
import { dockerfileFor } from "../render/dockerfile.js";
import { PinBumps, Report } from "../report.js";
import { Builder, report } from "./build.js";
import type { HostService } from "./hostServices.js";
import { Publisher } from "./publish.js";
import { Changes } from "./changes.js";
import { OperatorStage } from "./operator.js";
import { catalogFiles } from "./catalogs.js";
import { failure } from "./target.js";
import { Signer, type Signing } from "./signer.js";
import { provenance } from "../release/provenance.js";
import type { CheckResult } from "../release/decisions.js";
import type { TargetResult } from "./target.js";
import { EPHEMERAL_HOST, RegistryClient, type RegistryAuth } from "./registry.js";

export interface PipelineOptions {
  source: Directory;
  matrix: string;
  registry: { release?: string | undefined; testing?: string | undefined };
  timestamp?: string | undefined;
  revision?: string | undefined;
  /** pg-images's own tree, for smoke-test fixtures. */
  fixtures: Directory;
  /** How the engine's containers reach a registry or mirror on the caller's loopback. */
  hostService: HostService;
  /** A cluster running CloudNativePG: operand images pass the operator stage on it. */
  kubeconfig?: Secret | undefined;
}

export interface PublishOptions {
  release: boolean;
  ephemeral: boolean;
  filters: Filters;
  auth?: RegistryAuth;
  /** Sign and attest what passed (publish), or carry signatures along (release). */
  signing?: Signing;
}

export class Pipeline {
  private constructor(
    readonly options: PipelineOptions,
    readonly text: string,
    readonly files: ReadonlyMap<string, string>,
    readonly inputs: RunInputs,
  ) {}

  /** Names this run to the engine: what is resolved against the archive is never replayed from an earlier run. */
  private readonly run = randomUUID();

  static async load(options: PipelineOptions): Promise<Pipeline> {
    const text = await options.source.file(options.matrix).contents();
    const parsed = parseMatrix(text);
    const files = new Map<string, string>();
    if (parsed.ok) {
      const failed = new Map<string, string>();
      await Promise.all(
        filesNeeded(parsed.matrix).map(async (path) => {
          const full = join(dirname(options.matrix), path);
          try {
            files.set(path, await options.source.file(full).contents());
          } catch {
            failed.set(path, `not found in the source directory (${full})`);
          }
        }),
      );
      if (failed.size > 0) throw new MatrixError(options.matrix, unreadableFileProblems(parsed.matrix, options.matrix, failed));
    }
    const inputs = { timestamp: options.timestamp ?? utcMinute(new Date()), revision: options.revision ?? "dev" };
    return new Pipeline(options, text, files, inputs);
  }

  /** Throws MatrixError with every problem when the matrix or inputs are invalid. */
  plan(filters: Filters = {}, registry = this.options.registry): { matrix: Matrix; plan: Plan } {
    // Checked here as well: publish swaps in the throwaway registry, and an empty --registry
    // (an unset CI variable) must not quietly become that.
    const overrides = registryOverrideProblems(this.options.registry);
    if (overrides.length > 0) throw new MatrixError(this.options.matrix, overrides);
    return planFromText(this.text, this.options.matrix, { inputs: this.inputs, filters, registry, files: this.files });
  }

  /**
   * The plan as text. With explain, each target's packages are resolved against the archive of
   * this run and compared with what its first alias holds: the line publish would report.
   */
  async planText(format: string, filters: Filters, explain = false): Promise<string> {
    if (format !== "table" && format !== "json") throw new Error(`--format must be table or json, found "${format}"`);
    const planned = this.plan(filters);
    if (!explain) return format === "json" ? planJson(planned.plan) : planTable(planned.plan);
    const builder = await this.builder(planned);
    const changes = new Changes(builder, this.registryClient(planned.matrix, undefined, false));
    const reasons = new Map(
      await Promise.all(
        builder.plan.targets.map(async (t) => {
          const unresolved = builder.unresolved(t.id);
          if (unresolved) return [t.id, `packages do not resolve: ${unresolved.split("\n").at(-1)}`] as const;
          return [t.id, await changes.of(t).then((f) => f.reason, (e: unknown) => `unknown: ${failure(e)}`)] as const;
        }),
      ),
    );
    return format === "json" ? planJson(builder.plan, reasons) : planTable(builder.plan, reasons);
  }

  recipeContext(matrix: Matrix): RecipeContext {
    return { pgdg: matrix.pgdg, files: this.files };
  }

  dockerfile(id: string): string {
    const { matrix, plan } = this.plan();
    return dockerfileFor(plan, findTarget(plan, id).id, this.recipeContext(matrix));
  }

  /** One target's image, lazily (the engine builds it when something asks for a result). */
  async build(id: string): Promise<Container> {
    return (await this.builder(this.plan())).image(id);
  }

  async buildAll(filters: Filters): Promise<Report> {
    const planned = this.plan(filters);
    const operator = await this.operatorStage(planned.matrix, this.registryClient(planned.matrix, undefined, false));
    const builder = await this.builder(planned, operator);
    const built = await builder.runAll(planned.plan.targets);
    const sboms = new Map(built.map((b) => [b.target.id, b.sboms] as const));
    return report(planned.plan, built.map((b) => b.result), sboms);
  }

  /**
   * Dev publish, or with release the promotion; targets not yet in the testing repository under
   * this run's tag are built and published there first, so one call can do both.
   */
  async publish(opts: PublishOptions): Promise<Report> {
    const ephemeral = opts.ephemeral || (!this.options.registry.release && !this.options.registry.testing && !opts.auth);
    // The throwaway registry lives as long as this call: a new user runs the chain without credentials.
    const planned = this.plan(opts.filters, ephemeral ? { release: `${EPHEMERAL_HOST}/release`, testing: `${EPHEMERAL_HOST}/testing` } : this.options.registry);
    const registry = this.registryClient(planned.matrix, opts.auth, ephemeral);
    // Publishing signs with the identity given; a release carries signatures along with only cosign.
    const cosign = opts.signing ? this.cosignImage(planned.matrix) : planned.matrix.tools.cosign;
    const signer = cosign ? new Signer(registry, cosign, opts.signing) : undefined;
    // Every published index carries its provenance; a signed image also as a cosign attestation.
    const provenanceOf = await this.provenanceMaker(planned);
    const builder = await this.builder(planned, await this.operatorStage(planned.matrix, registry));
    const publisher = new Publisher(builder, registry, signer, provenanceOf);
    const targets = builder.plan.targets;
    if (!opts.release) {
      const out = await publisher.publishTesting(targets);
      return report(builder.plan, out.results, out.sboms, { ...out.files, ...(await signatureFiles(signer, out.results)) });
    }
    // Unreadable counts as missing: publishing it reports the registry's error for that target.
    const present = await Promise.all(targets.map((t) => registry.digest(targetRefs(t).testing).catch(() => undefined)));
    const missing = targets.filter((_, i) => !present[i]);
    const first = missing.length > 0 ? await publisher.publishTesting(missing) : undefined;
    const out = await publisher.promote(targets);
    // A target that failed before promotion reports that failure, not "not in testing".
    const results = out.results.map((r) => first?.results.find((f) => f.id === r.id && f.status !== "passed" && f.status !== "unchanged") ?? r);
    // The catalogs cover the whole matrix, from what the release repositories hold after this run.
    // A registry that fails here fails no image: the report says so, and the catalogs job (or the
    // next release) writes them.
    const catalogs = await this.catalogsFrom(registry, signer, ephemeral).catch((e: unknown) => ({
      "catalogs/not-written.txt": `The catalogs were not written: ${failure(e)}\nRun the catalogs function once the registry answers.\n`,
    }));
    return report(builder.plan, results, first?.sboms ?? new Map(), { ...out.files, ...catalogs, ...(await signatureFiles(signer, results)) });
  }

  /**
   * ClusterImageCatalogs for every operand major of the whole matrix (filters do not apply), each
   * major's image as the release repository holds it now: what its aliases point at, by its
   * newest unique tag. A final CI job after all release jobs runs this alone.
   */
  async catalogs(auth?: RegistryAuth, signing?: Signing): Promise<Directory> {
    const { matrix } = this.plan();
    const registry = this.registryClient(matrix, auth, false);
    const signer = signing ? new Signer(registry, this.cosignImage(matrix), signing) : undefined;
    const files = await this.catalogsFrom(registry, signer, false);
    return Object.entries(files).reduce((dir, [path, text]) => dir.withNewFile(path.replace(/^catalogs\//, ""), text), dag.directory());
  }

  private async catalogsFrom(registry: RegistryClient, signer: Signer | undefined, ephemeral: boolean): Promise<Record<string, string>> {
    const { matrix, plan } = this.plan({}, ephemeral ? { release: `${EPHEMERAL_HOST}/release`, testing: `${EPHEMERAL_HOST}/testing` } : this.options.registry);
    const files = await catalogFiles(matrix, plan.targets, registry);
    return { ...files, ...(signer?.signs ? await signCatalogs(signer, files) : {}) };
  }

  private cosignImage(matrix: Matrix): string {
    if (!matrix.tools.cosign) throw new Error(`${this.options.matrix}: tools.cosign is needed to sign; pin cosign's image by digest there`);
    return matrix.tools.cosign;
  }

  /** Provenance for a target that passed: pg-images's version (package.json) and the engine's. */
  private async provenanceMaker({ matrix, plan }: { matrix: Matrix; plan: Plan }): Promise<(t: PlannedTarget, checks: readonly CheckResult[], finishedOn: string) => Record<string, unknown>> {
    const [pkg, engine] = await Promise.all([this.options.fixtures.file("package.json").contents(), dag.version()]);
    const builder = { pgImages: (JSON.parse(pkg) as { version: string }).version, engine };
    const source = { uri: matrix.metadata.source, matrix: this.options.matrix };
    return (target, checks, finishedOn) => provenance({ target, inputs: plan.inputs, builder, source, checks, finishedOn });
  }

  /**
   * The pins matrix.yaml would have with the newest PostgreSQL minors and extension versions the
   * configured sources carry for every distro that installs them; refused when any target of the
   * bumped matrix would then not resolve (apt would not install it).
   */
  async bumpPins(): Promise<PinBumps> {
    const { matrix, plan } = this.plan();
    const builder = this.newBuilder({ matrix, plan });
    const queries = pinQueries(matrix);
    const available = new Map(
      await Promise.all(
        matrix.distros.map(async (d) => {
          const packages = queries.filter((q) => q.distro === d.name).map((q) => q.package);
          const ctx = builder.ctx("linux/amd64");
          const setup = aptSetup(matrix.packageSource, d.name, matrix.postgres.filter((p) => d.pg.includes(p.major)), matrix.pgdg);
          const out = packages.length > 0 ? await runScript(archiveNow({ image: d.base }, [setup], ctx, this.run), `apt-cache madison ${packages.join(" ")}`, ctx).stdout() : "";
          return [d.name, parseMadison(out)] as const;
        }),
      ),
    );
    const proposed = proposeBumps(matrix, available);
    const text = applyBumps(this.text, proposed.bumps);
    if (proposed.bumps.length > 0) {
      const bumped = new Pipeline(this.options, text, this.files, this.inputs);
      const check = await bumped.builder(bumped.plan());
      const refused = check.plan.targets.flatMap((t) => {
        const error = check.unresolved(t.id);
        return error ? [`${t.id}: ${error}`] : [];
      });
      if (refused.length > 0) throw new Error(`${this.options.matrix}: the new pins would not install, so nothing is bumped:\n${pinReportText(proposed)}${refused.join("\n")}`);
    }
    const name = basename(this.options.matrix);
    return new PinBumps(pinReportText(proposed), proposed.bumps.map((b) => `${b.path} ${b.from} ${b.to}`), dag.directory().withNewFile(name, text).file(name));
  }

  /**
   * Delete dev tags older than `days` from each target's testing repository. A failed delete
   * does not stop the others; every outcome is listed, and the call fails at the end if any did.
   */
  async retention(days: number, dryRun: boolean, auth?: RegistryAuth): Promise<string> {
    const { matrix, plan } = this.plan();
    const registry = this.registryClient(matrix, auth, false);
    const outcomes: RetentionOutcome[] = [];
    const failure = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
    const templates = new Map(matrix.images.map((i) => [i.id, { ...KINDS[i.kind].tags, ...i.tags }]));
    const repositories = [...new Set(plan.targets.map((t) => t.repository.testing))].sort();
    for (const repo of repositories) {
      let tags: string[];
      try {
        tags = await registry.listTags(repo);
      } catch (e) {
        outcomes.push({ ref: repo, status: "failed", error: `listing tags: ${failure(e)}` });
        continue;
      }
      const expired = new Set<string>();
      for (const t of plan.targets.filter((x) => x.repository.testing === repo)) {
        const values = placeholderValues({ image: t.image, postgres: t.postgres, distro: t.distro, flavour: t.flavour, ...plan.inputs });
        const pattern = templatePattern(templates.get(t.image)!.testing, values);
        if (pattern) for (const tag of expiredTags(tags, pattern, new Date(), days)) expired.add(tag);
      }
      let doomed = [...expired].sort();
      // One repository for testing and release tags: never delete a manifest a release tag holds.
      if (doomed.length > 0 && plan.targets.some((t) => t.repository.release === repo)) {
        const digests = new Map(await Promise.all(tags.map(async (tag) => [tag, await registry.digest(`${repo}:${tag}`)] as const)));
        const spared = spareSharedDigests(doomed, digests);
        for (const k of spared.kept) outcomes.push({ ref: `${repo}:${k.tag}`, status: "kept", heldBy: k.heldBy });
        doomed = spared.expired;
      }
      for (const tag of doomed) {
        const ref = `${repo}:${tag}`;
        if (dryRun) {
          outcomes.push({ ref, status: "would delete" });
          continue;
        }
        try {
          const digest = await registry.digest(ref);
          if (digest) await registry.delete(`${repo}@${digest}`);
          outcomes.push({ ref, status: digest ? "deleted" : "already gone" });
        } catch (e) {
          outcomes.push({ ref, status: "failed", error: failure(e) });
        }
      }
    }
    const report = retentionReport(outcomes, days);
    if (!report.ok) throw new Error(report.text);
    return report.text;
  }

  /** A builder for the plan, each target's packages resolved against the archive of this run. */
  private async builder(planned: { matrix: Matrix; plan: Plan }, operator?: OperatorStage): Promise<Builder> {
    const builder = this.newBuilder(planned, operator);
    await builder.resolvePackages(this.run);
    return builder;
  }

  private newBuilder(planned: { matrix: Matrix; plan: Plan }, operator?: OperatorStage): Builder {
    return new Builder(planned.matrix, planned.plan, this.recipeContext(planned.matrix), {
      context: this.options.source.directory(dirname(this.options.matrix)),
      fixtures: this.options.fixtures,
    }, this.options.hostService, operator);
  }

  /** The operator stage on the cluster the caller gave, pushing candidates through this registry client. */
  private operatorStage(matrix: Matrix, registry: RegistryClient): Promise<OperatorStage | undefined> {
    return OperatorStage.create(matrix, this.options.matrix, this.options.kubeconfig, registry, this.options.hostService);
  }

  private registryClient(matrix: Matrix, auth: RegistryAuth | undefined, ephemeral: boolean): RegistryClient {
    const service = ephemeral ? dag.container().from(matrix.tools.registry).withExposedPort(5000).asService({ useEntrypoint: true }) : undefined;
    return new RegistryClient(matrix.tools.crane, auth, service, this.options.hostService);
  }
}

/** How to verify what was signed, and the public key for the key path: report files. */
async function signatureFiles(signer: Signer | undefined, results: readonly TargetResult[]): Promise<Record<string, string>> {
  if (!signer) return {};
  const signed = results.flatMap((r) => (r.signed ?? []).map((ref) => ({ id: r.id, ref })));
  const lines = signed.flatMap(({ id, ref }) => [`# ${id}`, ...signer.verifyCommands(ref), ""]);
  const key = await signer.publicKey();
  return { "signatures.md": `Signed digests and how to verify them:\n\n${lines.join("\n")}`, ...(key ? { "cosign.pub": key } : {}) };
}

/** Each ClusterImageCatalog signed as a blob, as CloudNativePG signs its catalogs: <catalog>.bundle. */
async function signCatalogs(signer: Signer, files: Record<string, string>): Promise<Record<string, string>> {
  const catalogs = Object.entries(files).filter(([path]) => /^catalogs\/catalog-.*\.yaml$/.test(path));
  const signed = await Promise.all(catalogs.map(async ([path, text]) => [`${path}.bundle`, await signer.signBlob(dag.directory().withNewFile("catalog.yaml", text).file("catalog.yaml"))] as const));
  return Object.fromEntries(signed);
}
