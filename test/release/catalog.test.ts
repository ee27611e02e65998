import { describe, expect, it } from "vitest";
import { imageCatalogs } from "../../src/release/catalog.js";
import { expiredTags, templatePattern } from "../../src/release/retention.js";

const d = (n: number) => `sha256:${String(n).repeat(64)}`;

describe("ClusterImageCatalog", () => {
  it("lists the newest image per major by digest, one document per flavour and distro", () => {
    const catalogs = imageCatalogs([
      { flavour: "standard", distro: "trixie", major: 18, preview: false, image: `r/postgresql:18.3-standard-trixie@${d(1)}` },
      { flavour: "standard", distro: "trixie", major: 17, preview: false, image: `r/postgresql:17.9-standard-trixie@${d(2)}` },
      { flavour: "standard", distro: "trixie", major: 19, preview: true, image: `r/postgresql:19-beta1@${d(3)}` },
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
  const pattern = templatePattern("{version}-dev{timestamp}", { version: "17.9" })!;
  const now = new Date("2026-11-23T12:00:00Z");
  it.each([
    [["17.9-dev202611220000", "17.9-dev202611010000", "17.9-dev202610010000"], 14, ["17.9-dev202610010000", "17.9-dev202611010000"]],
    [["17.9-vabc1234", "17.9", "latest", "17.9-dev2026"], 0, []],
    [["16.13-dev202601010000", "17.9-dev202601010000x"], 1, []],
    [["17.9-dev202611230000"], 0, ["17.9-dev202611230000"]],
    [["17.9-dev202611221200", "17.9-dev202611221159"], 1, ["17.9-dev202611221159"]],
  ])("tags %j older than %i days → %j", (tags, days, expired) => {
    expect(expiredTags(tags, pattern, now, days)).toEqual(expired);
  });

  it("has no pattern for a template without a timestamp (never deletes)", () => {
    expect(templatePattern("{version}-v{revision}", {})).toBeUndefined();
  });
});
