// One Dagger version everywhere: the SDK the module is written against, the engine dagger.json
// asks for, the CLI each CI provider installs and the engine the local world builds. The SDK
// and engine speak one API version; a mismatch fails at run time, not here, unless this test
// ties them. Versions are compared as written (exact pins), not by semver ranges.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const read = (path: string) => readFileSync(path, "utf8");
const bare = (v: string | undefined) => v?.replace(/^v/, "");

type Workflow = { jobs: Record<string, { steps?: { uses?: string; with?: { version?: string } }[] }> };
const github = parse(read(".github/workflows/images.yml")) as Workflow;
const githubInstalls = Object.values(github.jobs).flatMap((j) => (j.steps ?? []).filter((s) => s.uses?.startsWith("dagger/dagger-for-github@")));

const SOURCES: [string, () => (string | undefined)[]][] = [
  ["package.json @dagger.io/dagger", () => [JSON.parse(read("package.json")).dependencies["@dagger.io/dagger"]]],
  ["package-lock.json node_modules/@dagger.io/dagger", () => [JSON.parse(read("package-lock.json")).packages["node_modules/@dagger.io/dagger"].version]],
  ["dagger.json engineVersion", () => [bare(JSON.parse(read("dagger.json")).engineVersion)]],
  [".github/workflows/images.yml dagger-for-github version", () => githubInstalls.map((s) => s.with?.version)],
  ["scripts/world/dagger.sh DAGGER_VERSION", () => [bare(/^DAGGER_VERSION=(\S+)$/m.exec(read("scripts/world/dagger.sh"))?.[1])]],
];

describe("the Dagger version", () => {
  const sdk = JSON.parse(read("package.json")).dependencies["@dagger.io/dagger"] as string;

  it("is an exact version in package.json", () => expect(sdk).toMatch(/^\d+\.\d+\.\d+$/));

  it.each(SOURCES)("%s is the SDK's version", (_, versions) => {
    const found = versions();
    expect(found.length).toBeGreaterThan(0);
    expect(found).toEqual(found.map(() => sdk));
  });

  // GitLab's child pipeline takes its version from dagger.json (tested in workflows.test.ts);
  // no second copy may be written into either GitLab file.
  it.each([".gitlab-ci.yml", "scripts/ci/gitlab-pipeline.mjs"])("%s writes no version of its own", (file) => {
    expect(read(file).match(/DAGGER_VERSION[=:]\s*"?v?\d+\.\d+\.\d+/g)).toBeNull();
  });
});
