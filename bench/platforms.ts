// The cost of a second platform: one minimal image built, smoke-tested and scanned cold for amd64
// alone, then cold for amd64 + arm64 (arm64 under emulation here), side by side in one run.
// "Cold" empties the engine's cache first; each measurement is its own engine session.
// Run: npm run build && bash scripts/world/up.sh && source scripts/world/env.sh && node dist/bench/platforms.js
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostSource, LocalPgImages } from "../scripts/world/localModule.js";
import { prune, session } from "./session.js";
import { REPO, resolveMatrix, useWorldEngine } from "../scripts/world/world.js";

useWorldEngine();
const dir = join(REPO, ".pg-images", "bench");
mkdirSync(dir, { recursive: true });
const { text } = await resolveMatrix(readFileSync(join(REPO, "bench/platforms-matrix.yaml"), "utf8"));
writeFileSync(join(dir, "platforms.yaml"), text);

const cold = async (image: string) => {
  await prune();
  return session(async () => {
    const module = new LocalPgImages(hostSource(REPO), ".pg-images/bench/platforms.yaml", undefined, undefined, "202611230000", "bench");
    const start = performance.now();
    const report = await module.buildAll([image], [], [], []);
    if (report.failed.length > 0) throw new Error(`bench build failed:\n${report.summary}`);
    return (performance.now() - start) / 1000;
  });
};

const amd64 = await cold("amd64");
const both = await cold("both");
console.log(`minimal-15-bookworm, cold build + smoke + SBOM`);
console.log(`  linux/amd64:               ${amd64.toFixed(1)} s`);
console.log(`  linux/amd64 + linux/arm64: ${both.toFixed(1)} s  (${(both / amd64).toFixed(2)}x)`);
