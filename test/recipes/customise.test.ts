// What an image adds to its kind's recipe as data (env, CI user, packages), the test-image
// defaults, and the upgrade and failure testers' data-driven parts.
import { describe, expect, it } from "vitest";
import { IMAGE_KINDS, KINDS, TEST_TOOLS } from "../../src/kinds.js";
import { parseMatrix } from "../../src/matrix/load.js";
import { makePlan } from "../../src/plan/index.js";
import type { PlannedTarget } from "../../src/plan/types.js";
import { recipeFor } from "../../src/recipes/index.js";
import { pipInstall } from "../../src/recipes/failtester.js";
import { splitRequirements } from "../../src/recipes/requirements.js";
import { renderImage, type DaggerContext } from "../../src/render/dagger.js";
import { renderDockerfile } from "../../src/render/dockerfile.js";
import type { Container, Directory } from "@dagger.io/dagger";
import type { Recipe, Step } from "../../src/recipes/types.js";
import { ctx, files, installed, plan, runScripts, target } from "./helpers.js";
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";

const envSteps = (r: Recipe) => r.steps.flatMap((s) => (s.op === "env" && s.name !== "PATH" ? [[s.name, s.value]] : []));

/** The default matrix with one image's keys changed, planned. */
function planWith(id: string, change: Record<string, unknown>): PlannedTarget[] {
  const doc = parse(readFileSync("matrix.yaml", "utf8")) as { images: Record<string, unknown>[] };
  doc.images = doc.images.map((img) => (img.id === id ? { ...img, ...change } : img));
  const parsed = parseMatrix(stringify(doc));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const result = makePlan(parsed.matrix, { timestamp: "202611231530", revision: "abc1234" }, {}, files);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan.targets;
}
const find = (targets: PlannedTarget[], id: string) => targets.find((t) => t.id === id)!;

describe("environment variables", () => {
  it.each([
    ["extbuilder-17-bookworm", [["PG_MAJOR", "17"], ["PG_VERSION", "17.9"]]],
    ["exttester-16-bookworm", [["PG_MAJOR", "16"], ["PG_VERSION", "16.13"]]],
    ["failtester-18-bookworm", [["PG_MAJOR", "18"], ["PG_VERSION", "18.3"]]],
    ["pgupgradetester-bookworm", [["PG_VERSIONS", "16.13 17.9 18.3"]]],
    ["extupgradetester-17-bookworm", [["CITUS_VERSIONS", "v13.2.2"], ["PG_MAJOR", "17"], ["PG_VERSION", "17.9"]]],
    ["minimal-17-trixie", []],
    ["stylechecker", []],
  ])("%s sets %j", (id, env) => {
    expect(envSteps(recipeFor(target(id), ctx))).toEqual(env);
  });

  it("an image's env overrides a default, removes one with null, and fills placeholders", () => {
    const t = find(planWith("exttester", { env: { PG_VERSION: null, PG_MAJOR: "pg{major}", EXT_PG: "{majors}/{versions}" } }), "exttester-17-bookworm");
    expect(t.env).toEqual([
      { name: "EXT_PG", value: "17/17.9" },
      { name: "PG_MAJOR", value: "pg17" },
    ]);
    const r = recipeFor(t, ctx);
    expect(envSteps(r)).toEqual([["EXT_PG", "17/17.9"], ["PG_MAJOR", "pg17"]]);
    const check = r.smoke.find((c) => c.name === "environment EXT_PG, PG_MAJOR")!;
    expect(check.script).toContain(`[ "\${PG_MAJOR-<unset>}" = pg17 ] ||`);
    expect(check.script).toContain(`[ "\${EXT_PG-<unset>}" = 17/17.9 ] ||`);
  });

  it("both renderers read the same env steps: the Dockerfile sets each as ENV", () => {
    const t = target("extupgradetester-16-bookworm");
    const text = renderDockerfile(t, recipeFor(t, ctx), () => undefined);
    expect(text).toContain(`\nENV CITUS_VERSIONS="v12.1.12"\nENV PG_MAJOR="16"\nENV PG_VERSION="16.13"\n`);
  });
});

/** The Container calls renderImage makes, from a stand-in that answers every method with itself. */
function daggerCalls(r: Recipe): string[] {
  const log: string[] = [];
  const standIn = (): unknown =>
    new Proxy(
      {},
      {
        get: (_, name) => (...args: unknown[]) => {
          log.push(`${String(name)}(${args.filter((a) => typeof a === "string").map((a) => JSON.stringify(a)).join(", ")})`);
          return standIn();
        },
      },
    );
  const ctx: DaggerContext = { context: standIn() as Directory, fixtures: standIn() as Directory, image: () => standIn() as Container, pull: () => standIn() as Container };
  renderImage(r, ctx);
  return log;
}

describe("both renderers", () => {
  it("Dagger sets the same env, workdir and user steps the Dockerfile writes", () => {
    const t = find(planWith("extupgradetester", { ciUser: { name: "ci", workdir: "/work", default: true, owns: ["/usr/lib/postgresql"] } }), "extupgradetester-16-bookworm");
    const r = recipeFor(t, ctx);
    const calls = daggerCalls(r).filter((c) => /^with(EnvVariable|Workdir|User)\(/.test(c));
    // The artifact (an older version's build) switches to root too, then the image.
    expect(calls).toEqual([
      `withUser("root")`,
      `withUser("root")`,
      `withEnvVariable("CITUS_VERSIONS", "v12.1.12")`,
      `withEnvVariable("PG_MAJOR", "16")`,
      `withEnvVariable("PG_VERSION", "16.13")`,
      `withWorkdir("/work")`,
      `withUser("ci")`,
    ]);
    const text = renderDockerfile(t, r, () => undefined);
    const image = text.slice(text.lastIndexOf("\nFROM "));
    expect(image.split("\n").filter((l) => /^(ENV|WORKDIR|USER) /.test(l))).toEqual([
      "USER root",
      `ENV CITUS_VERSIONS="v12.1.12"`,
      `ENV PG_MAJOR="16"`,
      `ENV PG_VERSION="16.13"`,
      "WORKDIR /work",
      "USER ci",
    ]);
  });
});

describe("CI user", () => {
  it("extbuilder: gosu from the release's archive, then the user, as the last steps before env", () => {
    const r = recipeFor(target("extbuilder-17-bookworm"), ctx);
    const tail = r.steps.slice(-4);
    expect(tail[0]).toEqual<Step>({
      op: "run",
      script:
        "command -v gosu >/dev/null && exit 0\nDEBIAN_FRONTEND=noninteractive apt-get update -q\nDEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\\n  gosu\nrm -rf /var/lib/apt/lists/* /var/cache/apt/*",
      // The resolver asks apt for gosu too: its updates ship like any package's.
      apt: { install: ["gosu"] },
    });
    expect(tail[1]).toEqual<Step>({
      op: "run",
      script: [
        "test -x /bin/bash || { echo \"shell /bin/bash is not in the image\"; exit 1; }",
        "if ! id -u circleci >/dev/null 2>&1; then",
        "useradd --create-home --home-dir /home/circleci --shell /bin/bash --user-group circleci",
        "fi",
        "mkdir -p /home/circleci && chown circleci: /home/circleci",
      ].join("\n"),
    });
    // Not its default user: the image stays root and CI drops privileges with gosu.
    expect(r.steps.some((s) => s.op === "user")).toBe(false);
    const check = r.smoke.find((c) => c.name === "CI user circleci (gosu)")!;
    expect(check.user).toBe("root");
    expect(check.script).toContain(`w=$(gosu circleci id -un) && [ "$w" = circleci ]`);
    expect(check.script).toContain(`gosu circleci sh -c 'f=/var/run/postgresql/.pg-images-probe && touch "$f" && rm "$f"'`);
  });

  it("extupgradetester: the user owns the paths it untars into, and the image starts in its workdir", () => {
    const r = recipeFor(target("extupgradetester-18-bookworm"), ctx);
    const script = runScripts(r).find((s) => s.includes("useradd"))!;
    expect(script.split("\n").slice(-3)).toEqual([
      "mkdir -p /usr/lib/postgresql && chown -R circleci: /usr/lib/postgresql",
      "mkdir -p /usr/include/postgresql && chown -R circleci: /usr/include/postgresql",
      "mkdir -p /usr/share/postgresql && chown -R circleci: /usr/share/postgresql",
    ]);
    expect(r.steps.at(-1)).toEqual({ op: "workdir", path: "/home/circleci" });
    expect(r.smoke.find((c) => c.name === "CI user circleci (gosu)")!.script).toContain(
      `f=$(find /usr/share/postgresql ! -user circleci -print -quit) && [ -z "$f" ] || { echo "/usr/share/postgresql: $f is not owned by circleci"; exit 1; }`,
    );
  });

  it("default: true makes it the image's user; the recipe's own checks then run as root", () => {
    const t = find(planWith("exttester", { ciUser: { name: "ci", privilegeDrop: "setpriv", default: true, home: "/work", shell: "/bin/sh" } }), "exttester-17-bookworm");
    const r = recipeFor(t, ctx);
    expect(r.steps[0]).toEqual({ op: "user", user: "root" });
    expect(r.steps.at(-1)).toEqual({ op: "user", user: "ci" });
    expect(runScripts(r).some((s) => s.includes("gosu"))).toBe(false);
    expect(r.smoke.find((c) => c.name === "CI user ci (setpriv)")!.script).toContain("w=$(setpriv --reuid=ci --regid=ci --init-groups env HOME=/work id -un)");
    expect(r.smoke.find((c) => c.name === "runs as ci")!.user).toBeUndefined();
    expect(r.smoke.filter((c) => c.user === undefined).map((c) => c.name)).toEqual(["runs as ci", "environment PG_MAJOR, PG_VERSION"]);
  });

  it.each(plan.targets.filter((t) => t.kind !== "operand" && t.kind !== "stylechecker" && t.kind !== "extbuilder" && t.kind !== "pgupgradetester").map((t) => t.id))(
    "%s, built on another target, starts as root",
    (id) => {
      expect(recipeFor(target(id), ctx).steps[0]).toEqual({ op: "user", user: "root" });
    },
  );
});

describe("socket directory", () => {
  it.each(["extbuilder-16-bookworm", "pgupgradetester-bookworm"])("%s makes /var/run/postgresql 2777 and checks a non-root user can write it", (id) => {
    const r = recipeFor(target(id), ctx);
    expect(runScripts(r).join("\n")).toContain("install -d -m 2777 -o postgres -g postgres /var/run/postgresql && chmod 2777 /var/run/postgresql");
    const check = r.smoke.find((c) => c.name === "/var/run/postgresql is writable by a non-root user")!;
    expect(check.script).toContain("runuser -u nobody --");
  });
});

describe("packages", () => {
  // Every kind honours an image's packages; the kinds that once dropped them are in this table too.
  it.each([...IMAGE_KINDS])("%s installs an image's extra package", (kind) => {
    const t = plan.targets.find((x) => x.kind === kind)!;
    const r = recipeFor({ ...t, packages: [...t.packages, { name: "zzz-extra", version: "1.2-*" }] }, ctx);
    expect(installed(r)).toContain("zzz-extra=1.2-*");
  });

  it.each([
    ["extbuilder", TEST_TOOLS],
    ["pgupgradetester", TEST_TOOLS],
    ["stylechecker", ["git"]],
    ["exttester", []],
    ["operand", []],
  ] as const)("%s's default packages are %j", (kind, tools) => {
    expect(KINDS[kind].packages).toEqual(tools);
  });

  it.each(["extbuilder-17-bookworm", "pgupgradetester-bookworm"])("%s installs the test tools", (id) => {
    expect(installed(recipeFor(target(id), ctx))).toEqual(expect.arrayContaining(["bison", "curl", "flex", "gdb", "git", "gnupg", "lcov", "systemtap-sdt-dev"]));
  });

  it("null removes a default tool, a version pins one, and a package is installed once", () => {
    const t = find(planWith("extbuilder", { packages: { lcov: null, bison: "3.8.2+dfsg-1" } }), "extbuilder-17-bookworm");
    const all = installed(recipeFor(t, ctx));
    expect(all).not.toContain("lcov");
    expect(all).toContain("bison=3.8.2+dfsg-1");
    expect(all).not.toContain("bison");
    expect(all.filter((p) => p === "git")).toEqual(["git"]);
  });
});

describe("stylechecker packages", () => {
  it("checks a package without a command of its name by its installation, and runs a command's --version", () => {
    const t = target("stylechecker");
    const r = recipeFor({ ...t, packages: [...t.packages, { name: "libyaml-dev", version: "" }] }, ctx);
    expect(r.smoke.find((c) => c.name === "libyaml-dev installed")!.script).toBe(
      `dpkg-query -W libyaml-dev || { echo "libyaml-dev is not installed"; exit 1; }\nif command -v libyaml-dev >/dev/null; then libyaml-dev --version; fi`,
    );
    expect(r.smoke.find((c) => c.name === "git installed")!.script).toContain("then git --version; fi");
  });
});

describe("pgupgradetester can build", () => {
  it("installs server-dev for every major, the build tools and Python", () => {
    expect(installed(recipeFor(target("pgupgradetester-bookworm"), ctx))).toEqual(
      expect.arrayContaining([
        "postgresql-server-dev-16=16.13-*",
        "postgresql-server-dev-17=17.9-*",
        "postgresql-server-dev-18=18.3-*",
        "libpq-dev=18.3-*",
        "build-essential",
        "libkrb5-dev",
        "python3",
        "python3-venv",
      ]),
    );
  });

  it("checks that a PGXS extension builds against every major", () => {
    const check = recipeFor(target("pgupgradetester-bookworm"), ctx).smoke.find((c) => c.name === "builds a PGXS extension against 16, 17, 18")!;
    for (const m of [16, 17, 18]) expect(check.script).toContain(`make PG_CONFIG=/usr/lib/postgresql/${m}/bin/pg_config >make.log 2>&1`);
    expect(check.mounts).toEqual([{ fixture: "test/fixtures/pgxs-hello", at: "/fixture" }]);
  });
});

describe("extension upgrade tester", () => {
  const r = recipeFor(target("extupgradetester-17-bookworm"), ctx);

  it("packs files only, one list per tarball, the so- variant filtered by name", () => {
    const build = runScripts(r).find((s) => s.includes("make install DESTDIR=/build/root"))!;
    expect(build.split("\n").slice(6)).toEqual([
      "find . ! -type d | LC_ALL=C sort > /build/files-0.lst",
      `[ -s /build/files-0.lst ] || { echo "no installed file for /install-pg17-citusv13.2.2.tar"; exit 1; }`,
      `mkdir -p "$(dirname /out/install-pg17-citusv13.2.2.tar)"`,
      "tar --no-recursion --owner=0 --group=0 --numeric-owner -cf /out/install-pg17-citusv13.2.2.tar -T /build/files-0.lst",
      "find . ! -type d -name '*.so' | LC_ALL=C sort > /build/files-1.lst",
      `[ -s /build/files-1.lst ] || { echo "no installed file for /so-pg17-citusv13.2.2.tar (only: *.so)"; exit 1; }`,
      `mkdir -p "$(dirname /out/so-pg17-citusv13.2.2.tar)"`,
      "tar --no-recursion --owner=0 --group=0 --numeric-owner -cf /out/so-pg17-citusv13.2.2.tar -T /build/files-1.lst",
    ]);
  });

  it("creates the old version by the SQL version of its control file, never by the git ref", () => {
    const check = r.smoke.find((c) => c.name === "upgrade citus from v13.2.2")!;
    expect(check.script).toContain(`sqlv=$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\\([^']*\\)'.*/\\1/p" "$(pg_config --sharedir)/extension/citus.control")`);
    expect(check.script).toContain(`CREATE EXTENSION citus VERSION '$sqlv'`);
    expect(check.script).not.toContain("VERSION 'v13.2.2'");
    expect(check.script).not.toContain("VERSION '13.2.2'");
  });

  it("untars and removes the old version as the CI user, the way the project does", () => {
    const check = r.smoke.find((c) => c.name === "upgrade citus from v13.2.2")!;
    expect(check.script).toContain("gosu circleci tar -C / -xf /install-pg17-citusv13.2.2.tar");
    expect(check.script).toContain("cd / && tar -tf /install-pg17-citusv13.2.2.tar | gosu circleci xargs rm");
  });

  it("checks every tarball for directory entries", () => {
    const check = r.smoke.find((c) => c.name === "old versions packed, files only")!;
    expect(check.script).toContain(`if grep -q '/$' /tmp/entries; then echo "/so-pg17-citusv13.2.2.tar holds directory entries:"`);
    expect(check.script.match(/\.control\$' \/tmp\/entries/g)).toHaveLength(1);
  });

  it("installs an image's packages before the tarballs", () => {
    const t = find(planWith("extupgradetester", { packages: { "libfoo-dev": "" } }), "extupgradetester-16-bookworm");
    const steps = recipeFor(t, ctx).steps;
    expect(steps[1]).toMatchObject({ op: "run" });
    expect(installed({ ...recipeFor(t, ctx), artifacts: [] })).toEqual(["libfoo-dev", "gosu"]);
  });
});

describe("failtester requirements", () => {
  const sha = "a".repeat(40);
  it.each([
    [`mitmproxy @ git+https://github.com/example/mitmproxy.git@${sha}`, true],
    [`git+https://github.com/example/mitmproxy.git@${sha}#egg=mitmproxy`, true],
    [`mitmproxy[extra] @ git+https://git.example.org:8443/a/b@${sha}`, true],
    ["mitmproxy @ git+https://github.com/example/mitmproxy.git@main", false],
    ["mitmproxy @ git+https://github.com/example/mitmproxy.git@v11.0.0", false],
    [`mitmproxy @ git+https://github.com/example/mitmproxy.git@${sha.slice(0, 12)}`, false],
    [`mitmproxy @ git+http://github.com/example/mitmproxy.git@${sha}`, false],
    [`mitmproxy @ git+ssh://git@github.com/example/mitmproxy.git@${sha}`, false],
    [`-e git+https://github.com/example/mitmproxy.git@${sha}#egg=mitmproxy`, false],
    [`mitmproxy @ git+https://github.com/example/mitmproxy.git@${sha} \\`, false],
    [`mitmproxy @ git+https://user:token@github.com/example/mitmproxy.git@${sha}`, false],
    [`git+file:///srv/vcs/pgi-probe@${sha}#egg=pgi-probe`, true],
    [`pgi-probe @ git+file:///srv/vcs/pgi-probe@${sha}`, false],
    ["pgi-probe @ git+file:///srv/vcs/pgi-probe@main", false],
    [`pgi-probe @ git+file://host/srv/vcs/pgi-probe@${sha}`, false],
  ])("%s accepted: %s", (line, ok) => {
    const split = splitRequirements(`construct==2.10.70 \\\n    --hash=sha256:${"b".repeat(64)}\n${line}\n`);
    expect(split.problems.map((p) => p.line)).toEqual(ok ? [] : [3]);
    expect(split.vcs).toEqual(ok ? [{ line: 3, requirement: line }] : []);
  });

  it("a file without VCS lines installs as before: one pip run with --require-hashes", () => {
    expect(pipInstall({ dir: "/opt/pg-images/failtester", python: "python3", venv: "/v" }, "f".repeat(64), [])).toBe(
      `echo "${"f".repeat(64)}  /opt/pg-images/failtester/requirements.txt" | sha256sum -c --quiet\npython3 -m venv /v\n/v/bin/pip install --no-cache-dir --require-hashes -r /opt/pg-images/failtester/requirements.txt`,
    );
  });

  it("VCS lines leave the hashed part by line number and install without dependencies or build isolation", () => {
    const script = pipInstall({ dir: "/opt/pg-images/failtester", python: "python3", venv: "/v" }, "f".repeat(64), [{ line: 7, requirement: `m @ git+https://h.example/m@${sha}` }]);
    expect(script.split("\n").slice(2)).toEqual([
      `awk -v skip=' 7 ' 'index(skip, " " NR " ") == 0' /opt/pg-images/failtester/requirements.txt > /opt/pg-images/failtester/hashed.txt`,
      `printf '%s\\n' \\`,
      `  'm @ git+https://h.example/m@${sha}' \\`,
      "  > /opt/pg-images/failtester/vcs.txt",
      "/v/bin/pip install --no-cache-dir --require-hashes -r /opt/pg-images/failtester/hashed.txt",
      "/v/bin/pip install --no-cache-dir --no-deps --no-build-isolation -r /opt/pg-images/failtester/vcs.txt",
    ]);
  });
});

describe("failtester's Python", () => {
  it.each<[{ version: string; source?: string } | undefined, string[], string]>([
    [undefined, ["python3", "python3-venv"], "python3 -m venv"],
    [{ version: "3.11" }, ["python3.11", "python3.11-venv"], "python3.11 -m venv"],
    [{ version: "3.12", source: "image" }, [], "python3.12 -m venv"],
  ])("interpreter %j installs %j and makes the venv with %s", (interpreter, packages, venv) => {
    const t = find(planWith("failtester", interpreter ? { interpreter } : {}), "failtester-17-bookworm");
    const r = recipeFor(t, ctx);
    const all = installed(r);
    for (const p of ["python3", "python3-venv", "python3.11", "python3.11-venv", "python3.12"]) expect(all.includes(p)).toBe(packages.includes(p));
    expect(runScripts(r).join("\n")).toContain(`${venv} /opt/pg-images/failtester/venv`);
    const version = r.smoke.find((c) => c.name.startsWith("the venv's Python is"));
    expect(version?.name).toBe(interpreter ? `the venv's Python is ${interpreter.version}` : undefined);
  });

  it("stops the build, saying why, when the base image lacks the Python it should have", () => {
    const t = find(planWith("failtester", { interpreter: { version: "3.12", source: "image" } }), "failtester-17-bookworm");
    expect(runScripts(recipeFor(t, ctx)).join("\n")).toContain(
      `command -v python3.12 >/dev/null || { echo "Python 3.12 (python3.12) is not on the base image's PATH; interpreter.source: image needs a base that has it"; exit 1; }`,
    );
  });
});

describe("stylechecker", () => {
  it("installs its Python tools from the hash-pinned file only", () => {
    const scripts = runScripts(recipeFor(target("stylechecker"), ctx)).join("\n");
    expect(scripts).toContain("/opt/pg-images/style/venv/bin/pip install --no-cache-dir --require-hashes -r /opt/pg-images/style/requirements.txt");
    expect(scripts.match(/pip install/g)).toHaveLength(1);
  });

  it.each([
    [{ name: "fmt", repository: "https://example.org/fmt.git", ref: "fmt-0.82.0", version: "0.82.0" }, "cmake --build /build/cmake", "git+https"],
    [{ name: "fmt_indent", repository: "tools", ref: "v0.8.33", make: ["uncrustify/.install"] }, `make -j"$(nproc)" prefix=/usr/local DESTDIR=/out uncrustify/.install`, "context"],
  ])("builds %j in an artifact on its base and copies /usr/local", (source, build, from) => {
    const r = recipeFor(find(planWith("stylechecker", { sources: [source] }), "stylechecker"), ctx);
    const [artifact] = r.artifacts;
    expect(artifact!.base).toEqual(r.base);
    const script = artifact!.steps.flatMap((s) => (s.op === "run" ? [s.script] : [])).join("\n");
    expect(script).toContain(`clone -q --depth 1 --branch ${source.ref} -- ${from === "context" ? "file:///src/repository" : source.repository} /build/src`);
    expect(script).toContain(build);
    expect(artifact!.steps.some((s) => s.op === "copy" && "context" in s.source)).toBe(from === "context");
    expect(r.steps).toContainEqual({ op: "copy", source: { artifact: artifact!.id, path: "/out/usr/local" }, what: "directory", to: "/usr/local" });
    // The build tools stay in the artifact.
    expect(installed({ ...r, artifacts: [] })).not.toContain("cmake");
  });
});
