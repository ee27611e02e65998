// Changed or not, and why, for each target of a resolved plan: its key against the one its first
// alias holds, with the packages published beside that image to name what moved. Publish skips
// what is unchanged; plan --explain shows the same lines before anything builds.
import type { PlannedTarget } from "../plan/types.js";
import { targetRefs } from "../plan/tags.js";
import { decideFreshness, parseLockFile, type CurrentImage, type Freshness } from "../release/freshness.js";
import type { Builder } from "./build.js";
import type { RegistryClient } from "./registry.js";

/** cosign's tags for what belongs to a digest: sha256-<hex>.sig, .att, .sbom. */
export const attachmentTag = (digest: string, kind: string) => `${digest.replace(":", "-")}.${kind}`;
/**
 * SBOMs are also published as a sibling image under cosign's .sbom tag: the release notes read
 * the current release's SBOM from it with no key or identity to verify.
 */
export const sbomTag = (digest: string) => attachmentTag(digest, "sbom");

export const SBOM_FILE = "sbom.spdx.json";
/** Beside the SBOM: what apt resolved for the image, every platform (release/freshness.ts). */
export const LOCK_FILE = "packages.lock.json";

export class Changes {
  private decisions?: Map<string, Promise<Freshness>>;

  constructor(
    private readonly builder: Builder,
    private readonly registry: RegistryClient,
  ) {}

  /**
   * Changed or not against the first alias (the tag users follow), and why: every target's
   * decision once, parents' first, since a changed parent changes its children.
   */
  of(t: PlannedTarget): Promise<Freshness> {
    if (!this.decisions) {
      const decisions = new Map<string, Promise<Freshness>>();
      for (const x of this.builder.plan.targets) {
        const parent = x.from ? decisions.get(x.from) : undefined;
        const alias = targetRefs(x).aliases[0];
        decisions.set(
          x.id,
          Promise.all([this.current(x, alias), parent]).then(([current, p]) =>
            decideFreshness(x, this.builder.lock(x.id) ?? {}, alias, current, x.from ? { id: x.from, changed: p?.changed ?? true } : undefined),
          ),
        );
      }
      this.decisions = decisions;
    }
    const decision = this.decisions.get(t.id);
    if (!decision) throw new Error(`${t.id} is not in the plan`);
    return decision;
  }

  /** What the alias holds now: its labels, and the packages published beside it. */
  private async current(t: PlannedTarget, alias: string | undefined): Promise<CurrentImage | undefined> {
    if (!alias) return undefined;
    const labels = await this.registry.labels(alias);
    if (!labels) return undefined;
    const digest = await this.registry.digest(alias);
    const text = digest ? await this.registry.readFile(`${t.repository.release}:${sbomTag(digest)}`, LOCK_FILE) : undefined;
    const lock = text ? parseLockFile(text) : undefined;
    return { labels, ...(lock ? { lock } : {}) };
  }
}
