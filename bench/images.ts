// Builds every image of the image tests' matrix on the local Docker engine and prints build time
// and unpacked size per image, then each minimal image beside a naive `apt-get install
// postgresql-NN` (recommends and all) on the same base.
//
//   npm run build && node dist/bench/images.js [--cached]
//
// Cold by default (docker build --no-cache): the figures include package downloads. --cached
// reuses the build cache, which shows what a re-run costs.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planFromText } from "../src/plan/fromText.js";
import { recipeFor } from "../src/recipes/index.js";
import { renderDockerfile } from "../src/render/dockerfile.js";
import { build, docker, engineProblem, imageSize } from "../scripts/world/docker.js";
import { makeContext, resolveMatrix, TEMPLATE, useWorldEngine } from "../scripts/world/world.js";

const INPUTS = { timestamp: "202601010000", revision: "bench" };
const cached = process.argv.includes("--cached");

async function timedBuild(id: string, tag: string, dockerfile: string, context: string): Promise<number> {
  if (!cached) {
    // --no-cache applies to this image's own steps; its parent is the image just built.
    const started = Date.now();
    const r = await docker(["build", "--no-cache", "--network", "host", "-t", tag, "-f", "-", context], dockerfile);
    if (r.code !== 0) throw new Error(`${id}: build failed:\n${r.out.slice(-3000)}`);
    return (Date.now() - started) / 1000;
  }
  return (await build(id, tag, dockerfile, context)).seconds;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

async function run(): Promise<void> {
  useWorldEngine();
  const problem = engineProblem();
  if (problem) throw new Error(`bench/images needs a Docker engine: ${problem}`);
  const { text } = await resolveMatrix(readFileSync(TEMPLATE, "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "pg-images-bench-"));
  makeContext(dir, text);
  const files = new Map([["images/failtester/requirements.txt", readFileSync(join(dir, "images/failtester/requirements.txt"), "utf8")]]);
  const { matrix, plan } = planFromText(text, join(dir, "matrix.yaml"), { inputs: INPUTS, files });
  const ctx = { pgdg: matrix.pgdg, files };
  const lookup = (id: string) => plan.targets.find((t) => t.id === id);

  console.log(`${cached ? "cached" : "cold (--no-cache)"} builds on ${process.env.DOCKER_HOST ?? "the default engine"}\n`);
  console.log(`${"target".padEnd(28)} ${"build s".padStart(8)} ${"size MB".padStart(8)}`);
  for (const t of plan.targets) {
    const tag = `${t.repository.testing}:${t.tags.testing}`;
    const seconds = await timedBuild(t.id, tag, renderDockerfile(t, recipeFor(t, ctx), lookup), dir);
    console.log(`${t.id.padEnd(28)} ${seconds.toFixed(1).padStart(8)} ${mb(await imageSize(tag)).padStart(8)}`);
  }

  console.log(`\nminimal vs naive "apt-get install postgresql-NN" on the same base`);
  console.log(`${"target".padEnd(28)} ${"minimal MB".padStart(10)} ${"naive MB".padStart(9)} ${"ratio".padStart(6)} ${"naive s".padStart(8)}`);
  for (const t of plan.targets.filter((x) => x.kind === "operand" && x.flavour === "minimal")) {
    const major = t.postgres[0]!.major;
    const naiveTag = `pg-images-bench/naive:${major}-${t.distro}`;
    const naive = `FROM ${t.base}\nRUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-${major}\n`;
    const seconds = await timedBuild(`naive-${major}-${t.distro}`, naiveTag, naive, dir);
    const [ours, theirs] = [await imageSize(`${t.repository.testing}:${t.tags.testing}`), await imageSize(naiveTag)];
    console.log(`${t.id.padEnd(28)} ${mb(ours).padStart(10)} ${mb(theirs).padStart(9)} ${(ours / theirs).toFixed(2).padStart(6)} ${seconds.toFixed(1).padStart(8)}`);
  }
}

run().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
