import { describe, expect, it } from "vitest";
import { imageCatalogs } from "../../src/release/catalog.js";
import { expiredTags, retentionReport, templatePattern, type RetentionOutcome } from "../../src/release/retention.js";

const d = (n: number) => `sha256:${String(n).repeat(64)}`;

describe("ClusterImageCatalog", () => {
  it("lists the newest image per major by digest, one document per flavour and distro", () => {
    const catalogs = imageCatalogs([
      { flavour: "standard", distro: "trixie", major: 18, preview: false, image: `r/postgresql:18.3-standard-trixie@${d(1)}` },
      { flavour: "standard", distro: "trixie", major: 17, preview: false, image: `r/postgresql:17.9-standard-trixie@${d(2)}` },
      { flavour: "standard", distro: "trixie", major: 19, preview: true, image: `r/postgresql:19beta1@${d(3)}` },
      { flavour: "minimal", distro: "bookworm", major: 17, preview: false, image: `r/postgresql:17.9-minimal-bookworm@${d(4)}` },
    ]);
    expect([...catalogs.keys()]).toEqual(["postgresql-minimal-bookworm", "postgresql-standard-trixie"]);
    expect(catalogs.get("postgresql-standard-trixie")).toBe(
      [
        "apiVersion: postgresql.cnpg.io/v1",
        "kind: ClusterImageCatalog",
        "metadata:",
        "  name: postgresql-standard-trixie",
        "spec:",
        "  images:",
        "    - major: 17",
        `      image: r/postgresql:17.9-standard-trixie@${d(2)}`,
        "    - major: 18",
        `      image: r/postgresql:18.3-standard-trixie@${d(1)}`,
        "",
      ].join("\n"),
    );
  });

  it("refuses two images for one major", () => {
    const e = { flavour: "minimal", distro: "trixie", major: 17, preview: false, image: "x" };
    expect(() => imageCatalogs([e, e])).toThrow("catalog postgresql-minimal-trixie: two images for PostgreSQL 17");
  });
});

describe("retention", () => {
  const pattern = templatePattern("{version}-dev{timestamp}", { major: "17", version: "17.9" })!;
  const now = new Date("2026-11-23T12:00:00Z");
  it.each([
    [["17.9-dev202611220000", "17.9-dev202611010000", "17.9-dev202610010000"], 14, ["17.9-dev202610010000", "17.9-dev202611010000"]],
    [["17.9-vabc1234", "17.9", "latest", "17.9-dev2026"], 0, []],
    [["16.13-dev202601010000", "17.9-dev202601010000x", "117.9-dev202601010000"], 1, []],
    [["17.9-dev202611230000"], 0, ["17.9-dev202611230000"]],
    [["17.9-dev202611221200", "17.9-dev202611221159"], 1, ["17.9-dev202611221159"]],
    // Earlier minors and previews of the same major expire too, once a newer one is pinned.
    [["17.8-dev202601010000", "17.10-dev202601010000", "17beta2-dev202601010000", "17.8-dev202611230000"], 14, ["17.10-dev202601010000", "17.8-dev202601010000", "17beta2-dev202601010000"]],
  ])("tags %j older than %i days → %j", (tags, days, expired) => {
    expect(expiredTags(tags, pattern, now, days)).toEqual(expired);
  });

  // The shape of each default and a custom template: which tags of older runs it owns.
  it.each<[string, Record<string, string>, string[], string[]]>([
    ["{version}-{timestamp}-{flavour}-{distro}", { major: "17", version: "17.9", flavour: "minimal", distro: "trixie" },
      ["17.8-202601010000-minimal-trixie", "17.9-202601010000-minimal-trixie"],
      ["17.8-202601010000-standard-trixie", "16.13-202601010000-minimal-trixie", "17.8-202601010000-minimal-bookworm"]],
    ["{versions}-dev{timestamp}", { versions: "16.13-17.9" },
      ["16.12-17.8-dev202601010000", "15.4-16.12-17.8-dev202601010000", "16.13-17.9-19beta1-dev202601010000"],
      ["16.13-17.9-v1234567", "dev202601010000"]],
    ["dev{timestamp}", {}, ["dev202601010000"], ["v202601010000", "dev2026010100"]],
    ["{image}-{revision}-{timestamp}", { image: "ext" }, ["ext-abc1234-202601010000", "ext-dev-202601010000"], ["other-abc1234-202601010000", "ext-a b-202601010000"]],
  ])("%s for %j", (template, values, owned, foreign) => {
    const p = templatePattern(template, values)!;
    expect([...owned, ...foreign].filter((t) => p.test(t))).toEqual(owned);
  });

  it("has no pattern for a template without a timestamp (never deletes)", () => {
    expect(templatePattern("{version}-v{revision}", {})).toBeUndefined();
  });

  it.each<[RetentionOutcome[], string, boolean]>([
    [[], "no dev tags older than 14 days\n", true],
    [[{ ref: "r:a", status: "would delete" }], "would delete r:a\n", true],
    [[{ ref: "r:a", status: "deleted" }, { ref: "r:b", status: "already gone" }], "deleted r:a\nalready gone r:b\n", true],
    [
      [{ ref: "r:a", status: "deleted" }, { ref: "r:b", status: "failed", error: "UNAUTHORIZED" }, { ref: "r:c", status: "deleted" }],
      "deleted r:a\nfailed r:b: UNAUTHORIZED\ndeleted r:c\nretention: 1 failed, 2 deleted\n",
      false,
    ],
  ])("reports %j", (outcomes, text, ok) => {
    expect(retentionReport(outcomes, 14)).toEqual({ text, ok });
  });
});
