// exttester's own regression suite and debug symbols: where they come from per package source,
// what the plan says when one is left out, and the locale in a legacy encoding.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planFromText } from "../../src/plan/fromText.js";
import { planTable } from "../../src/plan/format.js";
import type { PlannedTarget } from "../../src/plan/types.js";
import { generateLocales } from "../../src/recipes/extbuilder.js";
import { recipeFor } from "../../src/recipes/index.js";
import { ctx, files, installed, runScripts, target } from "./helpers.js";

const inputs = { timestamp: "202611231530", revision: "abc1234" };
/** The default matrix with the exttester image edited: packageSource and keys of its own. */
function planned(edit: (t: string) => string): { targets: PlannedTarget[]; table: string } {
  const text = edit(readFileSync("matrix.yaml", "utf8"));
  const { plan } = planFromText(text, "matrix.yaml", { inputs, files });
  return { targets: plan.targets, table: planTable(plan) };
}
const exttesterKeys = (keys: string) => (t: string) => t.replace(/(  - id: exttester\n    kind: exttester\n)/, `$1${keys}`);
const suiteScript = (t: PlannedTarget) => runScripts(recipeFor(t, ctx)).find((s) => s.includes("apt-get source"));

describe("exttester from PGDG (the default matrix)", () => {
  const t = target("exttester-17-bookworm");
  const r = recipeFor(t, ctx);

  it("installs the server's -dbgsym package at the server's version", () => {
    expect(installed(r)).toContain("postgresql-17-dbgsym=17.9-*");
  });

  it("builds the regression suite from the installed server's source package, from PGDG's deb-src (main) of mirror and archive", () => {
    const s = suiteScript(t)!;
    expect(s).toContain(["'Types: deb-src'", "'URIs: https://apt.postgresql.org/pub/repos/apt'", "'Suites: bookworm-pgdg'", "'Components: main'", "'Signed-By: /usr/share/keyrings/pgdg.asc'"].join(" \\\n  "));
    expect(s).toContain("'URIs: https://apt-archive.postgresql.org/pub/repos/apt'");
    expect(s).toContain("src=$(dpkg-query -W -f='${source:Package}' postgresql-17) && v=$(dpkg-query -W -f='${source:Version}' postgresql-17)");
    expect(s).toContain(`apt-get source -q --download-only "$src=$v"`);
    expect(s).toContain(`dpkg-source --require-strong-checksums -x "\${src}_\${v#*:}.dsc" tree`);
    expect(s).toContain("install -m 0755 build/regress.so \"$lib/regress.so\"");
    expect(s).toContain(`cp -R "$r" /usr/lib/postgresql/17/lib/regress`);
    // The deb-src entries and the lists leave with the step.
    expect(s).toContain(`cd / && rm -rf "$w" /etc/apt/sources.list.d/postgresql-source.sources\nrm -rf /var/lib/apt/lists/* /var/cache/apt/*`);
  });

  it("checks the suite with pg_regress and parallel_schedule against regress.so, and the debug symbols", () => {
    const suite = r.smoke.find((c) => c.name === "PostgreSQL's regression suite passes against regress.so")!;
    expect(suite.script).toContain('pg_regress --inputdir=/usr/lib/postgresql/17/lib/regress --outputdir="$o" --dlpath="$lib" --bindir=/usr/lib/postgresql/17/bin --host="$d" --user=postgres --schedule=/usr/lib/postgresql/17/lib/regress/parallel_schedule');
    const dbg = r.smoke.find((c) => c.name === "debug symbols match the server")!;
    expect(dbg.script).toContain("/usr/lib/debug/.build-id/");
  });

  it("generates da_DK in ISO-8859-1 besides UTF-8, and checks its charmap", () => {
    expect(runScripts(r).join("\n")).toContain("sed -i 's/^# *\\(da_DK ISO-8859-1\\)$/\\1/' /etc/locale.gen");
    expect(r.smoke.find((c) => c.name === "test tools present")!.script).toContain(`[ "$(LC_ALL=da_DK locale charmap)" = ISO-8859-1 ]`);
  });

  it("plans no left-out lines", () => {
    expect(t.carries).toEqual({ regressionSuite: true, debugSymbols: true, leftOut: [] });
  });
});

describe("exttester from Debian's archive", () => {
  // The invalid case's matrix, without what makes it invalid.
  const distroMatrix = readFileSync("test/fixtures/matrices/invalid/47-debug-symbols-distro.yaml", "utf8").replace(/^ {4}(regressionSuite|debugSymbols): true\n/gm, "");
  const { plan } = planFromText(distroMatrix, "distro.yaml", { inputs, files });
  const table = planTable(plan);
  const t = plan.targets.find((x) => x.kind === "exttester")!;

  it("skips debug symbols and says so in the plan", () => {
    expect(t.carries!.debugSymbols).toBe(false);
    expect(installed(recipeFor(t, ctx)).filter((p) => p.includes("dbgsym"))).toEqual([]);
    expect(recipeFor(t, ctx).smoke.map((c) => c.name)).not.toContain("debug symbols match the server");
    expect(table).toContain(`left out:\n  ${t.id}: debug symbols: package source "distro" has no -dbgsym packages (Debian keeps them in a separate debug archive)`);
  });

  it("takes the source package from the release's own deb-src", () => {
    expect(suiteScript(t)).toContain(["'Types: deb-src'", "'URIs: http://deb.debian.org/debian'", "'Suites: trixie trixie-updates'"].join(" \\\n  "));
  });
});

describe("regressionSuite: false", () => {
  const { targets, table } = planned(exttesterKeys("    regressionSuite: false\n    debugSymbols: false\n"));
  const t = targets.find((x) => x.kind === "exttester")!;

  it("builds and checks no suite and no debug symbols, and the plan says why", () => {
    const r = recipeFor(t, ctx);
    expect(suiteScript(t)).toBeUndefined();
    expect(installed(r).filter((p) => p.includes("dbgsym"))).toEqual([]);
    expect(r.smoke.map((c) => c.name)).not.toContain("PostgreSQL's regression suite passes against regress.so");
    expect(r.smoke.map((c) => c.name)).not.toContain("debug symbols match the server");
    expect(table).toContain(`  ${t.id}: PostgreSQL's regression suite: regressionSuite is false\n  ${t.id}: debug symbols: debugSymbols is false`);
  });
});

describe("generateLocales", () => {
  it("enables a locale by name, or by its whole line for a legacy encoding", () => {
    expect(generateLocales(["da_DK.UTF-8", "da_DK ISO-8859-1"]).split("\n")).toEqual([
      "sed -i 's/^# *\\(da_DK\\.UTF-8 \\)/\\1/' /etc/locale.gen",
      "sed -i 's/^# *\\(da_DK ISO-8859-1\\)$/\\1/' /etc/locale.gen",
      `grep -q '^da_DK\\.UTF-8 ' /etc/locale.gen || { echo "locale da_DK.UTF-8 is not in /etc/locale.gen"; exit 1; }`,
      `grep -q '^da_DK ISO-8859-1$' /etc/locale.gen || { echo "locale da_DK ISO-8859-1 is not in /etc/locale.gen"; exit 1; }`,
      "locale-gen",
    ]);
  });
});
