import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseMatrix } from "../../src/matrix/load.js";
import { applyBumps, parseMadison, pinQueries, pinReportText, proposeBumps } from "../../src/matrix/pins.js";
import { makePlan } from "../../src/plan/index.js";

const TEXT: string = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const matrix = () => {
  const r = parseMatrix(TEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.matrix;
};

// As apt-cache madison prints it on trixie and bookworm, PGDG's mirror and archive configured.
const TRIXIE = `postgresql-16 | 16.14-1.pgdg130+1 | http://apt.example/pub/repos/apt trixie-pgdg/main amd64 Packages
postgresql-16 | 16.13-1.pgdg130+1 | http://apt-archive.example/pub/repos/apt trixie-pgdg-archive/main amd64 Packages
postgresql-17 | 17.10-1.pgdg130+1 | http://apt.example/pub/repos/apt trixie-pgdg/main amd64 Packages
postgresql-17 | 17.9-1.pgdg130+1 | http://apt-archive.example/pub/repos/apt trixie-pgdg-archive/main amd64 Packages
postgresql-19 | 19~beta2-1.pgdg130+1 | http://apt.example/pub/repos/apt trixie-pgdg-testing/19 amd64 Packages
postgresql-16-pgaudit | 16.1-1.pgdg130+1 | http://apt.example/pub/repos/apt trixie-pgdg/main amd64 Packages
postgresql-17-pgaudit | 17.2-1.pgdg130+1 | http://apt.example/pub/repos/apt trixie-pgdg/main amd64 Packages
postgresql-17-pgaudit | 17.1-1.pgdg130+1 | http://apt.example/pub/repos/apt trixie-pgdg/main amd64 Packages
`;
// bookworm carries 17.10 too, but pgaudit 17.2 only for trixie so far.
const BOOKWORM = `postgresql-17 | 17.10-1.pgdg120+1 | http://apt.example/pub/repos/apt bookworm-pgdg/main amd64 Packages
postgresql-17-pgaudit | 17.1-1.pgdg120+1 | http://apt.example/pub/repos/apt bookworm-pgdg/main amd64 Packages
N: Unable to locate package postgresql-99
`;

const available = () => new Map([["trixie", parseMadison(TRIXIE)], ["bookworm", parseMadison(BOOKWORM)]]);

describe("bump-pins: the newest version every distro that installs a pin carries", () => {
  it("asks each distro for the packages its pins need, once", () => {
    expect(pinQueries(matrix()).map((q) => `${q.distro} ${q.package}`).sort()).toEqual([
      "bookworm postgresql-17",
      "bookworm postgresql-17-pgaudit",
      "trixie postgresql-16",
      "trixie postgresql-16-pgaudit",
      "trixie postgresql-17",
      "trixie postgresql-17-pgaudit",
      "trixie postgresql-19",
    ]);
  });

  it("moves minors and previews forward, and keeps a pin one distro would lack", () => {
    const r = proposeBumps(matrix(), available());
    expect(r.bumps.map((b) => `${b.path}: ${b.from} → ${b.to}`)).toEqual([
      "postgres.0.version: 16.13 → 16.14",
      "postgres.1.version: 17.9 → 17.10",
      "postgres.2.version: 19~beta1 → 19~beta2",
    ]);
    expect(r.kept).toEqual([
      { path: "extensions.pgaudit.pins.pgdg.16", pin: "16.1-*", reason: "newest carried everywhere" },
      // 17.2 is on trixie only: moving there would leave bookworm's targets with a pin apt cannot install.
      { path: "extensions.pgaudit.pins.pgdg.17", pin: "17.1-*", reason: "newest carried everywhere" },
    ]);
  });

  it("compares versions as PostgreSQL and dpkg order them (17.10 after 17.9), never as text", () => {
    const only = new Map([["trixie", parseMadison("postgresql-16 | 16.9-1 | x\npostgresql-16 | 16.13-1 | x\n")], ["bookworm", new Map()]]);
    expect(proposeBumps(matrix(), only).bumps.find((b) => b.path === "postgres.0.version")).toBeUndefined();
  });

  it("a preview does not move to a release (that needs preview: false too), nor a release to a preview", () => {
    const next = new Map([["trixie", parseMadison("postgresql-19 | 19.0-1 | x\npostgresql-17 | 17.10~rc1-1 | x\n")], ["bookworm", parseMadison("postgresql-17 | 17.10~rc1-1 | x\n")]]);
    expect(proposeBumps(matrix(), next).bumps).toEqual([]);
  });

  it("says when no distro carries a pinned package at all", () => {
    const r = proposeBumps(matrix(), new Map());
    expect(r.bumps).toEqual([]);
    expect(r.kept[0]).toEqual({ path: "postgres.0.version", pin: "16.13", reason: "no version that trixie (postgresql-16) all carry" });
  });

  it("rewrites only the pins: quotes, flow style and comments stay, and the result validates and plans", () => {
    const text = `# top comment\n${TEXT.replace('{ major: 17, version: "17.9" }', '{ major: 17, version: "17.9" }   # renovate: keep me')}`;
    const r = proposeBumps(matrix(), available());
    const out = applyBumps(text, r.bumps);
    expect(out).toContain('  - { major: 17, version: "17.10" }   # renovate: keep me');
    expect(out).toContain('  - { major: 19, version: "19~beta2", preview: true }');
    expect(out.startsWith("# top comment\n")).toBe(true);
    // Every other byte is as it was.
    expect(out.replace('"16.14"', '"16.13"').replace('"17.10"', '"17.9"').replace('"19~beta2"', '"19~beta1"')).toBe(text);
    const parsed = parseMatrix(out);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(makePlan(parsed.matrix, { timestamp: "202611290000", revision: "dev" }).ok).toBe(true);
  });

  it("refuses to write over a pin that is no longer what the bump read", () => {
    const r = proposeBumps(matrix(), available());
    expect(() => applyBumps(TEXT.replace('version: "17.9"', 'version: "17.8"'), r.bumps)).toThrow('postgres.1.version: expected 17.9 in the matrix, found 17.8');
  });

  it("reports one line per pin", () => {
    expect(pinReportText(proposeBumps(matrix(), available()))).toBe(
      ["postgres.0.version: 16.13 → 16.14", "postgres.1.version: 17.9 → 17.10", "postgres.2.version: 19~beta1 → 19~beta2", "extensions.pgaudit.pins.pgdg.16: 16.1-* kept (newest carried everywhere)", "extensions.pgaudit.pins.pgdg.17: 17.1-* kept (newest carried everywhere)", ""].join("\n"),
    );
  });
});
