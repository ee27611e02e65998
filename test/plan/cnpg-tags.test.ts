// The tag and repository keys a matrix uses to publish the way CloudNativePG does: previews
// spelled without "~" and given rolling tags on request, children skipping what their parent
// skips, a testing repository named from the release one, extra aliases on one distro.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planProblems } from "../helpers/problems.js";
import { planFromText } from "../../src/plan/fromText.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const inputs = { timestamp: "202601020304", revision: "0123456789abcdef0123456789abcdef01234567" };
const plan = (text: string) => planFromText(text, "m.yaml", { inputs }).plan;
const byId = (text: string, id: string) => plan(text).targets.find((t) => t.id === id)!;
const problems = (text: string): string[] => planProblems(() => plan(text));
const minimalTags = (tags: string) => valid.replace("    flavour: minimal\n    repository: postgresql\n", `    flavour: minimal\n    repository: postgresql\n    tags: ${tags}\n`);
// The valid fixture's standard bundles pgaudit, so it skips the preview; system stands on it.
const withSystem = valid.replace("images:\n", "images:\n  - { id: system, kind: operand, flavour: system, repository: postgresql, from: standard }\n");

describe("previews", () => {
  it("spells 19~beta1 as 19beta1 in every tag", () => {
    expect(byId(valid, "minimal-19-trixie").tags.release).toBe("19beta1-202601020304-minimal-trixie");
  });

  it.each([
    ["without previewAliases: none", "{ aliases: ['{version}-{flavour}-{distro}', '{major}-{flavour}-{distro}'] }", []],
    ["with previewAliases: the same rolling forms", "{ previewAliases: true }", ["19beta1-minimal-trixie", "19-minimal-trixie"]],
  ])("%s", (_, tags, aliases) => {
    expect(byId(minimalTags(tags), "minimal-19-trixie").tags.aliases).toEqual(aliases);
  });

  it("skips a child whose parent skips the preview, naming why", () => {
    const p = plan(withSystem);
    expect(p.targets.map((t) => t.id).filter((id) => id.includes("-19-"))).toEqual(["minimal-19-trixie"]);
    expect(p.skipped).toEqual([
      { image: "standard", pg: 19, distro: "trixie", reason: "preview majors get no extensions" },
      { image: "system", pg: 19, distro: "trixie", reason: "standard-19-trixie is not built" },
    ]);
  });
});

describe("testing repository names", () => {
  const sharedPrefix = (template: string) =>
    valid.replace("  testing: registry.example/pg-testing\n", `  testing: registry.example/pg\n  testingRepository: "${template}"\n`);

  it("names the testing repository from the release one: {repository}-testing", () => {
    expect(byId(sharedPrefix("{repository}-testing"), "standard-17-trixie").repository).toEqual({
      testing: "registry.example/pg/postgresql-testing",
      release: "registry.example/pg/postgresql",
    });
  });

  it.each([
    ["the same prefix and name", "{repository}", /^registry\.testing: testing and release are both "registry\.example\/pg"/],
    ["no {repository}", "testing", /^registry\.testingRepository: "testing" must contain \{repository\} and no other placeholder/],
    ["another placeholder", "{repository}-{distro}", /^registry\.testingRepository: "\{repository\}-\{distro\}" must contain \{repository\}/],
    ["a name that is no repository", "-{repository}", /^registry\.testingRepository: "-\{repository\}" does not make a valid repository name/],
  ])("refuses %s", (_, template, message) => {
    expect(problems(sharedPrefix(template))).toContainEqual(expect.stringMatching(message));
  });

  it("refuses a testing repository that is another image's release repository", () => {
    const text = sharedPrefix("{repository}-testing").replace("  - id: extbuilder\n    kind: extbuilder\n", "  - id: legacy\n    kind: operand\n    flavour: minimal\n    repository: postgresql-testing\n  - id: extbuilder\n    kind: extbuilder\n");
    expect(problems(text)).toContainEqual(expect.stringMatching(/^registry\.testingRepository: testing repository "registry\.example\/pg\/postgresql-testing" is also a release repository/));
  });
});

describe("aliases per distro", () => {
  const legacy = minimalTags("{ distroAliases: { bookworm: ['{version}', '{major}'] } }");

  it("adds the distro's aliases after the image's, only on that distro", () => {
    expect(byId(legacy, "minimal-17-bookworm").tags.aliases).toEqual(["17.9-minimal-bookworm", "17-minimal-bookworm", "17.9", "17"]);
    expect(byId(legacy, "minimal-17-trixie").tags.aliases).toEqual(["17.9-minimal-trixie", "17-minimal-trixie"]);
  });

  it.each([
    ["an unknown distro", "{ distroAliases: { buster: ['{major}'] } }", /^images\.0\.tags\.distroAliases\.buster: unknown distro "buster"; known: bookworm, trixie$/],
    ["an unknown placeholder", "{ distroAliases: { trixie: ['{minor}'] } }", /^images\.0\.tags\.distroAliases\.trixie\.0: unknown placeholder \{minor\}/],
    ["an alias every distro already gets", "{ aliases: ['{major}-{flavour}-{distro}'], distroAliases: { trixie: ['{major}-{flavour}-{distro}'] } }", /^images\.0\.tags\.distroAliases\.trixie\.0: alias "\{major\}-\{flavour\}-\{distro\}" is already in tags\.aliases/],
  ])("refuses %s", (_, tags, message) => {
    expect(problems(minimalTags(tags))).toContainEqual(expect.stringMatching(message));
  });

  it("refuses an alias two targets would both write", () => {
    const text = minimalTags("{ distroAliases: { trixie: ['{flavour}'] } }");
    expect(problems(text)).toContainEqual(expect.stringMatching(/minimal-1\d-trixie and minimal-1\d-trixie both tag registry\.example\/pg\/postgresql:minimal/));
  });
});

describe("revisions", () => {
  it("keeps test images' release tags short while annotations carry the full SHA", () => {
    const t = byId(valid, "exttester-16-trixie");
    expect(t.tags.release).toBe("16.13-v0123456-202601020304");
    expect(t.annotations["org.opencontainers.image.revision"]).toBe(inputs.revision);
  });
});

describe("title and description templates", () => {
  const titled = valid.replace(
    "    flavour: standard\n    repository: postgresql\n",
    '    flavour: standard\n    repository: postgresql\n    title: "Example PostgreSQL {version} {flavour}"\n    description: "A {flavour} PostgreSQL {version} container image ({major}, {distro}, {image})"\n',
  );

  it.each([
    ["standard-17-bookworm", "Example PostgreSQL 17.9 standard", "A standard PostgreSQL 17.9 container image (17, bookworm, standard)"],
  ])("%s: %s / %s", (id, title, description) => {
    const a = byId(titled, id).annotations;
    expect(a["org.opencontainers.image.title"]).toBe(title);
    expect(a["org.opencontainers.image.description"]).toBe(description);
  });

  it("keeps the default title for an image that gives none, and the kind's description", () => {
    const a = byId(titled, "minimal-19-trixie").annotations;
    expect(a["org.opencontainers.image.title"]).toBe("minimal 19~beta1 trixie");
    expect(a["org.opencontainers.image.description"]).toBe("PostgreSQL server");
  });

  it.each([
    ["an unknown placeholder", "  - id: extbuilder\n    kind: extbuilder\n    title: \"{minor}\"\n", /^images\.2\.title: unknown placeholder \{minor\}; known: distro, flavour, image, major, version$/],
    ["a placeholder without a value", "  - id: extbuilder\n    kind: extbuilder\n    description: \"{flavour} builder\"\n", /^images\.2\.description: extbuilder-16-trixie: \{flavour\} has no value for this target$/],
    ["a newline", "  - id: extbuilder\n    kind: extbuilder\n    title: \"a\\nb\"\n", /^images\.2\.title: contains a newline/],
  ])("refuses %s", (_, image, message) => {
    expect(problems(valid.replace("  - id: extbuilder\n    kind: extbuilder\n", image))).toContainEqual(expect.stringMatching(message));
  });
});
