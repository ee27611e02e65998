// The engine side: loads the matrix from the module's source directory and runs the chain.
import { dag, type Container, type Directory, type Secret } from "@dagger.io/dagger";
import { dirname, join } from "node:path";
import { planFromText } from "../plan/fromText.js";
import { planJson, planTable } from "../plan/format.js";
import type { Filters, Plan, PlannedTarget, RunInputs } from "../plan/types.js";
import type { Matrix } from "../matrix/schema.js";
import { filesNeeded, type RecipeContext } from "../recipes/index.js";
import { dockerfileFor } from "../render/dockerfile.js";
import { parseMatrix } from "../matrix/load.js";
import { utcMinute } from "../plan/tags.js";

export interface PipelineOptions {
  source: Directory;
  matrix: string;
  registry: { release?: string | undefined; testing?: string | undefined };
  timestamp?: string | undefined;
  revision?: string | undefined;
}

export interface RegistryAuth {
  username: string;
  password: Secret;
}

export interface PublishOptions {
  release: boolean;
  ephemeral: boolean;
  filters: Filters;
  auth?: RegistryAuth;
}

export class Pipeline {
  private constructor(
    readonly options: PipelineOptions,
    readonly text: string,
    readonly files: ReadonlyMap<string, string>,
    readonly inputs: RunInputs,
  ) {}

  static async load(options: PipelineOptions): Promise<Pipeline> {
    const text = await options.source.file(options.matrix).contents();
    const parsed = parseMatrix(text);
    const files = new Map<string, string>();
    if (parsed.ok) {
      await Promise.all(
        filesNeeded(parsed.matrix).map(async (path) => {
          files.set(path, await options.source.file(join(dirname(options.matrix), path)).contents());
        }),
      );
    }
    const inputs = { timestamp: options.timestamp ?? utcMinute(new Date()), revision: options.revision ?? "dev" };
    return new Pipeline(options, text, files, inputs);
  }

  /** Throws MatrixError with every problem when the matrix or inputs are invalid. */
  plan(filters: Filters = {}): { matrix: Matrix; plan: Plan } {
    return planFromText(this.text, this.options.matrix, { inputs: this.inputs, filters, registry: this.options.registry, files: this.files });
  }

  planText(format: string, filters: Filters): string {
    if (format !== "table" && format !== "json") throw new Error(`--format must be table or json, found "${format}"`);
    const { plan } = this.plan(filters);
    return format === "json" ? planJson(plan) : planTable(plan);
  }

  recipeContext(matrix: Matrix): RecipeContext {
    return { pgdg: matrix.pgdg, files: this.files };
  }

  target(plan: Plan, id: string): PlannedTarget {
    const t = plan.targets.find((x) => x.id === id);
    if (!t) throw new Error(`no target "${id}" in the plan; targets: ${plan.targets.map((x) => x.id).join(", ")}`);
    return t;
  }

  dockerfile(id: string): string {
    const { matrix, plan } = this.plan();
    return dockerfileFor(plan, this.target(plan, id).id, this.recipeContext(matrix));
  }

  build(_id: string): Container {
    throw new Error("build is not wired to the engine yet");
  }

  async buildAll(_filters: Filters): Promise<Directory> {
    throw new Error("build-all is not wired to the engine yet");
  }

  async publish(_opts: PublishOptions): Promise<Directory> {
    throw new Error("publish is not wired to the engine yet");
  }

  async retention(_days: number, _dryRun: boolean, _auth?: RegistryAuth): Promise<string> {
    void dag;
    throw new Error("retention is not wired to the engine yet");
  }
}

