// What a publish may do, decided from facts the engine side gathered. Pure, so every refusal is
// tested without a registry.
import { samePlatformImages } from "./attestations.js";

export interface CheckResult {
  name: string;
  ok: boolean;
  /** The end of the check's output when it failed. */
  detail?: string;
}

export interface GateDecision {
  move: boolean;
  /** Checks the current image passes and the candidate fails. */
  regressions: string[];
  reason: string;
}

/**
 * "No worse than what it replaces": an alias moves only if the candidate passes every check the
 * image the alias points to now passes. Checks new to the suite (unknown to the current image's
 * results) count only against the candidate.
 */
export function decideGate(candidate: readonly CheckResult[], current: readonly CheckResult[] | undefined): GateDecision {
  const failed = candidate.filter((c) => !c.ok).map((c) => c.name);
  if (!current) {
    return failed.length === 0
      ? { move: true, regressions: [], reason: "no current image" }
      : { move: false, regressions: failed, reason: `candidate fails ${failed.join(", ")}` };
  }
  const passedNow = new Set(current.filter((c) => c.ok).map((c) => c.name));
  const regressions = failed.filter((name) => passedNow.has(name) || !current.some((c) => c.name === name));
  if (regressions.length > 0) return { move: false, regressions, reason: `candidate fails ${regressions.join(", ")}, which the current image passes` };
  if (failed.length > 0) return { move: true, regressions: [], reason: `candidate fails only what the current image fails too (${failed.join(", ")})` };
  return { move: true, regressions: [], reason: "candidate passes every check" };
}

export type UniqueTagAction = { action: "push" } | { action: "exists"; digest: string } | { action: "refuse"; reason: string };

/** A published image: its digest and, for a build, each platform's manifest digest. */
export interface PublishedImage {
  digest: string;
  manifests?: Record<string, string> | undefined;
}

/**
 * A unique tag is written once: the same image again is a no-op, another image is refused. The
 * same image is the same digest, or the same manifest on every platform under an index whose
 * attestations (made at another time) differ: the tag keeps what it holds, attestations included.
 */
export function decideUniqueTag(ref: string, existing: PublishedImage | undefined, candidate: PublishedImage): UniqueTagAction {
  if (existing === undefined) return { action: "push" };
  if (existing.digest === candidate.digest) return { action: "exists", digest: existing.digest };
  if (existing.manifests && candidate.manifests && samePlatformImages(existing.manifests, candidate.manifests)) return { action: "exists", digest: existing.digest };
  return { action: "refuse", reason: `${ref} already holds ${existing.digest}; it is immutable and will not be moved to ${candidate.digest}` };
}
