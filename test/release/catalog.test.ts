import { describe, expect, it } from "vitest";
import { catalogPublisher, clusterImageCatalogs } from "../../src/release/catalog.js";
import { expiredTags, retentionReport, spareSharedDigests, templatePattern, type RetentionOutcome } from "../../src/release/retention.js";

const d = (n: number) => `sha256:${String(n).repeat(64)}`;

const R = "ghcr.io/acme/postgresql";
/** One operand image as the registry reports it. */
function image(version: string, timestamp: string, flavour: string, distro: string, n: number, extra: string[] = []) {
  const major = version.split(/[.~]/)[0]!;
  const v = version.replace("~", "");
  return {
    repository: R,
    digest: d(n),
    tags: [`${v}-${timestamp}-${flavour}-${distro}`, `${v}-${flavour}-${distro}`, ...extra],
    labels: { "io.pg-images.kind": "operand", "io.pg-images.flavour": flavour, "io.pg-images.distro": distro, "io.pg-images.pg.major": major, "io.pg-images.pg.version": version },
  };
}

describe("ClusterImageCatalog", () => {
  // Two release runs, as two CI jobs leave them: each released part of the matrix.
  const registry = [
    image("17.8", "202601010000", "standard", "trixie", 1),
    image("18.3", "202601010000", "standard", "trixie", 2),
    image("17.9", "202601080000", "standard", "trixie", 3, ["17-standard-trixie"]),
    image("17.9", "202601070000", "standard", "trixie", 4),
    image("19~beta3", "202601080000", "standard", "trixie", 5, ["19-standard-trixie"]),
    image("16.13", "202601010000", "minimal", "bookworm", 6),
    { repository: "ghcr.io/acme/extbuilder", digest: d(7), tags: ["17.9-vabc1234"], labels: { "io.pg-images.kind": "extbuilder", "io.pg-images.pg.major": "17", "io.pg-images.pg.version": "17.9", "io.pg-images.distro": "trixie" } },
  ];
  const { files, leftOut } = clusterImageCatalogs(registry, { publisher: "acme.example" });

  it("writes catalog-<flavour>-<distro>.yaml per flavour and distro, and a kustomization listing them", () => {
    expect([...files.keys()]).toEqual(["catalog-minimal-bookworm.yaml", "catalog-standard-trixie.yaml", "kustomization.yaml"]);
    expect(files.get("kustomization.yaml")).toBe(
      ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - catalog-minimal-bookworm.yaml", "  - catalog-standard-trixie.yaml", ""].join("\n"),
    );
  });

  it("names each major's newest image by its timestamped tag and digest, labelled the CloudNativePG way, previews left out", () => {
    expect(files.get("catalog-standard-trixie.yaml")).toBe(
      [
        "apiVersion: postgresql.cnpg.io/v1",
        "kind: ClusterImageCatalog",
        "metadata:",
        "  name: postgresql-standard-trixie",
        "  labels:",
        "    images.cnpg.io/family: postgresql",
        "    images.cnpg.io/type: standard",
        "    images.cnpg.io/os: trixie",
        '    images.cnpg.io/date: "20260108"',
        "    images.cnpg.io/publisher: acme.example",
        "spec:",
        "  images:",
        "    - major: 17",
        `      image: ${R}:17.9-202601080000-standard-trixie@${d(3)}`,
        "    - major: 18",
        `      image: ${R}:18.3-202601010000-standard-trixie@${d(2)}`,
        "",
      ].join("\n"),
    );
    expect(leftOut).toEqual([{ image: `${R}@${d(5)}`, reason: "19~beta3 is a preview" }]);
  });

  it("gives the same files for the same facts in any order", () => {
    expect(clusterImageCatalogs([...registry].reverse(), { publisher: "acme.example" }).files).toEqual(files);
  });

  it.each([
    ["a newer minor released earlier", [image("17.9", "202601010000", "minimal", "trixie", 1), image("17.10", "202601010000", "minimal", "trixie", 2)], `17.10-202601010000-minimal-trixie@${d(2)}`],
    ["a later rebuild of one minor", [image("17.9", "202601080000", "minimal", "trixie", 1), image("17.9", "202601010000", "minimal", "trixie", 2)], `17.9-202601080000-minimal-trixie@${d(1)}`],
  ])("prefers %s", (_, facts, ref) => {
    expect(clusterImageCatalogs(facts, { publisher: "p" }).files.get("catalog-minimal-trixie.yaml")).toContain(`image: ${R}:${ref}\n`);
  });

  it("leaves out an image without a unique tag, naming it", () => {
    const aliasOnly = { ...image("17.9", "202601010000", "minimal", "trixie", 1), tags: ["17-minimal-trixie"] };
    const r = clusterImageCatalogs([aliasOnly], { publisher: "p" });
    expect(r.files.size).toBe(0);
    expect(r.leftOut).toEqual([{ image: `${R}@${d(1)}`, reason: "no tag of the form {version}-{timestamp}-{flavour}-{distro} (tags: 17-minimal-trixie)" }]);
  });

  it.each([
    ["a publisher that is no label value", { publisher: "Acme Inc." }, 'catalog publisher "Acme Inc." is not a Kubernetes label value'],
    ["a release template without a timestamp", { publisher: "p", releaseTemplate: "{version}-v{revision}" }, "has no {timestamp}"],
  ])("refuses %s", (_, options, message) => {
    expect(() => clusterImageCatalogs([image("17.9", "202601010000", "minimal", "trixie", 1)], options)).toThrow(message);
  });

  it.each([
    [{ url: "https://example.org/pg" }, "example.org"],
    [{ url: "https://example.org/pg", publisher: "cnpg.io" }, "cnpg.io"],
  ])("publisher of %j is %s", (metadata, publisher) => {
    expect(catalogPublisher(metadata)).toBe(publisher);
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

  // One repository for dev and release tags (the-process): a release promoted from a dev tag is the
  // same manifest, and deleting the dev tag's digest would delete the release with it.
  it.each<[string[], [string, string][], string[], { tag: string; heldBy: string }[]]>([
    [["17.9-dev202601010000"], [["17.9-dev202601010000", "sha256:a"], ["17.9-vabc1234-202601010000", "sha256:a"]], [], [{ tag: "17.9-dev202601010000", heldBy: "17.9-vabc1234-202601010000" }]],
    [["17.9-dev202601010000"], [["17.9-dev202601010000", "sha256:a"], ["17.9-vabc1234-202601010000", "sha256:b"]], ["17.9-dev202601010000"], []],
    // Two expired dev tags on one digest hold nothing back from each other.
    [["17.9-dev202601010000", "17.9-dev202601020000"], [["17.9-dev202601010000", "sha256:a"], ["17.9-dev202601020000", "sha256:a"]], ["17.9-dev202601010000", "17.9-dev202601020000"], []],
  ])("expired %j with digests %j → deletes %j, keeps %j", (expired, digests, deleted, kept) => {
    expect(spareSharedDigests(expired, new Map(digests))).toEqual({ expired: deleted, kept });
  });

  it.each<[RetentionOutcome[], string, boolean]>([
    [[{ ref: "r:17.9-dev202601010000", status: "kept", heldBy: "17.9-vabc1234" }], "kept r:17.9-dev202601010000: its digest is also tagged 17.9-vabc1234\n", true],
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
