// A matrix shaped like the-process's (test/citus/matrix.yaml) plans exactly its image set and
// tags. The table is written from the-process's Makefile rules (../shared/CONSUMERS.md and
// ANCHORS.md), not from pg-images' templates:
//   images   extbuilder, exttester, failtester, citusupgradetester per pinned major (16.13, 17.9,
//            18.3), one pgupgradetester, one stylechecker: 14 per build
//   dev      <MM.mm>-dev-<short sha>; the upgrade tester <v1>-<v2>-<v3>-dev-<short sha>
//   release  <MM.mm>-v<short sha>, in the same repository (DOCKER_REPO/<image>); the style checker
//            <tools version>-v<short sha>; no rolling tags; previews spelled 19beta1
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMatrix } from "../../src/matrix/load.js";
import { planFromText } from "../../src/plan/fromText.js";
import { filesNeeded, recipeFor } from "../../src/recipes/index.js";
import type { RunStep } from "../../src/recipes/types.js";

const DIR = "test/citus";
const text = readFileSync(join(DIR, "matrix.yaml"), "utf8");
const parsed = parseMatrix(text);
if (!parsed.ok) throw new Error("test/citus/matrix.yaml does not parse");
const files = new Map(filesNeeded(parsed.matrix).map((p) => [p, readFileSync(join(DIR, p), "utf8")]));
const SHA = "4271d84a9f3e0c1b2d5e6f708192a3b4c5d6e7f8";
const inputs = { timestamp: "202601150430", revision: SHA };
const planOf = (t: string) => planFromText(t, "test/citus/matrix.yaml", { inputs, files });
const { matrix, plan } = planOf(text);

// repository, dev tag, release tag — every one in docker.io/citus/<repository>
const EXPECTED: [string, string, string, string][] = [
  ["extbuilder-16-bookworm", "extbuilder", "16.13-dev-4271d84", "16.13-v4271d84"],
  ["extbuilder-17-bookworm", "extbuilder", "17.9-dev-4271d84", "17.9-v4271d84"],
  ["extbuilder-18-bookworm", "extbuilder", "18.3-dev-4271d84", "18.3-v4271d84"],
  ["exttester-16-bookworm", "exttester", "16.13-dev-4271d84", "16.13-v4271d84"],
  ["exttester-17-bookworm", "exttester", "17.9-dev-4271d84", "17.9-v4271d84"],
  ["exttester-18-bookworm", "exttester", "18.3-dev-4271d84", "18.3-v4271d84"],
  ["failtester-16-bookworm", "failtester", "16.13-dev-4271d84", "16.13-v4271d84"],
  ["failtester-17-bookworm", "failtester", "17.9-dev-4271d84", "17.9-v4271d84"],
  ["failtester-18-bookworm", "failtester", "18.3-dev-4271d84", "18.3-v4271d84"],
  ["citusupgradetester-16-bookworm", "citusupgradetester", "16.13-dev-4271d84", "16.13-v4271d84"],
  ["citusupgradetester-17-bookworm", "citusupgradetester", "17.9-dev-4271d84", "17.9-v4271d84"],
  ["citusupgradetester-18-bookworm", "citusupgradetester", "18.3-dev-4271d84", "18.3-v4271d84"],
  ["pgupgradetester-bookworm", "pgupgradetester", "16.13-17.9-18.3-dev-4271d84", "16.13-17.9-18.3-v4271d84"],
  ["stylechecker", "stylechecker", "0.8.33-dev-4271d84", "0.8.33-v4271d84"],
];

describe("the-process's image set and tags", () => {
  it("plans exactly its 14 images", () => {
    expect(plan.targets.map((t) => t.id).sort()).toEqual(EXPECTED.map(([id]) => id).sort());
  });

  it.each(EXPECTED)("%s: %s:%s, released as :%s, no rolling tags", (id, repository, dev, release) => {
    const t = plan.targets.find((x) => x.id === id)!;
    expect(t.repository).toEqual({ testing: `docker.io/citus/${repository}`, release: `docker.io/citus/${repository}` });
    expect(t.tags).toEqual({ testing: dev, release, aliases: [] });
  });

  it("spells a preview 19beta1, dev and release", () => {
    const preview = text
      .replace('  - { major: 18, version: "18.3" }\n', '  - { major: 18, version: "18.3" }\n  - { major: 19, version: "19~beta1", preview: true }\n')
      .replace("pg: [16, 17, 18]\n", "pg: [16, 17, 18, 19]\n")
      .replace("        - { ref: v14.0.1, pg: [18] }\n", "        - { ref: v14.0.1, pg: [18, 19] }\n");
    const t = planOf(preview).plan.targets.find((x) => x.id === "exttester-19-bookworm")!;
    expect(t.tags).toEqual({ testing: "19beta1-dev-4271d84", release: "19beta1-v4271d84", aliases: [] });
  });

  // Dev and release tags share a repository only while no run can make one tag from both (the
  // images share one tags anchor, so the first repository in order is named).
  it.each([
    ["a release tag spelled like the dev tag", 'release: "{version}-v{shortrevision}"', 'release: "{version}-dev-{shortrevision}"', 'citusupgradetester\'s testing tag "{version}-dev-{shortrevision}" and citusupgradetester\'s release tag "{version}-dev-{shortrevision}" can be the same tag (such as "0.0-dev-0")'],
    ["a release tag the revision alone tells apart", 'release: "{version}-v{shortrevision}"', 'release: "{version}-{shortrevision}"', 'citusupgradetester\'s testing tag "{version}-dev-{shortrevision}" and citusupgradetester\'s release tag "{version}-{shortrevision}" can be the same tag (such as "0.0-dev-0")'],
  ])("refuses %s, saying why", (_, from, to, message) => {
    expect(() => planOf(text.replace(from, to))).toThrow(`testing and release are both "docker.io/citus", so "docker.io/citus/citusupgradetester" holds both kinds of tag, and ${message}: a dev tag would overwrite a release or be pulled as one`);
  });

  it("takes the failtester's Python 3.12 from the base image, and the style tools from their tags", () => {
    const fail = recipeFor(plan.targets.find((t) => t.id === "failtester-17-bookworm")!, { pgdg: matrix.pgdg, files });
    const install = fail.steps.find((s): s is RunStep => s.op === "run" && s.script.includes("-m venv"))!.script;
    expect(install).toContain(`command -v python3.12 >/dev/null || { echo "Python 3.12 (python3.12) is not on the base image's PATH`);
    expect(install).toContain("python3.12 -m venv /opt/pg-images/failtester/venv");
    expect(install).toContain("--no-deps --no-build-isolation -r /opt/pg-images/failtester/vcs.txt");
    const style = recipeFor(plan.targets.find((t) => t.id === "stylechecker")!, { pgdg: matrix.pgdg, files });
    expect(style.artifacts.map((a) => a.id)).toEqual(["uncrustify-uncrustify-0.82.0", "citus_indent-v0.8.33"]);
    expect(style.smoke.map((c) => c.name)).toEqual(expect.arrayContaining(["uncrustify 0.82.0 from uncrustify-0.82.0 runs", "citus_indent from v0.8.33 installed", "black 26.3.1 runs"]));
  });
});
