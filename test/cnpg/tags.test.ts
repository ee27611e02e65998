// A matrix shaped like CloudNativePG's (test/cnpg/matrix.yaml) gives exactly CloudNativePG's tags.
// The table below is written from CloudNativePG's rules (../shared/CONSUMERS.md, "CloudNativePG
// users"), not from pg-images' templates:
//   unique   <MM.mm>-<YYYYMMDDhhmm>-<flavour>-<distro>, the same in postgresql-testing and postgresql
//   rolling  <MM.mm>-<flavour>-<distro>, <MM>-<flavour>-<distro>; previews drop the "~" (19beta3)
//            and get the same two rolling forms
//   legacy   system on bullseye also gets <MM.mm> and <MM>
//   labels   title "CloudNativePG PostgreSQL <version> <flavour>",
//            description "A <flavour> PostgreSQL <version> container image", the full SHA as revision
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMatrix } from "../../src/matrix/load.js";
import { planFromText } from "../../src/plan/fromText.js";
import { filesNeeded } from "../../src/recipes/index.js";
import { catalogPublisher, clusterImageCatalogs } from "../../src/release/catalog.js";

const DIR = "test/cnpg";
const text = readFileSync(join(DIR, "matrix.yaml"), "utf8");
const parsed = parseMatrix(text);
if (!parsed.ok) throw new Error("test/cnpg/matrix.yaml does not parse");
const files = new Map(filesNeeded(parsed.matrix).map((p) => [p, readFileSync(join(DIR, p), "utf8")]));
const SHA = "0123456789abcdef0123456789abcdef01234567";
const { matrix, plan } = planFromText(text, "test/cnpg/matrix.yaml", { inputs: { timestamp: "202601150430", revision: SHA }, files });

// target, unique tag (testing and release), rolling tags
const EXPECTED: [string, string, string[]][] = [
  ["minimal-14-bookworm", "14.20-202601150430-minimal-bookworm", ["14.20-minimal-bookworm", "14-minimal-bookworm"]],
  ["minimal-14-bullseye", "14.20-202601150430-minimal-bullseye", ["14.20-minimal-bullseye", "14-minimal-bullseye"]],
  ["minimal-14-trixie", "14.20-202601150430-minimal-trixie", ["14.20-minimal-trixie", "14-minimal-trixie"]],
  ["minimal-15-bookworm", "15.15-202601150430-minimal-bookworm", ["15.15-minimal-bookworm", "15-minimal-bookworm"]],
  ["minimal-15-bullseye", "15.15-202601150430-minimal-bullseye", ["15.15-minimal-bullseye", "15-minimal-bullseye"]],
  ["minimal-15-trixie", "15.15-202601150430-minimal-trixie", ["15.15-minimal-trixie", "15-minimal-trixie"]],
  ["minimal-16-bookworm", "16.11-202601150430-minimal-bookworm", ["16.11-minimal-bookworm", "16-minimal-bookworm"]],
  ["minimal-16-bullseye", "16.11-202601150430-minimal-bullseye", ["16.11-minimal-bullseye", "16-minimal-bullseye"]],
  ["minimal-16-trixie", "16.11-202601150430-minimal-trixie", ["16.11-minimal-trixie", "16-minimal-trixie"]],
  ["minimal-17-bookworm", "17.7-202601150430-minimal-bookworm", ["17.7-minimal-bookworm", "17-minimal-bookworm"]],
  ["minimal-17-bullseye", "17.7-202601150430-minimal-bullseye", ["17.7-minimal-bullseye", "17-minimal-bullseye"]],
  ["minimal-17-trixie", "17.7-202601150430-minimal-trixie", ["17.7-minimal-trixie", "17-minimal-trixie"]],
  ["minimal-18-bookworm", "18.1-202601150430-minimal-bookworm", ["18.1-minimal-bookworm", "18-minimal-bookworm"]],
  ["minimal-18-bullseye", "18.1-202601150430-minimal-bullseye", ["18.1-minimal-bullseye", "18-minimal-bullseye"]],
  ["minimal-18-trixie", "18.1-202601150430-minimal-trixie", ["18.1-minimal-trixie", "18-minimal-trixie"]],
  ["minimal-19-bookworm", "19beta3-202601150430-minimal-bookworm", ["19beta3-minimal-bookworm", "19-minimal-bookworm"]],
  ["minimal-19-bullseye", "19beta3-202601150430-minimal-bullseye", ["19beta3-minimal-bullseye", "19-minimal-bullseye"]],
  ["minimal-19-trixie", "19beta3-202601150430-minimal-trixie", ["19beta3-minimal-trixie", "19-minimal-trixie"]],
  ["standard-14-bookworm", "14.20-202601150430-standard-bookworm", ["14.20-standard-bookworm", "14-standard-bookworm"]],
  ["standard-14-bullseye", "14.20-202601150430-standard-bullseye", ["14.20-standard-bullseye", "14-standard-bullseye"]],
  ["standard-14-trixie", "14.20-202601150430-standard-trixie", ["14.20-standard-trixie", "14-standard-trixie"]],
  ["standard-15-bookworm", "15.15-202601150430-standard-bookworm", ["15.15-standard-bookworm", "15-standard-bookworm"]],
  ["standard-15-bullseye", "15.15-202601150430-standard-bullseye", ["15.15-standard-bullseye", "15-standard-bullseye"]],
  ["standard-15-trixie", "15.15-202601150430-standard-trixie", ["15.15-standard-trixie", "15-standard-trixie"]],
  ["standard-16-bookworm", "16.11-202601150430-standard-bookworm", ["16.11-standard-bookworm", "16-standard-bookworm"]],
  ["standard-16-bullseye", "16.11-202601150430-standard-bullseye", ["16.11-standard-bullseye", "16-standard-bullseye"]],
  ["standard-16-trixie", "16.11-202601150430-standard-trixie", ["16.11-standard-trixie", "16-standard-trixie"]],
  ["standard-17-bookworm", "17.7-202601150430-standard-bookworm", ["17.7-standard-bookworm", "17-standard-bookworm"]],
  ["standard-17-bullseye", "17.7-202601150430-standard-bullseye", ["17.7-standard-bullseye", "17-standard-bullseye"]],
  ["standard-17-trixie", "17.7-202601150430-standard-trixie", ["17.7-standard-trixie", "17-standard-trixie"]],
  ["standard-18-bookworm", "18.1-202601150430-standard-bookworm", ["18.1-standard-bookworm", "18-standard-bookworm"]],
  ["standard-18-bullseye", "18.1-202601150430-standard-bullseye", ["18.1-standard-bullseye", "18-standard-bullseye"]],
  ["standard-18-trixie", "18.1-202601150430-standard-trixie", ["18.1-standard-trixie", "18-standard-trixie"]],
  ["system-14-bookworm", "14.20-202601150430-system-bookworm", ["14.20-system-bookworm", "14-system-bookworm"]],
  ["system-14-bullseye", "14.20-202601150430-system-bullseye", ["14.20-system-bullseye", "14-system-bullseye", "14.20", "14"]],
  ["system-14-trixie", "14.20-202601150430-system-trixie", ["14.20-system-trixie", "14-system-trixie"]],
  ["system-15-bookworm", "15.15-202601150430-system-bookworm", ["15.15-system-bookworm", "15-system-bookworm"]],
  ["system-15-bullseye", "15.15-202601150430-system-bullseye", ["15.15-system-bullseye", "15-system-bullseye", "15.15", "15"]],
  ["system-15-trixie", "15.15-202601150430-system-trixie", ["15.15-system-trixie", "15-system-trixie"]],
  ["system-16-bookworm", "16.11-202601150430-system-bookworm", ["16.11-system-bookworm", "16-system-bookworm"]],
  ["system-16-bullseye", "16.11-202601150430-system-bullseye", ["16.11-system-bullseye", "16-system-bullseye", "16.11", "16"]],
  ["system-16-trixie", "16.11-202601150430-system-trixie", ["16.11-system-trixie", "16-system-trixie"]],
  ["system-17-bookworm", "17.7-202601150430-system-bookworm", ["17.7-system-bookworm", "17-system-bookworm"]],
  ["system-17-bullseye", "17.7-202601150430-system-bullseye", ["17.7-system-bullseye", "17-system-bullseye", "17.7", "17"]],
  ["system-17-trixie", "17.7-202601150430-system-trixie", ["17.7-system-trixie", "17-system-trixie"]],
  ["system-18-bookworm", "18.1-202601150430-system-bookworm", ["18.1-system-bookworm", "18-system-bookworm"]],
  ["system-18-bullseye", "18.1-202601150430-system-bullseye", ["18.1-system-bullseye", "18-system-bullseye", "18.1", "18"]],
  ["system-18-trixie", "18.1-202601150430-system-trixie", ["18.1-system-trixie", "18-system-trixie"]],
];

describe("CloudNativePG's tag set", () => {
  it("builds exactly the targets of the table", () => {
    expect(plan.targets.map((t) => t.id).sort()).toEqual(EXPECTED.map(([id]) => id));
  });

  it.each(EXPECTED)("%s: %s, rolling %j", (id, unique, rolling) => {
    const t = plan.targets.find((x) => x.id === id)!;
    expect(t.repository).toEqual({ testing: "ghcr.io/cloudnative-pg/postgresql-testing", release: "ghcr.io/cloudnative-pg/postgresql" });
    expect(t.tags).toEqual({ testing: unique, release: unique, aliases: rolling });
  });

  it("leaves the preview out of the flavours that bundle extensions, and of those built on them", () => {
    expect(plan.skipped.map((s) => `${s.image}-${s.pg}-${s.distro}: ${s.reason}`).sort()).toEqual([
      "standard-19-bookworm: preview majors get no extensions",
      "standard-19-bullseye: preview majors get no extensions",
      "standard-19-trixie: preview majors get no extensions",
      "system-19-bookworm: standard-19-bookworm is not built",
      "system-19-bullseye: standard-19-bullseye is not built",
      "system-19-trixie: standard-19-trixie is not built",
    ]);
  });

  it.each([
    ["system-18-trixie", "CloudNativePG PostgreSQL 18.1 system", "A system PostgreSQL 18.1 container image"],
    ["minimal-14-bullseye", "CloudNativePG PostgreSQL 14.20 minimal", "A minimal PostgreSQL 14.20 container image"],
  ])("%s is titled %j and described %j, with the full revision", (id, title, description) => {
    const a = plan.targets.find((x) => x.id === id)!.annotations;
    expect(a["org.opencontainers.image.title"]).toBe(title);
    expect(a["org.opencontainers.image.description"]).toBe(description);
    expect(a["org.opencontainers.image.revision"]).toBe(SHA);
  });

  it("stacks system on standard on minimal, the flavours' order being the matrix's", () => {
    const t = plan.targets.find((x) => x.id === "system-17-bookworm")!;
    expect([t.from, plan.targets.find((x) => x.id === t.from)!.from]).toEqual(["standard-17-bookworm", "minimal-17-bookworm"]);
    expect(t.requirements).toBe("system/requirements.txt");
  });

  it("gives one CI group per (major, distro) chain", () => {
    expect(plan.groups).toHaveLength(18);
    expect(plan.groups.find((g) => g.group === "minimal-17-bullseye")!.args).toBe("--image minimal --image standard --image system --pg 17 --distro bullseye");
    expect(plan.groups.find((g) => g.group === "minimal-19-trixie")!.targets).toEqual(["minimal-19-trixie"]);
  });
});

describe("CloudNativePG's catalogs from this matrix, once released", () => {
  // The release repository as the registry would list it after this plan's release.
  const facts = plan.targets.map((t, i) => ({
    repository: t.repository.release,
    digest: `sha256:${i.toString(16).padStart(64, "0")}`,
    tags: [t.tags.release, ...t.tags.aliases],
    labels: t.annotations,
  }));
  const { files: catalogs } = clusterImageCatalogs(facts, { publisher: catalogPublisher(matrix.metadata) });

  it("writes one catalog per flavour and distro, named as CloudNativePG users reference them", () => {
    expect([...catalogs.keys()]).toEqual([
      "catalog-minimal-bookworm.yaml", "catalog-minimal-bullseye.yaml", "catalog-minimal-trixie.yaml",
      "catalog-standard-bookworm.yaml", "catalog-standard-bullseye.yaml", "catalog-standard-trixie.yaml",
      "catalog-system-bookworm.yaml", "catalog-system-bullseye.yaml", "catalog-system-trixie.yaml",
      "kustomization.yaml",
    ]);
  });

  it("lists majors 14 to 18 (the preview left out) by unique tag and digest", () => {
    const system = catalogs.get("catalog-system-bullseye.yaml")!;
    expect(system).toContain("  name: postgresql-system-bullseye\n");
    expect(system).toContain("    images.cnpg.io/publisher: cnpg.io\n");
    expect([...system.matchAll(/- major: (\d+)\n\s+image: (\S+)/g)].map((m) => [m[1], m[2]!.replace(/@sha256:.*/, "")])).toEqual([
      ["14", "ghcr.io/cloudnative-pg/postgresql:14.20-202601150430-system-bullseye"],
      ["15", "ghcr.io/cloudnative-pg/postgresql:15.15-202601150430-system-bullseye"],
      ["16", "ghcr.io/cloudnative-pg/postgresql:16.11-202601150430-system-bullseye"],
      ["17", "ghcr.io/cloudnative-pg/postgresql:17.7-202601150430-system-bullseye"],
      ["18", "ghcr.io/cloudnative-pg/postgresql:18.1-202601150430-system-bullseye"],
    ]);
    expect(catalogs.get("catalog-minimal-trixie.yaml")).not.toContain("major: 19");
  });
});
