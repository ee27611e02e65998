// The whole pure pipeline, text to plan, for the two shells (the Dagger module and the CLI).
import { locator, parseMatrix } from "../matrix/load.js";
import { INPUT, MatrixError, type Problem } from "../matrix/problems.js";
import { registriesProblem } from "../matrix/safety.js";
import { repositoryPrefix, type Matrix } from "../matrix/schema.js";
import { makePlan } from "./index.js";
import type { Filters, Plan, RunInputs } from "./types.js";

export interface PlanOptions {
  inputs: RunInputs;
  filters?: Filters;
  /** Override matrix.yaml's registry prefixes (what DOCKER_REPO did for Makefile pipelines). */
  registry?: Partial<Matrix["registry"]>;
  /** Text of files the matrix names, see recipes/filesNeeded. */
  files?: ReadonlyMap<string, string>;
}

/** Parse, validate and plan; throws MatrixError listing every problem with its line:col. */
export function planFromText(text: string, file: string, opts: PlanOptions): { matrix: Matrix; plan: Plan } {
  const parsed = parseMatrix(text);
  if (!parsed.ok) throw new MatrixError(file, parsed.problems);
  const overrideProblems = registryOverrideProblems(opts.registry);
  if (overrideProblems.length > 0) throw new MatrixError(file, overrideProblems);
  const matrix = withRegistry(parsed.matrix, opts.registry);
  // The overrides may make the two prefixes one, which matrix.yaml's own rules could not see.
  const same = opts.registry?.release !== undefined || opts.registry?.testing !== undefined ? registriesProblem(matrix) : undefined;
  if (same) throw new MatrixError(file, [{ path: [INPUT, opts.registry?.testing !== undefined ? "testing-registry" : "registry"], message: same }]);
  const result = makePlan(matrix, opts.inputs, opts.filters, opts.files);
  if (!result.ok) {
    const locate = locator(text);
    throw new MatrixError(file, result.problems.map((p) => ({ ...p, position: locate(p.path) })));
  }
  return { matrix, plan: result.plan };
}

/**
 * Problems with registry prefixes given at call time. Absent (undefined) keeps matrix.yaml's; an
 * empty value is refused, since it is usually an unset CI variable and would otherwise publish
 * somewhere the user did not name.
 */
export function registryOverrideProblems(registry: PlanOptions["registry"]): Problem[] {
  return Object.entries(registry ?? {}).flatMap(([key, value]) =>
    value !== undefined && !repositoryPrefix.safeParse(value).success
      ? [{ path: [INPUT, key === "release" ? "registry" : "testing-registry"], message: `found "${value}", expected a registry host with an optional path, such as ghcr.io/acme` }]
      : [],
  );
}

export function withRegistry(m: Matrix, registry: PlanOptions["registry"]): Matrix {
  const overrides = Object.fromEntries(Object.entries(registry ?? {}).filter(([, v]) => v));
  return { ...m, registry: { ...m.registry, ...overrides } };
}
