// Plans a synthetic matrix of about 1,000 targets and prints milliseconds (target: < 200 ms).
// Run: npm run build && node dist/bench/plan.js
import { stringify } from "yaml";
import { planFromText } from "../src/plan/fromText.js";

const digest = "a".repeat(64);
const majors = Array.from({ length: 10 }, (_, i) => 10 + i);
const distros = ["bullseye", "bookworm", "trixie"];

// 10 majors × 3 distros × 33 images ≈ 1,000 targets, a third of them built on another image.
const matrix = {
  registry: { release: "registry.example/pg", testing: "registry.example/pg-testing" },
  packageSource: "pgdg",
  postgres: majors.map((major) => ({ major, version: `${major}.1` })),
  distros: distros.map((name) => ({ name, base: `debian:${name}-slim@sha256:${digest}`, pg: majors })),
  tools: { syft: `syft@sha256:${digest}`, crane: `crane@sha256:${digest}`, registry: `registry@sha256:${digest}` },
  metadata: { vendor: "bench", url: "https://example.org", source: "https://example.org" },
  images: Array.from({ length: 33 }, (_, i) => ({
    id: `img${i}`,
    kind: i % 3 === 1 ? "exttester" : "extbuilder",
    ...(i % 3 === 1 ? { from: `img${i - 1}` } : {}),
    tags: { testing: "{version}-{distro}-dev{timestamp}", release: "{version}-{distro}-v{revision}", aliases: ["{version}-{distro}", "{major}-{distro}"] },
  })),
};
const text = stringify(matrix);
const inputs = { timestamp: "202611231530", revision: "abc1234" };

const run = () => planFromText(text, "bench.yaml", { inputs }).plan.targets.length;
run(); // warm-up: JIT and module loading are not what this measures
const times: number[] = [];
let targets = 0;
for (let i = 0; i < 5; i++) {
  const start = performance.now();
  targets = run();
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(`plan: ${targets} targets, median ${times[2]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[4]!.toFixed(1)} ms (5 runs)`);
