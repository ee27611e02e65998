// Matrix + run inputs → the plan: targets in build order with tags, keys and annotations.
import { INPUT, type Problem } from "../matrix/problems.js";
import type { Matrix } from "../matrix/schema.js";
import { inputKey } from "../recipes/key.js";
import { recipeFor, type RecipeContext } from "../recipes/index.js";
import { splitRequirements } from "../recipes/requirements.js";
import { buildOrder, filterProblems, selectTargets } from "./graph.js";
import { groupTargets } from "./groups.js";
import { annotations } from "./metadata.js";
import { tagProblem, timestampProblem } from "./tags.js";
import { expandTargets } from "./targets.js";
import type { Filters, Plan, PlannedTarget, RunInputs } from "./types.js";

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: Problem[] };

export function makePlan(m: Matrix, inputs: RunInputs, filters: Filters = {}, files: RecipeContext["files"] = new Map()): PlanResult {
  const inputProblems = checkInputs(inputs);
  if (inputProblems.length > 0) return { ok: false, problems: inputProblems };
  const { targets, skipped, problems } = expandTargets(m, inputs);
  problems.push(...tagProblems(m, targets), ...textProblems(m, targets), ...requirementsProblems(m, files));
  if (problems.length > 0) return { ok: false, problems };

  const ordered = buildOrder(targets);
  const keys = new Map<string, string>();
  for (const t of ordered) {
    keys.set(t.id, inputKey(recipeFor(t, { pgdg: m.pgdg, files }), t.platforms, t.from ? keys.get(t.from) : undefined));
  }
  const { picked, needed } = selectTargets(ordered, filters);
  const unmatched = filterProblems(ordered, filters, picked);
  if (unmatched.length > 0) return { ok: false, problems: unmatched };
  const planned: PlannedTarget[] = ordered
    .filter((t) => needed.has(t.id))
    .map((t) => ({
      ...t,
      recipeKey: keys.get(t.id)!,
      inputKey: keys.get(t.id)!,
      dependsOn: t.from ? [t.from] : [],
      selected: picked.has(t.id),
      annotations: annotations(m, t, keys.get(t.id)!, inputs),
    }));
  const { groups, problems: groupProblems } = groupTargets(planned, ordered);
  if (groupProblems.length > 0) return { ok: false, problems: groupProblems };
  return { ok: true, plan: { inputs, targets: planned, groups, skipped } };
}

// A requirements file's lines pip cannot check by hash must be pinned to a commit (recipes/requirements.ts).
function requirementsProblems(m: Matrix, files: RecipeContext["files"]): Problem[] {
  return m.images.flatMap((img, i) => {
    const text = img.requirements === undefined ? undefined : files.get(img.requirements);
    if (text === undefined) return [];
    const problems: Problem[] = splitRequirements(text).problems.map((p) => ({ path: ["images", i, "requirements"], message: `${img.requirements} line ${p.line}: ${p.message}` }));
    // The tools whose versions the stylechecker checks must be the ones the file pins.
    for (const [name, version] of Object.entries(img.python ?? {})) {
      if (!pinsExactly(text, name, version)) {
        problems.push({ path: ["images", i, "python", name], message: `${img.requirements} does not pin ${name}==${version}; pin it there, or give here the version the file pins` });
      }
    }
    return problems;
  });
}

/** Whether a requirements file has the line `name==version` (names compared as PEP 503 normalises them). */
function pinsExactly(text: string, name: string, version: string): boolean {
  const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, "-");
  return text.split("\n").some((line) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)/.exec(line.trim());
    return m !== null && norm(m[1]!) === norm(name) && m[2] === version;
  });
}

function checkInputs(inputs: RunInputs): Problem[] {
  const problems: Problem[] = [];
  const ts = timestampProblem(inputs.timestamp);
  if (ts) problems.push({ path: [INPUT, "timestamp"], message: ts });
  if (!/^[0-9A-Za-z._-]{1,64}$/.test(inputs.revision)) {
    problems.push({ path: [INPUT, "revision"], message: `revision "${inputs.revision}" must be 1–64 of [0-9A-Za-z._-] (a full commit SHA fits)` });
  }
  return problems;
}

// A title or description placeholder the target has no value for ({flavour} on a test image).
function textProblems(m: Matrix, targets: ReturnType<typeof expandTargets>["targets"]): Problem[] {
  const imageIndex = new Map(m.images.map((img, i) => [img.id, i]));
  return targets.flatMap((t) =>
    (["title", "description"] as const).flatMap((key) => {
      const left = /\{(\w+)\}/.exec(t[key]);
      return left ? [{ path: ["images", imageIndex.get(t.image)!, key], message: `${t.id}: {${left[1]}} has no value for this target` }] : [];
    }),
  );
}

// Each tag must be valid, and no two targets may write the same reference.
function tagProblems(m: Matrix, targets: ReturnType<typeof expandTargets>["targets"]): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<string, string>();
  const imageIndex = new Map(m.images.map((img, i) => [img.id, i]));
  for (const t of targets) {
    const i = imageIndex.get(t.image)!;
    const refs: [string, string, (string | number)[]][] = [
      [t.repository.testing, t.tags.testing, ["tags", "testing"]],
      [t.repository.release, t.tags.release, ["tags", "release"]],
      ...t.tags.aliases.map((a, j): [string, string, (string | number)[]] => [t.repository.release, a, ["tags", "aliases", j]]),
    ];
    for (const [repo, tag, path] of refs) {
      const bad = tagProblem(tag);
      if (bad) {
        problems.push({ path: ["images", i, ...path], message: `${t.id}: ${bad}` });
        continue;
      }
      const ref = `${repo}:${tag}`;
      const owner = owners.get(ref);
      if (owner && owner !== t.id) {
        problems.push({ path: ["images", i, ...path], message: `${t.id} and ${owner} both tag ${ref}; add {distro}, {major} or {flavour} to the template` });
      }
      owners.set(ref, t.id);
    }
  }
  return problems;
}

export type { Filters, Plan, PlannedTarget, RunInputs } from "./types.js";
