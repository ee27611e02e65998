// Flavours are the matrix's words: any tag-safe name, stacked as each image's `from` says.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planProblems } from "../helpers/problems.js";
import { planFromText } from "../../src/plan/fromText.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const inputs = { timestamp: "202601020304", revision: "abc1234" };
const OPERANDS = `images:
  - { id: minimal, kind: operand, flavour: minimal, repository: postgresql }
  - { id: standard, kind: operand, flavour: standard, repository: postgresql, from: minimal }
`;
const withImages = (images: string) => valid.slice(0, valid.indexOf("images:")) + OPERANDS + images;
const plan = (text: string) => planFromText(text, "m.yaml", { inputs }).plan;
const problems = (text: string): string[] => planProblems(() => plan(text));

describe("operand flavours", () => {
  it.each([
    ["system on standard", "  - { id: system, kind: operand, flavour: system, repository: postgresql, from: standard }\n", "system-17-trixie", "standard-17-trixie"],
    ["custom on minimal", "  - { id: custom, kind: operand, flavour: custom, repository: postgresql, from: minimal }\n", "custom-17-trixie", "minimal-17-trixie"],
    ["full on minimal, skipping standard", "  - { id: full, kind: operand, flavour: full, repository: postgresql, from: minimal }\n", "full-17-trixie", "minimal-17-trixie"],
    ["a second flavour on the base", "  - { id: lean, kind: operand, flavour: lean_2, repository: postgresql }\n", "lean-17-trixie", undefined],
  ])("%s", (_, image, id, from) => {
    const t = plan(withImages(image)).targets.find((x) => x.id === id)!;
    expect(t.from).toBe(from);
    expect(t.tags.aliases[0]).toMatch(new RegExp(`^17\\.9-${t.flavour}-trixie$`));
  });

  it.each([
    ["a name that is not tag-safe", "  - { id: odd, kind: operand, flavour: Odd.1, repository: postgresql }\n", /^images\.2\.flavour: .*a flavour name: lower-case letters, digits, _ and -/],
    ["an operand on a test image", "  - { id: extbuilder, kind: extbuilder, pg: [17], distros: [trixie] }\n  - { id: odd, kind: operand, flavour: odd, from: extbuilder }\n", /^images\.3\.from: a operand image cannot be built from "extbuilder" \(a extbuilder\); expected operand$/],
    ["two images of one flavour in one repository", "  - { id: again, kind: operand, flavour: standard, repository: postgresql }\n", /both tag registry\.example\/pg\/postgresql:17\.9-202601020304-standard-trixie/],
  ])("refuses %s", (_, image, message) => {
    expect(problems(withImages(image))).toContainEqual(expect.stringMatching(message));
  });
});
