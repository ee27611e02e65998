// publish: what passed goes to the testing repository under its unique tag. publish --release:
// the tested digests are copied (never rebuilt) to the release repository, then the aliases move
// where the gate allows. Unique tags go first and aliases last, so an interrupted run leaves no
// alias on an untested digest, and a re-run converges.
import { dag, type File, type Platform as EnginePlatform } from "@dagger.io/dagger";
import type { Platform } from "../kinds.js";
import { KEYS } from "../plan/metadata.js";
import { targetRefs } from "../plan/tags.js";
import type { PlannedTarget } from "../plan/types.js";
import { decideGate, decideUniqueTag, type PublishedImage } from "../release/decisions.js";
import { layoutImages, platformDigests } from "../release/attestations.js";
import { attestTarball } from "./attest.js";
import { lockFile, type Lock } from "../release/freshness.js";
import { attachmentTag, Changes, LOCK_FILE, SBOM_FILE, sbomTag } from "./changes.js";
import { diffPackages, packagesFromSpdx, releaseNotes } from "../release/notes.js";
import type { Builder, Built } from "./build.js";
import type { RegistryClient } from "./registry.js";
import { predicateFile, type Signer } from "./signer.js";
import type { CheckResult } from "../release/decisions.js";
import { failure, secondsSince, type Sbom, type TargetResult } from "./target.js";

export interface PublishOutcome {
  results: TargetResult[];
  sboms: Map<string, readonly Sbom[]>;
  /** Extra report files: release notes and catalogs. */
  files: Record<string, string>;
}

export class Publisher {
  private readonly changes: Changes;

  constructor(
    private readonly builder: Builder,
    private readonly registry: RegistryClient,
    private readonly signer: Signer | undefined,
    /** The SLSA provenance predicate of a target that passed, made at `finishedOn` (RFC 3339). */
    private readonly provenanceOf: (t: PlannedTarget, checks: readonly CheckResult[], finishedOn: string) => Record<string, unknown>,
  ) {
    this.changes = new Changes(builder, registry);
  }

  /**
   * Sign a tested digest and attach its SBOMs (one per platform) and provenance, each once: a
   * re-run finds the signature and the attestations there. Returns the signed reference.
   */
  private async signAndAttest(t: PlannedTarget, digestRef: string, built: Built, provenance: Record<string, unknown>): Promise<string[] | undefined> {
    if (!this.signer?.signs) return undefined;
    const [repository, digest] = digestRef.split("@") as [string, string];
    if (!(await this.registry.digest(`${repository}:${attachmentTag(digest, "att")}`))) {
      for (const s of built.sboms) await this.signer.attest(digestRef, "spdxjson", s.spdx);
      await this.signer.attest(digestRef, "slsaprovenance", predicateFile(provenance));
    }
    if (!(await this.registry.digest(`${repository}:${attachmentTag(digest, "sig")}`))) await this.signer.sign(digestRef);
    return [digestRef];
  }

  /**
   * Signatures and attestations of a digest copied to another repository, once. Returns the
   * reference when the digest is signed there, undefined when the source was never signed.
   */
  private async copySignatures(signer: Signer, from: { repository: string; digest: string }, to: { repository: string; tag: string }): Promise<string[] | undefined> {
    const has = async (repository: string) => {
      const tags = await Promise.all(["sig", "att"].map((kind) => this.registry.digest(`${repository}:${attachmentTag(from.digest, kind)}`)));
      return tags.every(Boolean);
    };
    const signed = [`${to.repository}@${from.digest}`];
    if (await has(to.repository)) return signed;
    if (!(await has(from.repository))) return undefined;
    await signer.copyAttachments(`${from.repository}@${from.digest}`, `${to.repository}:${to.tag}`);
    return signed;
  }

  private async unchanged(t: PlannedTarget): Promise<TargetResult | undefined> {
    const decision = await this.changes.of(t);
    if (decision.changed) return undefined;
    return { id: t.id, inputKey: t.inputKey, status: "unchanged", checks: [], seconds: 0, reason: decision.reason, published: [] };
  }

  async publishTesting(targets: readonly PlannedTarget[]): Promise<PublishOutcome> {
    const sboms = new Map<string, readonly Sbom[]>();
    const results = await Promise.all(
      targets.map(async (t): Promise<TargetResult> => {
        let built: Built | undefined;
        try {
          const skipped = await this.unchanged(t);
          if (skipped) return skipped;
          const { reason: change } = await this.changes.of(t);
          built = await this.builder.run(t.id);
          sboms.set(t.id, built.sboms);
          if (built.result.status !== "passed") return { ...built.result, change, published: [] };
          if (!t.push) return { ...built.result, change, published: [], reason: "push: false" };
          const ref = targetRefs(t).testing;
          // Only what passed its smoke tests on every platform gets this far.
          const provenance = this.provenanceOf(t, built.result.checks, new Date().toISOString());
          const attested = await attestTarball(built.tarball, {
            crane: this.builder.matrix.tools.crane,
            platforms: t.platforms,
            name: ref,
            sboms: built.sboms,
            provenance,
            annotations: t.annotations,
          });
          const { written: published, digest } = await this.pushUnique(ref, attested, { tarball: attested.tarball }, change, t.platforms);
          await this.pushSbom(t.repository.testing, digest, built.sboms[0]!.spdx, this.builder.lock(t.id));
          const signed = await this.signAndAttest(t, `${t.repository.testing}@${digest}`, built, provenance);
          return { ...built.result, digest, manifests: attested.manifests, change, published, ...(signed ? { signed } : {}) };
        } catch (e) {
          const base = built?.result ?? { id: t.id, inputKey: t.inputKey, checks: [], seconds: 0 };
          return { ...base, status: "failed", published: [], reason: `publish failed: ${failure(e)}` };
        }
      }),
    );
    return { results, sboms, files: {} };
  }

  /** Promotes the tested digests; the release notes are the outcome's files. */
  async promote(targets: readonly PlannedTarget[]): Promise<PublishOutcome> {
    const files: Record<string, string> = {};
    const results = await Promise.all(
      targets.map(async (t): Promise<TargetResult> => {
        const start = Date.now();
        const done = (r: Omit<TargetResult, "id" | "inputKey" | "seconds">): TargetResult => ({ id: t.id, inputKey: t.inputKey, seconds: secondsSince(start), ...r });
        try {
          const skipped = await this.unchanged(t);
          if (skipped) return skipped;
          if (!t.push) return done({ status: "blocked", checks: [], reason: "push: false", published: [] });
          const { reason: change } = await this.changes.of(t);
          const outcome = await this.promoteOne(t, files, change);
          return done({ ...outcome.result, change });
        } catch (e) {
          return done({ status: "failed", checks: [], published: [], reason: `release failed: ${failure(e)}` });
        }
      }),
    );
    return { results, sboms: new Map(), files };
  }

  private async promoteOne(t: PlannedTarget, notes: Record<string, string>, change: string): Promise<{ result: Omit<TargetResult, "id" | "inputKey" | "seconds"> }> {
    const refs = targetRefs(t);
    const testing = refs.testing;
    const digest = await this.registry.digest(testing);
    if (!digest) throw new Error(`${testing} does not exist: run publish (without --release) with the same --timestamp first`);
    // The recipe must be this one; the packages may have moved on since it was tested, and the
    // next run ships that (the tested digest is what is released, never a rebuild).
    const labels = await this.registry.labels(`${t.repository.testing}@${digest}`);
    if (labels?.[KEYS.recipeKey] !== t.recipeKey) {
      throw new Error(`${testing} was built from another recipe (recipe key ${labels?.[KEYS.recipeKey] ?? "none"}, the plan says ${t.recipeKey}); publish again`);
    }
    // Test exactly the digest that will be released, and what the first alias points to now.
    const recipe = this.builder.recipe(t.id);
    // Every platform of each index, imported from one pull of it.
    const imported = (tarball: File) => (p: Platform) => dag.container({ platform: p as string as EnginePlatform }).import_(tarball);
    const candidate = imported(this.registry.pull(`${t.repository.testing}@${digest}`));
    const aliasRef = refs.aliases[0];
    const currentDigest = aliasRef ? await this.registry.digest(aliasRef) : undefined;
    const current = currentDigest ? imported(this.registry.pull(`${t.repository.release}@${currentDigest}`)) : undefined;
    const [checks, currentChecks] = await Promise.all([
      this.builder.smokeEveryPlatform(t, recipe, candidate),
      current ? this.builder.smokeEveryPlatform(t, recipe, current) : undefined,
    ]);
    const gate = decideGate(checks, currentChecks);

    const release = refs.release;
    const { written: published } = await this.pushUnique(release, { digest }, { copyFrom: `${t.repository.testing}@${digest}` }, change, t.platforms);
    await this.registry.copy(`${t.repository.testing}:${sbomTag(digest)}`, `${t.repository.release}:${sbomTag(digest)}`);
    // Signatures and attestations travel with the digest: the release repository verifies alone.
    const signed = this.signer ? await this.copySignatures(this.signer, { repository: t.repository.testing, digest }, { repository: t.repository.release, tag: t.tags.release }) : undefined;
    notes[`notes/${t.id}.md`] = await this.notes(t, digest, currentDigest, change);
    if (!gate.move) {
      const report = `gate refused to move ${t.tags.aliases.join(", ")}: ${gate.reason}; current: ${fmtChecks(currentChecks)}; candidate: ${fmtChecks(checks)}`;
      return { result: { status: "failed", digest, checks, published, gate: report, reason: report, ...(signed ? { signed } : {}) } };
    }
    for (const alias of t.tags.aliases) {
      await this.registry.tag(`${t.repository.release}@${digest}`, alias);
      published.push(`${t.repository.release}:${alias}`);
    }
    return { result: { status: "passed", digest, checks, published, gate: gate.reason, ...(signed ? { signed } : {}) } };
  }

  private async notes(t: PlannedTarget, digest: string, currentDigest: string | undefined, change: string): Promise<string> {
    const title = `${t.id} (${t.repository.release}:${t.tags.release})`;
    const now = await this.registry.readFile(`${t.repository.release}:${sbomTag(digest)}`, SBOM_FILE);
    const before = currentDigest ? await this.registry.readFile(`${t.repository.release}:${sbomTag(currentDigest)}`, SBOM_FILE) : undefined;
    if (!now || !before || currentDigest === digest) return releaseNotes(title, undefined, undefined, change);
    return releaseNotes(title, `${t.repository.release}@${currentDigest}`, diffPackages(packagesFromSpdx(before), packagesFromSpdx(now)), change);
  }

  /**
   * Write a unique tag once; the same image again is a no-op (the tag keeps the index it holds,
   * with the attestations of the run that wrote it); another image is refused. Returns what was
   * written and the digest the tag holds.
   */
  private async pushUnique(ref: string, image: PublishedImage, source: Parameters<RegistryClient["writeUnique"]>[1], change: string, platforms: readonly Platform[]): Promise<{ written: string[]; digest: string }> {
    const held = await this.registry.writeUnique(ref, source);
    const existing = held === undefined ? undefined : { digest: held, manifests: held !== image.digest && image.manifests ? await this.platformManifests(ref, held, platforms) : undefined };
    const decision = decideUniqueTag(ref, existing, image);
    // The usual cause: a tag template without {timestamp}, and a rebuild at the same revision.
    if (decision.action === "refuse") throw new Error(`${decision.reason} (this run rebuilt it: ${change}); a unique tag without {timestamp} names one build per revision: add {timestamp} to the template, or publish from a new revision`);
    const digest = decision.action === "exists" ? decision.digest : image.digest;
    const pushed = await this.registry.digest(ref);
    if (pushed !== digest) throw new Error(`${ref} holds ${pushed ?? "nothing"} after the push, expected ${digest}`);
    return { written: decision.action === "push" ? [ref] : [], digest };
  }

  /** Each platform's manifest under a digest the registry holds; undefined when it has another shape. */
  private async platformManifests(ref: string, digest: string, platforms: readonly Platform[]): Promise<Record<string, string> | undefined> {
    const text = await this.registry.manifest(`${ref.slice(0, ref.lastIndexOf(":"))}@${digest}`);
    if (!text) return undefined;
    try {
      const mediaType = (JSON.parse(text) as { mediaType?: string }).mediaType ?? "";
      return platformDigests(layoutImages({ descriptor: { mediaType, digest, size: text.length }, text }, platforms).images);
    } catch {
      return undefined;
    }
  }

  /** The SBOM, and the packages the image was resolved to (what the next run compares with). */
  private async pushSbom(repository: string, digest: string, spdx: File, lock: Lock | undefined): Promise<void> {
    const ref = `${repository}:${sbomTag(digest)}`;
    if (await this.registry.digest(ref)) return;
    let files = dag.directory().withFile(SBOM_FILE, spdx);
    if (lock) files = files.withNewFile(LOCK_FILE, lockFile(lock));
    const image = dag.container().withRootfs(files).withAnnotation("org.opencontainers.image.description", `SBOM of ${repository}@${digest}`);
    await this.registry.push(image.asTarball(), ref);
  }
}

function fmtChecks(checks: readonly { name: string; ok: boolean }[] | undefined): string {
  if (!checks) return "none";
  return checks.map((c) => `${c.ok ? "pass" : "FAIL"} ${c.name}`).join("; ");
}
