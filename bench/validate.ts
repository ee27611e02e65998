// Validation time against the number of keys: matrix.yaml with 2,000, 20,000 and 100,000 unknown
// keys under its first image. Linear validation keeps the time ratio close to the key ratio.
// Run: npm run build && node dist/bench/validate.js
import { readFileSync } from "node:fs";
import { parseMatrix } from "../src/matrix/load.js";
import { MatrixError } from "../src/matrix/problems.js";

const base = readFileSync(new URL("../../matrix.yaml", import.meta.url), "utf8");

function withUnknownKeys(n: number): string {
  const lines = base.split("\n");
  const at = lines.findIndex((l) => l.startsWith("  - id: "));
  lines.splice(at + 1, 0, ...Array.from({ length: n }, (_, k) => `    unknown${k}: 1`));
  return lines.join("\n");
}

// What `pg-images validate` does with the text: parse, validate, format the report.
function validate(text: string): number {
  const result = parseMatrix(text);
  if (result.ok) return 0;
  return new MatrixError("bench.yaml", result.problems).message.length && result.problems.length;
}

validate(withUnknownKeys(2_000)); // warm-up: JIT and module loading are not what this measures
const sizes = [2_000, 20_000, 100_000];
const rows = sizes.map((n) => {
  const text = withUnknownKeys(n);
  const start = performance.now();
  const problems = validate(text);
  return { n, problems, ms: performance.now() - start };
});
const first = rows[0]!;
for (const r of rows) {
  console.log(
    `${String(r.n).padStart(7)} keys: ${r.ms.toFixed(0).padStart(7)} ms, ${r.problems} problems; ` +
      `×${(r.n / first.n).toFixed(0)} keys → ×${(r.ms / first.ms).toFixed(1)} time`,
  );
}
