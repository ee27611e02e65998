import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseMatrix } from "../../src/matrix/load.js";
import { planFromText } from "../../src/plan/fromText.js";
import { buildCommand } from "../../src/render/dockerfile.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const inputs = { timestamp: "202601020304", revision: "abc1234" };
const plan = (text = valid) => planFromText(text, "valid.yaml", { inputs }).plan;
/** valid.yaml with a `platforms:` line added under the image with this id. */
const withPlatforms = (id: string, list: string) => valid.replace(new RegExp(`(\\n  - id: ${id}\\n)`), `$1    platforms: ${list}\n`);
const problems = (text: string) => {
  const r = parseMatrix(text);
  return r.ok ? [] : r.problems.map((p) => `${p.path.join(".")}: ${p.message}`);
};

describe("platforms", () => {
  it.each([
    ["minimal-17-trixie", ["linux/amd64", "linux/arm64"]],
    ["standard-17-bookworm", ["linux/amd64", "linux/arm64"]],
    ["extbuilder-17-trixie", ["linux/amd64"]],
    ["exttester-17-trixie", ["linux/amd64"]],
    ["pgupgradetester-trixie", ["linux/amd64"]],
  ])("%s defaults to its kind's: %j", (id, platforms) => {
    expect(plan().targets.find((t) => t.id === id)!.platforms).toEqual(platforms);
  });

  it("follows the image's own list, in one canonical order", () => {
    const t = plan(withPlatforms("extbuilder", "[linux/arm64, linux/amd64]")).targets.find((t) => t.id === "extbuilder-17-trixie")!;
    expect(t.platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("builds a child, without a list of its own, for its parent's platforms", () => {
    const ids = (text: string) => Object.fromEntries(plan(text).targets.filter((t) => /^(minimal|standard|extbuilder|exttester)-17-trixie$/.test(t.id)).map((t) => [t.id, t.platforms]));
    expect(ids(withPlatforms("minimal", "[linux/amd64]").replace(/(\n  - id: extbuilder\n)/, "$1    platforms: [linux/amd64, linux/arm64]\n"))).toEqual({
      "minimal-17-trixie": ["linux/amd64"],
      "standard-17-trixie": ["linux/amd64"],
      "extbuilder-17-trixie": ["linux/amd64", "linux/arm64"],
      "exttester-17-trixie": ["linux/amd64", "linux/arm64"],
    });
  });

  it("changes the input key: an image for other platforms is another image", () => {
    const key = (text: string) => plan(text).targets.find((t) => t.id === "extbuilder-17-trixie")!.inputKey;
    expect(key(withPlatforms("extbuilder", "[linux/amd64, linux/arm64]"))).not.toBe(key(valid));
    expect(key(withPlatforms("extbuilder", "[linux/amd64]"))).toBe(key(valid));
  });

  it.each([
    ["a platform the parent lacks", withPlatforms("standard", "[linux/arm64]").replace(/(\n  - id: minimal\n)/, "$1    platforms: [linux/amd64]\n"), /^images\.\d+\.platforms: linux\/arm64 not built by "minimal" \(it builds linux\/amd64\); remove linux\/arm64 here or add it to "minimal"$/],
    ["a platform listed twice", withPlatforms("extbuilder", "[linux/amd64, linux/amd64]"), /^images\.\d+\.platforms\.1: platform "linux\/amd64" listed twice$/],
    ["an unknown platform", withPlatforms("extbuilder", "[linux/s390x]"), /^images\.\d+\.platforms\.0: found "linux\/s390x", expected one of "linux\/amd64", "linux\/arm64"$/],
  ])("refuses %s", (_, text, message) => {
    expect(problems(text)).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    [["linux/amd64"], "docker build -f <this file> ."],
    [["linux/amd64", "linux/arm64"], "docker buildx build --platform linux/amd64,linux/arm64 -f <this file> ."],
    [["linux/arm64"], "docker buildx build --platform linux/arm64 -f <this file> ."],
  ])("a Dockerfile for %j says to build with %s", (platforms, command) => {
    expect(buildCommand(platforms)).toBe(command);
  });
});
