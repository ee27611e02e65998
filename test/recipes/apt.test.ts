import { describe, expect, it } from "vitest";
import { aptFiles, aptInstall, aptSetup, pgdgSources, pgInstall, pgPackages, renderPins, renderSources } from "../../src/recipes/apt.js";
import type { RunStep } from "../../src/recipes/types.js";

const scriptOf = (step: RunStep) => step;
import type { PgVersion } from "../../src/plan/types.js";
import { ctx } from "./helpers.js";

const v = (major: number, version: string, preview = false): PgVersion => ({ major, version, preview });
const pgdg = ctx.pgdg;

describe("PGDG sources", () => {
  it.each([
    [
      "one stable major: its component, and the archive",
      "bookworm",
      [v(17, "17.9")],
      [
        "https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main 17",
        "https://apt-archive.postgresql.org/pub/repos/apt bookworm-pgdg-archive main 17",
      ],
    ],
    [
      "a preview major: the testing suite",
      "trixie",
      [v(19, "19~beta1", true)],
      [
        "https://apt.postgresql.org/pub/repos/apt trixie-pgdg-testing main 19",
        "https://apt-archive.postgresql.org/pub/repos/apt trixie-pgdg-archive main 19",
      ],
    ],
    [
      "several majors: one component each",
      "bookworm",
      [v(16, "16.13"), v(18, "18.3")],
      [
        "https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main 16 18",
        "https://apt-archive.postgresql.org/pub/repos/apt bookworm-pgdg-archive main 16 18",
      ],
    ],
  ])("%s", (_, distro, postgres, lines) => {
    const sources = pgdgSources(pgdg, distro, postgres);
    expect(sources.map((s) => `${s.uris} ${s.suites.join(" ")} ${s.components.join(" ")}`)).toEqual(lines);
    expect(sources.every((s) => s.signedBy === "/usr/share/keyrings/pgdg.asc")).toBe(true);
  });

  it("renders deb822 stanzas signed by the checked key", () => {
    expect(renderSources(pgdgSources(pgdg, "bookworm", [v(17, "17.9")]))).toBe(
      [
        "Types: deb",
        "URIs: https://apt.postgresql.org/pub/repos/apt",
        "Suites: bookworm-pgdg",
        "Components: main 17",
        "Signed-By: /usr/share/keyrings/pgdg.asc",
        "",
        "Types: deb",
        "URIs: https://apt-archive.postgresql.org/pub/repos/apt",
        "Suites: bookworm-pgdg-archive",
        "Components: main 17",
        "Signed-By: /usr/share/keyrings/pgdg.asc",
        "",
      ].join("\n"),
    );
  });

  it("fetches the key from keyUrl and refuses any other fingerprint", () => {
    const { script } = scriptOf(aptSetup("pgdg", "bookworm", [v(17, "17.9")], pgdg));
    expect(script).toContain("curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc -o /tmp/pgdg.asc");
    expect(script).toContain(`[ "$fpr" = B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8 ] || {`);
    expect(script).toContain("purge -y -q --auto-remove curl gpg");
  });

  it("writes PGDG's sources only once its key is in place (apt refuses a source whose key file is missing)", () => {
    const { script } = scriptOf(aptSetup("pgdg", "bookworm", [v(17, "17.9")], pgdg));
    const at = (s: string) => script.indexOf(s);
    expect(at("/etc/apt/sources.list.d/debian.sources")).toBeLessThan(at("apt-get update -q"));
    expect(at("mv /tmp/pgdg.asc /usr/share/keyrings/pgdg.asc")).toBeGreaterThan(at("apt-get update -q"));
    expect(at("> /etc/apt/sources.list.d/pgdg.sources")).toBeGreaterThan(at("mv /tmp/pgdg.asc /usr/share/keyrings/pgdg.asc"));
  });
});

describe("what apt steps ask for (the resolver simulates it; the renderer keys the step's cache on it)", () => {
  it("the sources step is marked, and keeps only ca-certificates of what it installs", () => {
    expect(scriptOf(aptSetup("pgdg", "bookworm", [v(17, "17.9")], pgdg)).apt).toEqual({ install: ["ca-certificates"], sources: true });
    expect(scriptOf(aptSetup("distro", "bookworm", [v(15, "15.9")], pgdg)).apt).toEqual({ install: [], sources: true });
  });

  it("PostgreSQL's install asks for postgresql-common and the pinned packages, after an upgrade of the base", () => {
    const step = scriptOf(pgInstall(["postgresql-17=17.9-*"]));
    expect(step.apt).toEqual({ install: ["postgresql-common", "postgresql-17=17.9-*"] });
    expect(step.script.indexOf("apt-get upgrade -y -q")).toBeGreaterThan(-1);
    expect(step.script.indexOf("apt-get upgrade -y -q")).toBeLessThan(step.script.indexOf("install -y -q --no-install-recommends postgresql-common"));
  });

  it("a stage on a parent does not upgrade (it could move a package the parent pinned lower)", () => {
    expect(scriptOf(aptInstall(["gdb"], "parent")).script).not.toContain("upgrade");
    expect(scriptOf(aptInstall(["gdb"], "base")).script).toContain("apt-get upgrade -y -q");
    expect(scriptOf(aptInstall(["gdb"], "parent")).apt).toEqual({ install: ["gdb"] });
  });
});

describe("distro sources", () => {
  it.each([
    ["the release's own major: its archive, -updates and security", "bookworm", [v(15, "15.20")], ["/etc/apt/sources.list.d/debian.sources"]],
    [
      "an older major: the previous release too, pinned low",
      "bookworm",
      [v(13, "13.23"), v(15, "15.20")],
      ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list.d/bullseye.sources", "/etc/apt/preferences.d/bullseye"],
    ],
    ["pgdg: the release and PGDG", "trixie", [v(17, "17.9")], ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list.d/pgdg.sources"]],
  ])("%s", (name, distro, postgres, paths) => {
    const files = aptFiles(name.startsWith("pgdg") ? "pgdg" : "distro", distro, postgres, pgdg);
    expect(files.map((f) => f.path)).toEqual(paths);
  });

  it("writes the release's suites", () => {
    expect(aptFiles("distro", "trixie", [v(17, "17.12")], pgdg)[0]!.text).toBe(
      [
        "Types: deb",
        "URIs: http://deb.debian.org/debian",
        "Suites: trixie trixie-updates",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
        "Types: deb",
        "URIs: http://deb.debian.org/debian-security",
        "Suites: trixie-security",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
      ].join("\n"),
    );
  });

  it("pins the previous release below the default priority", () => {
    const prefs = aptFiles("distro", "bookworm", [v(13, "13.23"), v(15, "15.20")], pgdg)[2]!.text;
    expect(prefs).toBe(
      renderPins([
        { package: "*", pin: "release n=bullseye", priority: 100 },
        { package: "*", pin: "release n=bullseye-updates", priority: 100 },
        { package: "*", pin: "release n=bullseye-security", priority: 100 },
      ]),
    );
    expect(prefs).toContain("Package: *\nPin: release n=bullseye\nPin-Priority: 100\n");
  });
});

describe("PostgreSQL packages", () => {
  it.each([
    [[v(17, "17.9")], [], ["postgresql-17=17.9-*", "postgresql-client-17=17.9-*", "libpq5=17.9-*"]],
    [[v(19, "19~beta1", true)], [], ["postgresql-19=19~beta1-*", "postgresql-client-19=19~beta1-*", "libpq5=19~beta1-*"]],
    [
      [v(15, "15.20")],
      ["server-dev", "libpq-dev"] as const,
      ["postgresql-15=15.20-*", "postgresql-client-15=15.20-*", "postgresql-server-dev-15=15.20-*", "libpq5=15.20-*", "libpq-dev=15.20-*"],
    ],
    [
      [v(13, "13.23"), v(15, "15.20")],
      [],
      ["postgresql-13=13.23-*", "postgresql-client-13=13.23-*", "postgresql-15=15.20-*", "postgresql-client-15=15.20-*", "libpq5=15.20-*"],
    ],
  ])("%j %j", (postgres, extra, packages) => {
    expect(pgPackages(postgres, extra)).toEqual(packages);
  });
});
