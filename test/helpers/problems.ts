// A matrix's problems as "path: message" lines, the way rule tests compare them: none when the
// plan is made, every problem of the MatrixError when it is refused.
import { MatrixError } from "../../src/matrix/problems.js";

export function planProblems(plan: () => unknown): string[] {
  try {
    plan();
    return [];
  } catch (e) {
    if (!(e instanceof MatrixError)) throw e;
    return e.problems.map((p) => `${p.path.join(".")}: ${p.message}`);
  }
}
