// Property: every target of every matrix that validates renders, both ways: the Dockerfile text
// and the Dagger containers (against a recording stand-in of the Container API, since the
// renderer only maps recipe steps to calls). Matrices are generated from a fixed seed.
import type { Container, Directory } from "@dagger.io/dagger";
import { beforeAll, describe, expect, it } from "vitest";
import { MatrixError } from "../../src/matrix/problems.js";
import { planFromText } from "../../src/plan/fromText.js";
import type { Plan } from "../../src/plan/types.js";
import { recipeFor, type RecipeContext } from "../../src/recipes/index.js";
import { renderImage, type DaggerContext } from "../../src/render/dagger.js";
import { dockerfileFor } from "../../src/render/dockerfile.js";
import { EPOCH_VAR } from "../../src/recipes/reproducible.js";
import { readFileSync } from "node:fs";
import { generateMatrix, KINDS, mulberry32 } from "./generate.js";

const SEED = 20261123;
// More attempts since images also draw env, a CI user and tarballs, which some kinds refuse.
const ATTEMPTS = 900;
const inputs = { timestamp: "202611231530", revision: "abc1234" };

// The Container and Directory methods the renderer may call; `satisfies` keeps them real names.
const CONTAINER_METHODS = ["withEnvVariable", "withExec", "withUser", "withWorkdir", "withDirectory", "withFile", "withEntrypoint", "withoutEntrypoint", "withDefaultArgs", "withoutDefaultArgs", "withLabel", "withAnnotation", "directory", "file", "from"] satisfies (keyof Container)[];
const DIRECTORY_METHODS = ["directory", "file"] satisfies (keyof Directory)[];

/** A stand-in that records each call and refuses unknown methods and undefined arguments. */
function recording(log: string[], label: string, methods: readonly string[]): unknown {
  return new Proxy(
    {},
    {
      get(_, name) {
        if (typeof name !== "string" || !methods.includes(name)) throw new Error(`${label}: no method ${String(name)} on the stand-in`);
        return (...args: unknown[]) => {
          if (args.some((a) => a === undefined || a === null)) throw new Error(`${label}.${name}(${args.map(String).join(", ")}): an argument is missing`);
          log.push(`${label}.${name}(${JSON.stringify(args.filter((a) => typeof a !== "object"))})`);
          const dir = name === "directory" || name === "file";
          return recording(log, `${label}.${name}`, dir ? DIRECTORY_METHODS : CONTAINER_METHODS);
        };
      },
    },
  );
}

function renderDagger(plan: Plan, id: string, ctx: RecipeContext, log: string[]): void {
  const images = new Map<string, Container>();
  const dagger: DaggerContext = {
    context: recording(log, "context", DIRECTORY_METHODS) as Directory,
    fixtures: recording(log, "fixtures", DIRECTORY_METHODS) as Directory,
    pull: (ref) => (recording(log, `pull(${ref})`, CONTAINER_METHODS) as Container),
    image: (parent) => {
      const t = plan.targets.find((x) => x.id === parent);
      if (!t) throw new Error(`${id}: parent target "${parent}" is not in the plan`);
      let c = images.get(parent);
      if (!c) images.set(parent, (c = renderImage(recipeFor(t, ctx), dagger, t.annotations)));
      return c;
    },
  };
  const t = plan.targets.find((x) => x.id === id)!;
  renderImage(recipeFor(t, ctx), dagger, t.annotations);
}

/** Every target of a planned matrix rendered both ways; what failed, by target. */
function renderAll(plan: Plan, ctx: RecipeContext): string[] {
  return plan.targets.flatMap((t) => {
    try {
      const text = dockerfileFor(plan, t.id, ctx);
      // SOURCE_DATE_EPOCH is the one build argument meant to be left unset unless given.
      const unset = text.split("\n").filter((l) => /undefined|^ARG [A-Z0-9_]+$/.test(l) && l !== `ARG ${EPOCH_VAR}`);
      if (unset.length > 0) return [`${t.id} (${t.kind}) dockerfile: ${unset.join(" | ")}`];
      renderDagger(plan, t.id, ctx, []);
      return [];
    } catch (e) {
      return [`${t.id} (${t.kind}): ${(e as Error).message.split("\n")[0]}`];
    }
  });
}

/** Generate, plan and render once; both tests read the outcome. */
function run() {
  const rnd = mulberry32(SEED);
  return Array.from({ length: ATTEMPTS }, () => {
    const { text, files } = generateMatrix(rnd);
    let planned: ReturnType<typeof planFromText>;
    try {
      planned = planFromText(text, "generated.yaml", { inputs, files });
    } catch (e) {
      if (e instanceof MatrixError) return { valid: false, targets: 0, kinds: [] as string[], failures: [] as string[], text };
      return { valid: true, targets: 0, kinds: [] as string[], failures: [`plan: ${(e as Error).message}`], text };
    }
    const ctx: RecipeContext = { pgdg: planned.matrix.pgdg, files };
    return { valid: true, targets: planned.plan.targets.length, kinds: planned.plan.targets.map((t) => t.kind), failures: renderAll(planned.plan, ctx), text };
  });
}

describe("every target of a valid matrix renders", () => {
  let outcomes: ReturnType<typeof run> = [];
  beforeAll(() => {
    outcomes = run();
  }, 120_000); // 800 matrices planned and rendered: seconds alone, longer on a busy 2-core machine
  const valid = () => outcomes.filter((o) => o.valid);

  it("generates a few hundred valid matrices, with every kind among their targets", () => {
    expect(valid().length).toBeGreaterThanOrEqual(200);
    expect(new Set(valid().flatMap((o) => o.kinds))).toEqual(new Set(KINDS));
    expect(valid().reduce((n, o) => n + o.targets, 0)).toBeGreaterThanOrEqual(1000);
  });

  it("renders every target both ways", () => {
    const crashed = valid().filter((o) => o.failures.length > 0);
    const report = crashed.slice(0, 3).map((o) => `${o.failures.slice(0, 3).join("\n")}\n--- matrix:\n${o.text}`);
    expect({ crashed: crashed.length, of: valid().length, first: report }).toEqual({ crashed: 0, of: valid().length, first: [] });
  });
});

// Matrices that once validated and then crashed in a renderer: each is now refused with what to
// change, or renders. The images replace those of the small valid fixture.
const fixture = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const withImages = (images: string) => fixture.slice(0, fixture.indexOf("images:")) + "images:\n" + images;
const EXTBUILDER = "  - { id: extbuilder, kind: extbuilder, distros: [trixie], pg: [17] }\n";
const EXTENSION = "extension: { name: greeter, repository: ext-repo, versions: [{ version: '1.0', ref: v1.0 }] }";

describe("kind rules refuse what a recipe cannot build", () => {
  it.each([
    ["exttester without from", EXTBUILDER + "  - { id: exttester, kind: exttester, distros: [trixie], pg: [17] }\n", "images[1].from: required for kind exttester, e.g. from: extbuilder"],
    ["failtester without from", EXTBUILDER + "  - { id: failtester, kind: failtester, distros: [trixie], pg: [17], requirements: req.txt }\n", "images[1].from: required for kind failtester, e.g. from: extbuilder"],
    ["extupgradetester without from", EXTBUILDER + `  - { id: up, kind: extupgradetester, distros: [trixie], pg: [17], ${EXTENSION} }\n`, "images[1].from: required for kind extupgradetester, e.g. from: extbuilder"],
    ["exttester with no extbuilder at all", "  - { id: exttester, kind: exttester, distros: [trixie], pg: [17] }\n", "images[0].from: required for kind exttester: it is built on an image of kind extbuilder; add one and name it here"],
    ["extupgradetester bundling extensions", EXTBUILDER + `  - { id: up, kind: extupgradetester, from: extbuilder, extensions: [pgaudit], distros: [trixie], pg: [17], ${EXTENSION} }\n`, "images[1].extensions: not used by kind extupgradetester; remove it"],
    ["extbuilder built from another image", EXTBUILDER + "  - { id: eb2, kind: extbuilder, from: extbuilder, distros: [trixie], pg: [17] }\n", "images[1].from: not used by kind extbuilder; remove it"],
  ])("%s", (_, images, problem) => {
    expect(() => planFromText(withImages(images), "m.yaml", { inputs })).toThrow(problem);
  });

  it.each([
    ["exttester from its extbuilder", EXTBUILDER + "  - { id: exttester, kind: exttester, from: extbuilder, distros: [trixie], pg: [17] }\n", "exttester-17-trixie", "FROM ${BASE_EXTBUILDER_17_TRIXIE}"],
    ["extupgradetester from an exttester", EXTBUILDER + "  - { id: et, kind: exttester, from: extbuilder, distros: [trixie], pg: [17] }\n" + `  - { id: up, kind: extupgradetester, from: et, distros: [trixie], pg: [17], ${EXTENSION} }\n`, "up-17-trixie", "FROM ${BASE_ET_17_TRIXIE} AS greeter-1.0-pg17"],
  ])("%s renders", (_, images, id, line) => {
    const { matrix, plan } = planFromText(withImages(images), "m.yaml", { inputs });
    const ctx: RecipeContext = { pgdg: matrix.pgdg, files: new Map() };
    expect(dockerfileFor(plan, id, ctx).split("\n")).toContain(line);
    expect(renderAll(plan, ctx)).toEqual([]);
  });
});
