// The plain Node command for what needs no engine: validate, plan, schema, dockerfile.
// Pre-commit hooks and CI providers call it without Dagger. Exported, never run on import:
// the Dagger runtime imports every file under src/.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { MatrixError } from "./matrix/problems.js";
import { matrixJsonSchema } from "./matrix/jsonSchema.js";
import { planFromText } from "./plan/fromText.js";
import { planJson, planTable } from "./plan/format.js";
import { utcMinute } from "./plan/tags.js";
import { filesNeeded } from "./recipes/index.js";
import { parseMatrix } from "./matrix/load.js";
import { dockerfileFor } from "./render/dockerfile.js";
import type { Filters, RunInputs } from "./plan/types.js";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => Date;
}

const USAGE = `usage: pg-images <command> [options]

commands:
  validate              check matrix.yaml; every problem with file:line:col
  plan                  the targets, tags and annotations (--format table|json)
  dockerfile --target ID  an equivalent Dockerfile for one target
  schema                the JSON Schema of matrix.yaml

options:
  --matrix FILE         default: matrix.yaml
  --timestamp YYYYMMDDhhmm  UTC build time (default: now)
  --revision REV        source revision (default: $GITHUB_SHA/$CI_COMMIT_SHA short, else "dev")
  --image ID  --pg N  --distro NAME  --flavour NAME   filters, repeatable
  --registry PREFIX  --testing-registry PREFIX        override matrix.yaml's registry
`;

export async function main(argv: string[], io: Io, env: Record<string, string | undefined> = {}): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        matrix: { type: "string", default: "matrix.yaml" },
        format: { type: "string", default: "table" },
        timestamp: { type: "string" },
        revision: { type: "string" },
        target: { type: "string" },
        image: { type: "string", multiple: true },
        pg: { type: "string", multiple: true },
        distro: { type: "string", multiple: true },
        flavour: { type: "string", multiple: true },
        registry: { type: "string" },
        "testing-registry": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    io.err(`pg-images: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command] = args.positionals;
  const o = args.values;
  if (o.help || !command) {
    (o.help ? io.out : io.err)(USAGE);
    return o.help ? 0 : 2;
  }
  if (command === "schema") {
    io.out(JSON.stringify(matrixJsonSchema(), null, 2) + "\n");
    return 0;
  }
  if (!["validate", "plan", "dockerfile"].includes(command)) {
    io.err(`pg-images: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  if (o.format !== "table" && o.format !== "json") {
    io.err(`pg-images: --format must be table or json, found "${o.format}"\n`);
    return 2;
  }
  const pg = (o.pg ?? []).map(Number);
  if (pg.some((n) => !Number.isInteger(n))) {
    io.err(`pg-images: --pg takes a major such as 17, found ${JSON.stringify(o.pg)}\n`);
    return 2;
  }
  try {
    const text = readFileSync(o.matrix, "utf8");
    const files = readNamedFiles(text, o.matrix);
    const inputs: RunInputs = { timestamp: o.timestamp ?? utcMinute(io.now()), revision: o.revision ?? defaultRevision(env) };
    const filters: Filters = { image: o.image, pg, distro: o.distro, flavour: o.flavour };
    const registry = { release: o.registry, testing: o["testing-registry"] };
    const { matrix, plan } = planFromText(text, o.matrix, { inputs, filters, registry, files });
    if (command === "validate") {
      io.out(`${o.matrix}: valid, ${plan.targets.length} targets\n`);
    } else if (command === "plan") {
      io.out(o.format === "json" ? planJson(plan) : planTable(plan));
    } else {
      const target = plan.targets.find((t) => t.id === o.target);
      if (!target) {
        io.err(`pg-images: --target ${o.target ? `"${o.target}" is not in the plan` : "is required"}; targets: ${plan.targets.map((t) => t.id).join(", ")}\n`);
        return 2;
      }
      io.out(dockerfileFor(plan, target.id, { pgdg: matrix.pgdg, files }));
    }
    return 0;
  } catch (e) {
    if (e instanceof MatrixError) {
      io.err(e.message + "\n");
      return 1;
    }
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      io.err(`pg-images: cannot read ${(e as NodeJS.ErrnoException).path}: no such file\n`);
      return 1;
    }
    throw e;
  }
}

// Files the matrix names (requirements) are read relative to it; a missing one is a problem
// of the matrix, reported with its key path.
function readNamedFiles(text: string, matrixPath: string): Map<string, string> {
  const parsed = parseMatrix(text);
  if (!parsed.ok) return new Map();
  const files = new Map<string, string>();
  const missing: string[] = [];
  for (const path of filesNeeded(parsed.matrix)) {
    try {
      files.set(path, readFileSync(join(dirname(matrixPath), path), "utf8"));
    } catch {
      missing.push(path);
    }
  }
  if (missing.length > 0) {
    const problems = parsed.matrix.images.flatMap((img, i) =>
      img.requirements && missing.includes(img.requirements)
        ? [{ path: ["images", i, "requirements"], message: `file "${img.requirements}" not found next to ${matrixPath}` }]
        : [],
    );
    throw new MatrixError(matrixPath, problems);
  }
  return files;
}


function defaultRevision(env: Record<string, string | undefined>): string {
  const sha = env.GITHUB_SHA ?? env.CI_COMMIT_SHA;
  return sha ? sha.slice(0, 7) : "dev";
}
