// The CI fan-out as plan logic: one group per dependency chain, filters that pick exactly it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planFromText } from "../../src/plan/fromText.js";
import { groupTargets } from "../../src/plan/groups.js";
import type { Filters, Target } from "../../src/plan/types.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const inputs = { timestamp: "202601020304", revision: "abc1234" };
const plan = (filters: Filters = {}) => planFromText(valid, "valid.yaml", { inputs, filters }).plan;

describe("CI groups", () => {
  it("groups every target under the root of its chain, with the flags that pick it", () => {
    expect(plan().groups.map((g) => [g.group, g.targets.join(" "), g.args])).toEqual([
      ["extbuilder-16-trixie", "extbuilder-16-trixie exttester-16-trixie", "--image extbuilder --image exttester --pg 16 --distro trixie"],
      ["extbuilder-17-trixie", "extbuilder-17-trixie exttester-17-trixie", "--image extbuilder --image exttester --pg 17 --distro trixie"],
      ["minimal-16-trixie", "minimal-16-trixie standard-16-trixie", "--image minimal --image standard --pg 16 --distro trixie"],
      ["minimal-17-bookworm", "minimal-17-bookworm standard-17-bookworm", "--image minimal --image standard --pg 17 --distro bookworm"],
      ["minimal-17-trixie", "minimal-17-trixie standard-17-trixie", "--image minimal --image standard --pg 17 --distro trixie"],
      ["minimal-19-trixie", "minimal-19-trixie", "--image minimal --pg 19 --distro trixie"],
      ["pgupgradetester-trixie", "pgupgradetester-trixie", "--image pgupgradetester --pg 16 --pg 17 --distro trixie"],
    ]);
  });

  it("groups a filtered plan's targets with what they build on", () => {
    expect(plan({ flavour: ["standard"], distro: ["bookworm"] }).groups.map((g) => g.targets)).toEqual([["minimal-17-bookworm", "standard-17-bookworm"]]);
  });

  it("orders pg majors as numbers, not as text", () => {
    const t = (id: string, major: number): Target => ({ ...plan().targets.find((x) => x.id === "pgupgradetester-trixie")!, id, postgres: [{ major, version: `${major}.1`, preview: false }, { major: 9 + major, version: `${9 + major}.1`, preview: false }] } as Target);
    const { groups } = groupTargets([t("a", 1)], [t("a", 1)]);
    expect(groups[0]!.filters.pg).toEqual([1, 10]);
  });

  it("refuses groups whose filters would also pick another group's target", () => {
    const targets = plan().targets.map((t) => (t.id === "pgupgradetester-trixie" ? ({ ...t, image: "minimal" } as Target) : t));
    expect(groupTargets(targets, targets).problems.map((p) => p.message)).toEqual([
      "the CI group minimal-16-trixie (--image minimal --image standard --pg 16 --distro trixie) would also pick pgupgradetester-trixie, which another group builds, so two CI jobs would build it; give the images of one chain pg and distros of their own, so filters can pick each chain alone",
      "the CI group minimal-17-trixie (--image minimal --image standard --pg 17 --distro trixie) would also pick pgupgradetester-trixie, which another group builds, so two CI jobs would build it; give the images of one chain pg and distros of their own, so filters can pick each chain alone",
      "the CI group pgupgradetester-trixie (--image minimal --pg 16 --pg 17 --distro trixie) would also pick minimal-16-trixie, minimal-17-trixie, which another group builds, so two CI jobs would build it; give the images of one chain pg and distros of their own, so filters can pick each chain alone",
    ]);
  });
});
