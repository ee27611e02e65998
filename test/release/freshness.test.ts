import { describe, expect, it } from "vitest";
import { KEYS } from "../../src/plan/metadata.js";
import type { Plan, PlannedTarget } from "../../src/plan/types.js";
import { decideFreshness, diffLocks, lockFile, packagesKey, parseLockFile, parseSimulation, resolvePlan, resolvedKey, type Lock } from "../../src/release/freshness.js";

// Lines as apt-get -s prints them (bookworm's apt 2.6): an upgrade of a base package, two new
// packages, one from PGDG; Conf lines and apt's chatter are not packages.
const SIMULATION = `NOTE: This is only a simulation!
Reading package lists...
Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Conf libssl3 (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst libpq5 (17.9-1.pgdg120+1 PostgreSQL for Debian:bookworm-pgdg/bookworm-pgdg [amd64])
Inst tzdata (2025b-0+deb12u1 Debian:12.12/stable, Debian:12-updates/stable-updates [all])
Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
`;

const pkg = (name: string, version: string, origin = "Debian:12.12/stable", arch = "amd64") => ({ name, version, arch, origin });

describe("apt's simulation → the packages a target would hold", () => {
  it("reads every Inst line once, sorted, with version, architecture and origin", () => {
    expect(parseSimulation(SIMULATION)).toEqual([
      pkg("libpq5", "17.9-1.pgdg120+1", "PostgreSQL for Debian:bookworm-pgdg/bookworm-pgdg"),
      pkg("libssl3", "3.0.16-1~deb12u1", "Debian-Security:12/stable-security"),
      pkg("tzdata", "2025b-0+deb12u1", "Debian:12.12/stable, Debian:12-updates/stable-updates", "all"),
    ]);
  });

  it("nothing to install is an empty lock, not an error", () => {
    expect(parseSimulation("NOTE: This is only a simulation!\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")).toEqual([]);
  });
});

describe("the packages' key", () => {
  const a: Lock = { "linux/amd64": [pkg("libssl3", "3.0.15-1~deb12u1")] };
  it("follows versions, not origins (the same package from another suite is the same bytes)", () => {
    expect(packagesKey(a)).toBe(packagesKey({ "linux/amd64": [pkg("libssl3", "3.0.15-1~deb12u1", "Debian-Security:12/stable-security")] }));
    expect(packagesKey(a)).not.toBe(packagesKey({ "linux/amd64": [pkg("libssl3", "3.0.16-1~deb12u1")] }));
  });
  it("covers every platform", () => {
    expect(packagesKey(a)).not.toBe(packagesKey({ ...a, "linux/arm64": [pkg("libssl3", "3.0.16-1~deb12u1", "x", "arm64")] }));
  });
  it("the lock file reads back as written; anything else is no lock", () => {
    expect(parseLockFile(lockFile(a))).toEqual(a);
    expect(parseLockFile("not json")).toBeUndefined();
    expect(parseLockFile("[1]")).toBeUndefined();
  });
});

function target(id: string, recipeKey: string, from?: string): PlannedTarget {
  return {
    id,
    recipeKey,
    inputKey: recipeKey,
    postgres: [{ major: 17, version: "17.9", preview: false }],
    annotations: { [KEYS.inputKey]: recipeKey },
    ...(from ? { from } : {}),
  } as unknown as PlannedTarget;
}

describe("resolvePlan: packages folded into the keys", () => {
  const plan = { inputs: { timestamp: "202611290000", revision: "dev" }, skipped: [], targets: [target("minimal", "sha256:r1"), target("standard", "sha256:r2", "minimal")] } as unknown as Plan;
  const lock = (v: string): Lock => ({ "linux/amd64": [pkg("libssl3", v)] });

  it("labels carry the recipe's key and the packages' key apart", () => {
    const [minimal] = resolvePlan(plan, new Map([["minimal", lock("1")], ["standard", lock("1")]])).targets;
    expect(minimal!.inputKey).toBe(resolvedKey("sha256:r1", packagesKey(lock("1")), undefined));
    expect(minimal!.annotations).toMatchObject({ [KEYS.inputKey]: minimal!.inputKey, [KEYS.recipeKey]: "sha256:r1", [KEYS.packagesKey]: packagesKey(lock("1")) });
  });

  it("a changed parent changes its child's key, even when the child's own packages are the same", () => {
    const before = resolvePlan(plan, new Map([["minimal", lock("1")], ["standard", lock("1")]])).targets;
    const after = resolvePlan(plan, new Map([["minimal", lock("2")], ["standard", lock("1")]])).targets;
    expect(after[0]!.inputKey).not.toBe(before[0]!.inputKey);
    expect(after[1]!.inputKey).not.toBe(before[1]!.inputKey);
  });

  it("the same archive twice gives the same keys", () => {
    const locks = new Map([["minimal", lock("1")], ["standard", lock("1")]]);
    expect(resolvePlan(plan, locks)).toEqual(resolvePlan(plan, locks));
  });

  it("a target whose packages did not resolve keeps its recipe key (it fails before it builds)", () => {
    expect(resolvePlan(plan, new Map([["standard", lock("1")]])).targets[0]!.inputKey).toBe("sha256:r1");
  });
});

describe("freshness: changed or not, and why, in one line", () => {
  const alias = "r/postgresql:17-minimal-bookworm";
  const lockV = (ssl: string, extra: ReturnType<typeof pkg>[] = []): Lock => ({ "linux/amd64": [pkg("libssl3", ssl, "Debian-Security:12/stable-security"), ...extra] });
  const now = lockV("3.0.16-1~deb12u1");
  const t = (lock: Lock, recipeKey = "sha256:r1", version = "17.9") => {
    const x = target("minimal-17-bookworm", recipeKey);
    return { ...x, postgres: [{ major: 17, version, preview: false }] as PlannedTarget["postgres"], inputKey: resolvedKey(recipeKey, packagesKey(lock), undefined) };
  };
  const held = (lock: Lock, recipeKey = "sha256:r1", version = "17.9") => ({
    labels: { [KEYS.inputKey]: resolvedKey(recipeKey, packagesKey(lock), undefined), [KEYS.recipeKey]: recipeKey, [KEYS.pgVersion]: version },
    lock,
  });

  it.each([
    ["same recipe, same packages", t(now), now, held(now), undefined, false, "unchanged (same packages)"],
    ["a security update", t(now), now, held(lockV("3.0.15-1~deb12u1")), undefined, true, "changed: libssl3 3.0.15-1~deb12u1 → 3.0.16-1~deb12u1 (Debian-Security:12/stable-security)"],
    ["a new dependency", t(lockV("3.0.16-1~deb12u1", [pkg("libzstd1", "1.5.4-2")])), lockV("3.0.16-1~deb12u1", [pkg("libzstd1", "1.5.4-2")]), held(now), undefined, true, "changed: libzstd1 1.5.4-2 added (Debian:12.12/stable)"],
    ["a pin moved", t(now, "sha256:r2", "17.10"), now, held(now), undefined, true, "changed: recipe (PostgreSQL 17.9 → 17.10)"],
    ["the recipe changed otherwise", t(now, "sha256:r2"), now, held(now), undefined, true, "changed: recipe"],
    ["the parent changed", t(now), now, { ...held(now), labels: { ...held(now).labels, [KEYS.inputKey]: "sha256:other" } }, { id: "minimal-17-trixie", changed: true }, true, "changed: parent minimal-17-trixie"],
    ["no image yet", t(now), now, undefined, undefined, true, `changed: ${alias} does not exist yet`],
    ["an image from before packages were recorded", t(now), now, { labels: { [KEYS.inputKey]: "sha256:old", [KEYS.recipeKey]: "sha256:r1" } }, undefined, true, `changed: packages (${alias} has no package record to compare with)`],
  ])("%s", (_, tgt, lock, current, parent, changed, reason) => {
    expect(decideFreshness(tgt, lock, alias, current, parent)).toEqual({ changed, reason });
  });

  it("many changes: three named, the rest counted", () => {
    const many = (v: string): Lock => ({ "linux/amd64": ["a", "b", "c", "d", "e"].map((n) => pkg(n, v)) });
    const r = decideFreshness(t(many("2")), many("2"), alias, held(many("1")));
    expect(r.reason).toBe("changed: a 1 → 2 (Debian:12.12/stable), b 1 → 2 (Debian:12.12/stable), c 1 → 2 (Debian:12.12/stable) and 2 more");
  });

  it("a change seen on two platforms is named once", () => {
    const two = (v: string): Lock => ({ "linux/amd64": [pkg("tzdata", v, "o", "all")], "linux/arm64": [pkg("tzdata", v, "o", "all")] });
    expect(diffLocks(two("1"), two("2"))).toEqual([{ name: "tzdata", arch: "all", before: "1", after: "2", origin: "o" }]);
  });
});
