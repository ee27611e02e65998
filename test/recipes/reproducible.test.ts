// The normalisation for reproducible layers: where recipes put it and how both renderers carry it.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { recipeFor } from "../../src/recipes/index.js";
import { EPOCH_VAR, NORMALIZE, reproducible } from "../../src/recipes/reproducible.js";
import { dockerfileFor, joinScript } from "../../src/render/dockerfile.js";
import { ctx, plan, target } from "./helpers.js";

describe("reproducible package steps", () => {
  it("is valid sh, and valid sh once joined into one Dockerfile RUN line", () => {
    for (const text of [NORMALIZE, joinScript(NORMALIZE).replaceAll("\\\n", "")]) {
      const r = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it("removes the snakeoil key and the time-dependent files, and clamps times only given an epoch", () => {
    for (const path of ["/etc/ssl/private/ssl-cert-snakeoil.key", "/var/log/dpkg.log", "/var/log/alternatives.log", "/var/log/apt/*", "/var/cache/ldconfig/aux-cache"]) expect(NORMALIZE).toContain(path);
    expect(NORMALIZE).toContain(`if [ -n "\${${EPOCH_VAR}:-}" ]; then`);
    expect(NORMALIZE).toContain(`-newermt "@\${${EPOCH_VAR}}" -exec touch -h -d "@\${${EPOCH_VAR}}" {} +`);
  });

  it("ends every run step of an operand image, in that same step", () => {
    for (const t of plan.targets.filter((x) => x.kind === "operand")) {
      const runs = recipeFor(t, ctx).steps.filter((s) => s.op === "run");
      for (const s of runs) expect(s.op === "run" && s.script.endsWith(`\n${NORMALIZE}`), `${t.id}: ${JSON.stringify(s).slice(0, 80)}`).toBe(true);
    }
    expect(reproducible("true")).toEqual({ op: "run", script: `true\n${NORMALIZE}` });
  });

  it("the Dockerfile declares the epoch argument in each stage that runs something, never as ENV", () => {
    const text = dockerfileFor(plan, target("minimal-17-trixie").id, ctx);
    expect(text).toMatch(/\nFROM [^\n]+\nARG SOURCE_DATE_EPOCH\nRUN /);
    expect(text).not.toContain(`ENV ${EPOCH_VAR}`);
  });
});
