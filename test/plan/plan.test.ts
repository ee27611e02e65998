import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planFromText } from "../../src/plan/fromText.js";
import { planJson } from "../../src/plan/format.js";
import type { Filters } from "../../src/plan/types.js";
import { runCli } from "../helpers/cli.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const inputs = { timestamp: "202601020304", revision: "abc1234" };
const plan = (text = valid, filters: Filters = {}) => planFromText(text, "valid.yaml", { inputs, filters }).plan;
const byId = (id: string) => plan().targets.find((t) => t.id === id)!;

describe("plan", () => {
  it("expands images over their (major, distro) pairs, parents first", () => {
    expect(plan().targets.map((t) => t.id)).toEqual([
      "extbuilder-16-trixie", "extbuilder-17-trixie",
      "minimal-16-trixie", "minimal-17-bookworm", "minimal-17-trixie", "minimal-19-trixie",
      "pgupgradetester-trixie",
      "exttester-16-trixie", "exttester-17-trixie",
      "standard-16-trixie", "standard-17-bookworm", "standard-17-trixie",
    ]);
  });

  it("puts every major of a distro in one pgupgradetester, previews left out", () => {
    expect(byId("pgupgradetester-trixie").postgres.map((p) => p.version)).toEqual(["16.13", "17.9"]);
    expect(byId("pgupgradetester-trixie").tags.release).toBe("16.13-17.9-vabc1234-202601020304");
  });

  it("gives a preview major no aliases and no extension flavours", () => {
    expect(byId("minimal-19-trixie").tags).toEqual({ testing: "19beta1-202601020304-minimal-trixie", release: "19beta1-202601020304-minimal-trixie", aliases: [] });
    expect(plan().skipped).toEqual([{ image: "standard", pg: 19, distro: "trixie", reason: "preview majors get no extensions" }]);
  });

  it("tags operand images the CNPG way", () => {
    const t = byId("standard-17-bookworm");
    expect(t.repository).toEqual({ testing: "registry.example/pg-testing/postgresql", release: "registry.example/pg/postgresql" });
    expect(t.tags).toEqual({
      testing: "17.9-202601020304-standard-bookworm",
      release: "17.9-202601020304-standard-bookworm",
      aliases: ["17.9-standard-bookworm", "17-standard-bookworm"],
    });
  });

  it("tags test images <pg>-dev<timestamp>, released as <pg>-v<revision>", () => {
    expect(byId("exttester-16-trixie").tags).toEqual({ testing: "16.13-dev202601020304", release: "16.13-vabc1234-202601020304", aliases: ["16.13"] });
  });

  it("stacks extensions on the parent flavour and records dependencies", () => {
    const t = byId("standard-16-trixie");
    expect(t.dependsOn).toEqual(["minimal-16-trixie"]);
    expect(t.extensions).toEqual([{ name: "pgaudit", package: "postgresql-16-pgaudit", version: "16.1-*", create: ["pgaudit"], preload: ["pgaudit"] }]);
  });

  it("records an extension left out with the matrix's reason", () => {
    const text = valid.replace("    extensions: [pgaudit]\n", "    extensions: [pgaudit]\n    unavailable: [{ extension: pgaudit, pg: 16, reason: not packaged yet }]\n");
    const t = plan(text).targets.find((x) => x.id === "standard-16-trixie")!;
    expect(t.extensions).toEqual([]);
    expect(t.excluded).toEqual([{ extension: "pgaudit", reason: "not packaged yet" }]);
  });

  it.each([
    [{ pg: [16] }, ["extbuilder-16-trixie", "minimal-16-trixie", "pgupgradetester-trixie", "exttester-16-trixie", "standard-16-trixie"]],
    [{ distro: ["bookworm"] }, ["minimal-17-bookworm", "standard-17-bookworm"]],
    [{ flavour: ["standard"], distro: ["bookworm"] }, ["(minimal-17-bookworm)", "standard-17-bookworm"]],
    [{ image: ["exttester"], pg: [17] }, ["(extbuilder-17-trixie)", "exttester-17-trixie"]],
  ] as [Filters, string[]][])("filters %j, keeping what the picked targets build on", (filters, ids) => {
    expect(plan(valid, filters).targets.map((t) => (t.selected ? t.id : `(${t.id})`))).toEqual(ids);
  });

  // A filter that picks nothing is a typo or a stale CI job: an error naming the values there are.
  it.each([
    [{ image: ["nosuch"] }, '--image: "nosuch" matches no target; known: extbuilder, exttester, minimal, pgupgradetester, standard'],
    [{ pg: [12] }, "--pg: 12 matches no target; known: 16, 17, 19"],
    [{ distro: ["sid"], pg: [17] }, '--distro: "sid" matches no target; known: bookworm, trixie'],
    [{ flavour: ["huge"] }, '--flavour: "huge" matches no target; known: minimal, standard'],
    [{ image: ["extbuilder"], flavour: ["standard"] }, "--image: --image extbuilder --flavour standard together match no target; drop one of them"],
  ] as [Filters, string][])("refuses filters %j", (filters, message) => {
    expect(() => plan(valid, filters)).toThrow(message);
  });

  it("annotates with OCI and project keys", () => {
    expect(byId("standard-17-trixie").annotations).toMatchObject({
      "org.opencontainers.image.created": "2026-01-02T03:04:00Z",
      "org.opencontainers.image.version": "17.9",
      "org.opencontainers.image.revision": "abc1234",
      "org.opencontainers.image.source": "https://example.org/pg.git",
      "org.opencontainers.image.url": "https://example.org/pg",
      "org.opencontainers.image.vendor": "example",
      "org.opencontainers.image.licenses": "PostgreSQL",
      "org.opencontainers.image.title": "standard 17.9 trixie",
      "org.opencontainers.image.base.name": "docker.io/library/debian:trixie-slim",
      "org.opencontainers.image.base.digest": "sha256:a29215f6a35e51e22adffa17f89e9d2ef06214e64a2bad10d765c46aea49f11f",
      "io.pg-images.pg.major": "17",
      "io.pg-images.pg.version": "17.9",
      "io.pg-images.flavour": "standard",
      "io.pg-images.distro": "trixie",
      "io.pg-images.target": "standard-17-trixie",
      "io.pg-images.input-key": byId("standard-17-trixie").inputKey,
    });
  });

  it("gives byte-identical JSON for the same matrix and inputs", () => {
    expect(planJson(plan())).toBe(planJson(plan()));
  });

  it("changes an input key when the base digest changes, and its children's with it", () => {
    const other = plan(valid.replace("a29215f6a35e51e22adffa17f89e9d2ef06214e64a2bad10d765c46aea49f11f", "b".repeat(64)));
    const key = (p: typeof other, id: string) => p.targets.find((t) => t.id === id)!.inputKey;
    expect(key(other, "minimal-17-trixie")).not.toBe(byId("minimal-17-trixie").inputKey);
    expect(key(other, "standard-17-trixie")).not.toBe(byId("standard-17-trixie").inputKey);
    expect(key(other, "minimal-17-bookworm")).toBe(byId("minimal-17-bookworm").inputKey);
  });

  it("keeps input keys apart from the timestamp and revision", () => {
    const later = planFromText(valid, "valid.yaml", { inputs: { timestamp: "202701010000", revision: "fff" } }).plan;
    expect(later.targets.map((t) => t.inputKey)).toEqual(plan().targets.map((t) => t.inputKey));
  });

  it("applies registry overrides given at call time", () => {
    const p = planFromText(valid, "valid.yaml", { inputs, registry: { release: "127.0.0.1:5000/rel" } }).plan;
    expect(p.targets[0]!.repository).toEqual({ testing: "registry.example/pg-testing/extbuilder", release: "127.0.0.1:5000/rel/extbuilder" });
  });

  it.each([
    [{ timestamp: "2026010203", revision: "r" }, 'timestamp "2026010203" is not YYYYMMDDhhmm'],
    [{ timestamp: "202602300000", revision: "r" }, 'timestamp "202602300000" is not a real UTC date and time'],
    [{ timestamp: "202601020304", revision: "a b" }, 'revision "a b" must be 1–64 of [0-9A-Za-z._-]'],
  ])("refuses run inputs %j", (bad, message) => {
    expect(() => planFromText(valid, "valid.yaml", { inputs: bad })).toThrow(message);
  });
});

describe("plan command", () => {
  it("prints the same JSON twice and a table by default", async () => {
    const args = ["plan", "--format", "json", "--timestamp", "202601020304", "--revision", "abc1234"];
    const [a, b] = [await runCli(args), await runCli(args)];
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const json = JSON.parse(a.out);
    expect(json.targets.length).toBeGreaterThan(20);
    expect(Object.keys(json.targets[0])).toEqual(expect.arrayContaining(["id", "tags", "dependsOn", "annotations", "inputKey"]));
    const table = await runCli(["plan", "--timestamp", "202601020304"]);
    expect(table.out).toMatch(/^TARGET +KIND +PG +DISTRO +FROM +RELEASE +ALIASES\n/);
  });

  it.each([
    [["plan", "--format", "yaml"], 2, '--format must be table or json, found "yaml"'],
    [["plan", "--pg", "seventeen"], 2, "--pg takes a major such as 17"],
    [["frobnicate"], 2, 'unknown command "frobnicate"'],
    [["validate", "--matrix", "nope.yaml"], 2, "cannot read nope.yaml: no such file"],
    [["dockerfile", "--target", "nope"], 2, '--target "nope" is not in the plan'],
    [["plan", "--timestamp", "yesterday"], 2, 'timestamp "yesterday" is not YYYYMMDDhhmm'],
    [["plan", "--registry", "GHCR.io/Acme"], 2, '--registry: found "GHCR.io/Acme", expected a registry host with an optional path'],
    [["plan", "--testing-registry", "https://ghcr.io/x"], 2, '--testing-registry: found "https://ghcr.io/x"'],
    [["plan", "--registry", ""], 2, '--registry: found "", expected a registry host with an optional path'],
    [["plan", "--testing-registry", ""], 2, '--testing-registry: found "", expected a registry host with an optional path'],
    [["plan", "--testing-registry", "ghcr.io/pg-images"], 2, '--testing-registry: testing and release are both "ghcr.io/pg-images", so "ghcr.io/pg-images/postgresql" holds both kinds of tag'],
    [["plan", "--registry", "ghcr.io/pg-images/testing"], 2, '--registry: testing and release are both "ghcr.io/pg-images/testing"'],
    [["plan", "--image", "nosuch"], 2, '--image: "nosuch" matches no target; known: '],
    [["plan", "--pg", "12"], 2, "--pg: 12 matches no target; known: 16, 17, 18, 19"],
  ])("%j exits %i", async (args, code, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
  });
});
