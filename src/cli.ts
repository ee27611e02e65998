// The plain Node command for what needs no engine: validate, plan, schema, dockerfile.
// Pre-commit hooks and CI providers call it without Dagger. Exported, never run on import:
// the Dagger runtime imports every file under src/.
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { INPUT, MatrixError } from "./matrix/problems.js";
import { matrixJsonSchema } from "./matrix/jsonSchema.js";
import { planFromText } from "./plan/fromText.js";
import { planJson, planTable } from "./plan/format.js";
import { utcMinute } from "./plan/tags.js";
import { filesNeeded, unreadableFileProblems } from "./recipes/index.js";
import { MAX_MATRIX_BYTES, parseMatrix } from "./matrix/load.js";
import { readText, type ReadBytes } from "./readText.js";
import { dockerfileFor } from "./render/dockerfile.js";
import type { Filters, RunInputs } from "./plan/types.js";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => Date;
  /** Reads files; tests inject what a machine will not produce on demand (EACCES when run as root). */
  read?: ReadBytes;
}

/** Exit codes, as the README's plain-command section lists them. */
export const EXIT = { ok: 0, problems: 1, usage: 2, internal: 3 } as const;

const USAGE = `usage: pg-images <command> [options]

commands:
  validate              check matrix.yaml; every problem with file:line:col
  plan                  the targets, tags and annotations (--format table|json)
  dockerfile --target ID  an equivalent Dockerfile for one target
  schema                the JSON Schema of matrix.yaml

options:
  --matrix FILE         default: matrix.yaml
  --timestamp YYYYMMDDhhmm  UTC build time (default: now)
  --revision REV        source revision (default: $GITHUB_SHA/$CI_COMMIT_SHA, else "dev")
  --image ID  --pg N  --distro NAME  --flavour NAME   filters, repeatable
  --registry PREFIX  --testing-registry PREFIX        override matrix.yaml's registry
`;

/** Runs one command; returns its exit code and never throws. */
export async function main(argv: string[], io: Io, env: Record<string, string | undefined> = {}): Promise<number> {
  try {
    return await run(argv, io, env);
  } catch (e) {
    // A fault of pg-images, not of the input: one line, no stack, and where it belongs.
    io.err(`pg-images: internal error (${oneLine(e)}); this is a fault in pg-images, not in your matrix: please report it with the command and the matrix\n`);
    return EXIT.internal;
  }
}

async function run(argv: string[], io: Io, env: Record<string, string | undefined>): Promise<number> {
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
  const read = readText(o.matrix, MAX_MATRIX_BYTES, io.read);
  if (!read.ok && read.kind === "unreadable") {
    io.err(`pg-images: cannot read ${o.matrix}: ${read.reason}\n`);
    return EXIT.usage;
  }
  try {
    if (!read.ok) throw new MatrixError(o.matrix, [{ path: [], message: read.reason }]);
    const text = read.text;
    const files = readNamedFiles(text, o.matrix, io.read);
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
    if (!(e instanceof MatrixError)) throw e;
    io.err(e.message + "\n");
    // Problems with flag values alone are usage errors: the matrix itself is fine.
    return e.problems.every((p) => p.path[0] === INPUT) ? EXIT.usage : EXIT.problems;
  }
}

// Files the matrix names (requirements) are read relative to it; a missing one is a problem
// of the matrix, reported with its key path.
function readNamedFiles(text: string, matrixPath: string, read: ReadBytes | undefined): Map<string, string> {
  const parsed = parseMatrix(text);
  if (!parsed.ok) return new Map();
  const files = new Map<string, string>();
  const failed = new Map<string, string>();
  for (const path of filesNeeded(parsed.matrix)) {
    const file = readText(join(dirname(matrixPath), path), MAX_MATRIX_BYTES, read);
    if (file.ok) files.set(path, file.text);
    else failed.set(path, file.reason);
  }
  if (failed.size > 0) throw new MatrixError(matrixPath, unreadableFileProblems(parsed.matrix, matrixPath, failed));
  return files;
}

function oneLine(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const line = text.split("\n")[0]!;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}


function defaultRevision(env: Record<string, string | undefined>): string {
  const sha = env.GITHUB_SHA ?? env.CI_COMMIT_SHA;
  return sha || "dev";
}
