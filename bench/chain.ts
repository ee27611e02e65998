// The chain on the local Dagger engine: cold build-all against warm (nothing changed), and N
// independent targets in one build-all against the same N built one at a time, side by side in
// one run. "Cold" empties the engine's cache first (base images then come from 127.0.0.1:5000).
// Run: npm run build && bash scripts/world/up.sh && source scripts/world/env.sh && node dist/bench/chain.js
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostSource, LocalPgImages } from "../scripts/world/localModule.js";
import { prune, session } from "./session.js";
import { REPO, resolveMatrix, useWorldEngine } from "../scripts/world/world.js";

useWorldEngine();
const dir = join(REPO, ".pg-images", "bench");
mkdirSync(dir, { recursive: true });
const { text } = await resolveMatrix(readFileSync(join(REPO, "bench/chain-matrix.yaml"), "utf8"));
writeFileSync(join(dir, "matrix.yaml"), text);
const TARGETS = [
  { image: "minimal", distro: "bookworm" },
  { image: "minimal", distro: "trixie" },
  { image: "extbuilder", distro: "bookworm" },
];

const timed = (images: string[], distros: string[]) =>
  session(async () => {
    const module = new LocalPgImages(hostSource(REPO), ".pg-images/bench/matrix.yaml", undefined, undefined, "202611230000", "bench");
    const start = performance.now();
    const report = await module.buildAll(images, [], distros, []);
    if (report.failed.length > 0) throw new Error(`bench build failed:\n${report.summary}`);
    return (performance.now() - start) / 1000;
  });

const images = [...new Set(TARGETS.map((t) => t.image))];
const distros = [...new Set(TARGETS.map((t) => t.distro))];
await prune();
const cold = await timed(images, distros);
const warm = await timed(images, distros);
let oneByOne = 0;
for (const t of TARGETS) {
  await prune();
  oneByOne += await timed([t.image], [t.distro]);
}
console.log(
  [
    `build-all, ${TARGETS.length} independent targets (${TARGETS.map((t) => `${t.image}/${t.distro}`).join(", ")}):`,
    `  cold ${cold.toFixed(1)} s, warm (nothing changed, new session) ${warm.toFixed(1)} s: warm/cold ${(warm / cold).toFixed(3)} (${(cold / warm).toFixed(0)}x faster)`,
    `  one at a time, each cold: ${oneByOne.toFixed(1)} s in all; together: ${cold.toFixed(1)} s: speed-up ${(oneByOne / cold).toFixed(2)}x`,
  ].join("\n"),
);
