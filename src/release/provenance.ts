// The SLSA provenance statement attached to every published image: who built it (pg-images and
// the Dagger engine, by version), from what (matrix revision, base digest, package pins, input
// key), and what it passed (the smoke checks). Pure: versions and results come in as data.
import type { PlannedTarget, RunInputs } from "../plan/types.js";
import { rfc3339 } from "../plan/tags.js";
import type { CheckResult } from "./decisions.js";

/** The predicate type cosign attaches for `--type slsaprovenance` (SLSA provenance v0.2). */
export const SLSA_PROVENANCE_V02 = "https://slsa.dev/provenance/v0.2";
/** What a pg-images build is: the recipe of one target of matrix.yaml, rendered by the pipeline. */
export const BUILD_TYPE = "https://github.com/pg-images/pg-images/build/v1";

export interface Builder {
  /** pg-images's own version (package.json). */
  pgImages: string;
  /** The Dagger engine that ran the build. */
  engine: string;
}

export interface ProvenanceInput {
  target: PlannedTarget;
  inputs: RunInputs;
  builder: Builder;
  /** The matrix's repository (metadata.source) and the file inside it. */
  source: { uri: string; matrix: string };
  /** Every smoke check on every platform; only a target whose checks all passed is attested. */
  checks: readonly CheckResult[];
  /** When the statement was made (RFC 3339, the run's clock), as BuildKit's buildFinishedOn. */
  finishedOn?: string;
}

/** The predicate of an in-toto statement, as cosign attest takes it (`--predicate`). */
export function provenance(p: ProvenanceInput): Record<string, unknown> {
  const failed = p.checks.filter((c) => !c.ok).map((c) => c.name);
  if (failed.length > 0) throw new Error(`${p.target.id}: no provenance for an image that failed ${failed.join(", ")}`);
  const t = p.target;
  const [baseName, baseDigest] = t.base.split("@") as [string, string | undefined];
  return {
    builder: { id: `pkg:npm/pg-images@${p.builder.pgImages}?engine=dagger@${p.builder.engine}` },
    buildType: BUILD_TYPE,
    invocation: {
      configSource: { uri: p.source.uri, digest: { revision: p.inputs.revision }, entryPoint: p.source.matrix },
      parameters: { target: t.id, kind: t.kind, platforms: t.platforms, timestamp: p.inputs.timestamp },
      environment: { "pg-images": p.builder.pgImages, dagger: p.builder.engine },
    },
    buildConfig: {
      inputKey: t.inputKey,
      postgres: t.postgres.map((v) => v.version),
      extensions: t.extensions.map((e) => ({ package: e.package, version: e.version })),
      packages: t.packages,
      smokeChecks: p.checks.map((c) => c.name),
    },
    metadata: {
      buildStartedOn: rfc3339(p.inputs.timestamp),
      ...(p.finishedOn ? { buildFinishedOn: p.finishedOn } : {}),
      completeness: { parameters: true, environment: false, materials: true },
      reproducible: false,
    },
    materials: [{ uri: baseName, digest: baseDigest ? { [baseDigest.split(":")[0]!]: baseDigest.split(":")[1]! } : {} }],
  };
}
