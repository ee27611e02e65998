// Every image kind built on a real Docker engine from the Dockerfile the CLI renders, then proven
// by its recipe's smoke checks. Needs scripts/world/docker.sh and bases.sh; without an engine
// this fails, unless PG_IMAGES_SKIP_IMAGES=1 says to skip (and it prints why).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { planFromText } from "../../src/plan/fromText.js";
import type { Plan, PlannedTarget } from "../../src/plan/types.js";
import { recipeFor, type RecipeContext } from "../../src/recipes/index.js";
import { baseArg, renderDockerfile } from "../../src/render/dockerfile.js";
import { build, engineProblem, imageSize, smoke, type MountRoots } from "../../scripts/world/docker.js";
import { makeVcsProbeRepo } from "../../scripts/world/extRepo.js";
import { writeFile } from "../../src/recipes/apt.js";
import { pipInstall } from "../../src/recipes/failtester.js";
import { sha256 } from "../../src/recipes/key.js";
import { splitRequirements } from "../../src/recipes/requirements.js";
import { makeContext, REPO, resolveMatrix, standInMatrix, standInTools, TEMPLATE, useWorldEngine } from "../../scripts/world/world.js";

const INPUTS = { timestamp: "202601010000", revision: "imagetest" };
const template = readFileSync(TEMPLATE, "utf8");
// Ids and build order do not depend on the resolved versions: plan once with stand-ins.
const ids = planFromText(standInMatrix(template), "test/images/matrix.yaml", {
  inputs: INPUTS,
  files: new Map(["images/failtester/requirements.txt", "images/stylechecker/requirements.txt"].map((p) => [p, readFileSync(p, "utf8")])),
}).plan.targets.map((t) => t.id);

useWorldEngine();
const skip = process.env.PG_IMAGES_SKIP_IMAGES === "1";
const problem = engineProblem();
if (problem && skip) console.warn(`image tests skipped (PG_IMAGES_SKIP_IMAGES=1): ${problem}`);

interface World {
  dir: string;
  plan: Plan;
  ctx: RecipeContext;
  roots: MountRoots;
}
let world: World | undefined;
const built = new Map<string, string>();
const summary: string[] = [];

const ref = (t: PlannedTarget) => `${t.repository.testing}:${t.tags.testing}`;
const target = (id: string) => world!.plan.targets.find((t) => t.id === id)!;
const operand = (id: string) => {
  const t = target(id);
  if (t.kind !== "operand") throw new Error(`${id} is not an operand`);
  return t;
};

async function cli(args: string[]): Promise<string> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), now: () => new Date() });
  if (code !== 0) throw new Error(`pg-images ${args.join(" ")}: exit ${code}: ${err}`);
  return out;
}

describe.skipIf(skip && problem !== undefined)("images on a real Docker engine", () => {
  beforeAll(async () => {
    if (problem) throw new Error(`image tests need a Docker engine: ${problem}. Start one with scripts/world/docker.sh (and bases.sh), or set PG_IMAGES_SKIP_IMAGES=1 to skip them.`);
    // The tools are for the Dagger chain; these tests run beside tools.sh (scripts/test.sh).
    const { text, values } = await resolveMatrix(standInTools(template));
    console.log(`resolved: ${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join(", ")}`);
    const dir = mkdtempSync(join(tmpdir(), "pg-images-images-"));
    makeContext(dir, text);
    const files = new Map(["images/failtester/requirements.txt", "images/stylechecker/requirements.txt"].map((p) => [p, readFileSync(join(dir, p), "utf8")]));
    const { matrix, plan } = planFromText(text, join(dir, "matrix.yaml"), { inputs: INPUTS, files });
    world = { dir, plan, ctx: { pgdg: matrix.pgdg, files }, roots: { context: dir, fixtures: REPO } };
  });

  it.each(ids)("%s: builds and passes its smoke checks", async (id) => {
    const t = target(id);
    if (t.from && !built.has(t.from)) throw new Error(`${id}: not built, because ${t.from} failed`);
    const dockerfile = await cli(["dockerfile", "--matrix", join(world!.dir, "matrix.yaml"), "--target", id, "--timestamp", INPUTS.timestamp, "--revision", INPUTS.revision]);
    const { seconds } = await build(id, ref(t), dockerfile, world!.dir);
    built.set(id, ref(t));
    const started = Date.now();
    const recipe = recipeFor(t, world!.ctx);
    const reports = await smoke(id, ref(t), recipe, world!.roots);
    // Operands: one of the checks ran under the operator's runtime.
    if (t.kind === "operand") expect(reports.map((r) => r.check)).toContain(recipe.smoke.find((c) => c.runtime)?.name);
    const mb = ((await imageSize(ref(t))) / 1e6).toFixed(0);
    summary.push(`${id}: build ${seconds.toFixed(0)} s, ${mb} MB, smoke ${((Date.now() - started) / 1000).toFixed(1)} s (${reports.length} checks)`);
    console.log(summary[summary.length - 1] + "\n" + reports.map((r) => `  ✓ ${r.check} (${r.seconds.toFixed(1)} s)`).join("\n"));
  });

  // What a failure-test job does in the failtester: pytest drives a client through mitmdump to a
  // local server; and a requirement pinned to a commit of a git repository, installed the way
  // the recipe installs its own (hashed part, then the VCS line), arrives at that commit.
  describe("failtester runs failure tests", () => {
    const id = "failtester-15-bookworm";
    const probe = { fixture: "test/fixtures/failtester-probe", at: "/probe" };

    it("pytest sees a request pass through mitmdump", async () => {
      if (!built.has(id)) throw new Error(`needs ${id}, which did not build`);
      const check = {
        name: "pytest through mitmdump",
        user: "root",
        mounts: [probe],
        script: [
          "export PROXY_PORT=18089 SERVER_PORT=18088",
          "cd /tmp && python -m http.server --bind 127.0.0.1 $SERVER_PORT >/tmp/server.log 2>&1 &",
          "mitmdump --listen-host 127.0.0.1 --listen-port $PROXY_PORT -s /probe/mark_proxied.py >/tmp/mitmdump.log 2>&1 &",
          "for i in $(seq 50); do python -c \"import socket; socket.create_connection(('127.0.0.1', $PROXY_PORT)).close()\" 2>/dev/null && break; sleep 0.2; done",
          "python -m pytest -q -p no:cacheprovider /probe/test_through_mitmdump.py || { cat /tmp/mitmdump.log; exit 1; }",
          "grep -q 'GET http://127.0.0.1:18088/' /tmp/mitmdump.log || { echo 'mitmdump did not log the request'; cat /tmp/mitmdump.log; exit 1; }",
        ].join("\n"),
      };
      const [report] = await smoke(id, built.get(id)!, { target: id, base: { target: id }, artifacts: [], steps: [], smoke: [check] }, world!.roots);
      expect(report!.output).toMatch(/1 passed/);
    });

    it("pip installs a VCS requirement at its pinned commit, after the hash-checked part", async () => {
      if (!built.has(id)) throw new Error(`needs ${id}, which did not build`);
      const commit = makeVcsProbeRepo(join(world!.dir, "vcs-probe"));
      // The hashed part holds what the VCS project's build needs without build isolation (the
      // venv's setuptools builds it, wheel gives it bdist_wheel); then the VCS line.
      const text = [
        "wheel==0.45.1 \\",
        "    --hash=sha256:661e1abd9198507b1409a20c02106d9670b2576e916d58f520316666abca6729 \\",
        "    --hash=sha256:708e7481cc80179af0e556bbf0cc00b8444c7321e2700b8d8580231d13017248",
        `git+file:///srv/vcs/pgi-probe@${commit}#egg=pgi-probe`,
        "",
      ].join("\n");
      const { vcs, problems } = splitRequirements(text);
      expect(problems).toEqual([]);
      const at = { dir: "/tmp/vcs", python: "python3", venv: "/tmp/vcs/venv" };
      const check = {
        name: "VCS requirement at its commit",
        user: "root",
        mounts: [{ context: "vcs-probe", at: "/srv/vcs/pgi-probe" }],
        script: [
          "git config --global --add safe.directory '*'",
          "mkdir -p /tmp/vcs",
          writeFile("/tmp/vcs/requirements.txt", text.replace(/\n$/, "")),
          pipInstall(at, sha256(text), vcs),
          `/tmp/vcs/venv/bin/python -c 'import pgi_probe; print("mark", pgi_probe.MARK)'`,
        ].join("\n"),
      };
      const [report] = await smoke(id, built.get(id)!, { target: id, base: { target: id }, artifacts: [], steps: [], smoke: [check] }, world!.roots);
      expect(report!.output).toContain("mark pinned");
    });
  });

  describe("faults are caught and named", () => {
    const minimal = "minimal-15-bookworm";
    const needs = (id: string) => {
      if (!built.has(id)) throw new Error(`needs ${id}, which did not build`);
    };

    it("a PostgreSQL pin the archive lacks fails the build, naming the target", async () => {
      const t: PlannedTarget = { ...operand(minimal), postgres: [{ major: 15, version: "15.0", preview: false }] };
      const dockerfile = renderDockerfile(t, recipeFor(t, world!.ctx), target);
      await expect(build(t.id, "pg-images-test/broken:pin", dockerfile, world!.dir)).rejects.toThrow(
        /^minimal-15-bookworm: build failed[\s\S]*Version '15\.0-\*' for 'postgresql-15' was not found/,
      );
    });

    it("an image with another PostgreSQL version fails the version check", async () => {
      needs(minimal);
      const t: PlannedTarget = { ...operand(minimal), postgres: [{ major: 15, version: "15.1", preview: false }] };
      await expect(smoke(t.id, built.get(minimal)!, recipeFor(t, world!.ctx), world!.roots)).rejects.toThrow(
        /^minimal-15-bookworm: server starts and reports 15\.1: exit 1\n[\s\S]*expected 'PostgreSQL 15\.1 …'/,
      );
    });

    it("an image missing an extension's package fails the CREATE EXTENSION check", async () => {
      needs(minimal);
      const standard = target("standard-15-bookworm");
      await expect(smoke(minimal, built.get(minimal)!, recipeFor(standard, world!.ctx), world!.roots)).rejects.toThrow(
        /^minimal-15-bookworm: CREATE EXTENSION pgaudit: exit 1\n[\s\S]*could not access file "pgaudit"/,
      );
    });

    it("an image whose user is not 26 fails the config check", async () => {
      needs("extbuilder-15-bookworm");
      await expect(smoke(minimal, built.get("extbuilder-15-bookworm")!, recipeFor(target(minimal), world!.ctx), world!.roots)).rejects.toThrow(
        /^minimal-15-bookworm: image user: "", expected "26"/,
      );
    });

    // The operator-runtime check alone, on an operand broken after the build: seconds, not a rebuild.
    const underOperator = (id: string) => {
      const r = recipeFor(target(id), world!.ctx);
      return { ...r, config: undefined, smoke: r.smoke.filter((c) => c.runtime) };
    };
    const OPERATOR = "runs as an operator runs it: read-only root, 26:26, no capabilities";

    it("an operand whose pg_ctl writes a pid file under /var/run/postgresql fails the operator-runtime check, naming the path", async () => {
      needs(minimal);
      const tag = "pg-images-test/broken:var-run";
      const wrapper = String.raw`#!/bin/sh\nset -e\necho $$ > /var/run/postgresql/pg_ctl.pid\nexec /usr/lib/postgresql/15/bin/pg_ctl.real "$@"\n`;
      await build(minimal, tag, `FROM ${built.get(minimal)!}\nUSER root\nRUN cd /usr/lib/postgresql/15/bin && mv pg_ctl pg_ctl.real && printf '${wrapper}' > pg_ctl && chmod 755 pg_ctl\nUSER 26\n`, world!.dir);
      // pg_ctl's message (stderr) and the check's own (stdout) may come in either order.
      const error = await smoke(minimal, tag, underOperator(minimal), world!.roots).then(() => undefined, (e: Error) => e.message);
      expect(error).toMatch(new RegExp(`^minimal-15-bookworm: ${OPERATOR}: exit 1\n`));
      expect(error).toContain("cannot create /var/run/postgresql/pg_ctl.pid: Directory nonexistent");
      expect(error).toContain("the server did not start with its sockets in /controller/run");
    });

    it("an operand without a passwd entry for UID 26 fails the operator-runtime check", async () => {
      needs(minimal);
      const tag = "pg-images-test/broken:no-passwd";
      await build(minimal, tag, `FROM ${built.get(minimal)!}\nUSER root\nRUN userdel postgres\nUSER 26\n`, world!.dir);
      await expect(smoke(minimal, tag, underOperator(minimal), world!.roots)).rejects.toThrow(
        new RegExp(`^minimal-15-bookworm: ${OPERATOR}: exit 1\nno passwd entry for UID 26: initdb and postgres look the user up$`),
      );
    });

    it("a regression suite with a wrong expected output fails the exttester check", async () => {
      const id = "exttester-15-bookworm";
      needs(id);
      const fixtures = mkdtempSync(join(tmpdir(), "pg-images-broken-fixture-"));
      cpSync(join(REPO, "test/fixtures/pgxs-hello"), join(fixtures, "test/fixtures/pgxs-hello"), { recursive: true });
      const expected = join(fixtures, "test/fixtures/pgxs-hello/expected/hello.out");
      writeFileSync(expected, readFileSync(expected, "utf8").replace("hello, world", "hello, moon"));
      await expect(smoke(id, built.get(id)!, recipeFor(target(id), world!.ctx), { ...world!.roots, fixtures })).rejects.toThrow(
        /^exttester-15-bookworm: fixture regression suite passes: exit 1\n[\s\S]*hello, moon/,
      );
    });

    it("an extbuilder without the GSSAPI headers cannot build the real-shaped fixture", async () => {
      const id = "extbuilder-15-bookworm";
      needs(id);
      const tag = "pg-images-test/broken:no-krb5";
      await build(id, tag, `FROM ${built.get(id)!}\nRUN dpkg -r libkrb5-dev\n`, world!.dir);
      await expect(smoke(id, tag, recipeFor(target(id), world!.ctx), world!.roots)).rejects.toThrow(
        /^extbuilder-15-bookworm: builds an extension using the server's connection headers and common libraries: exit 1\n[\s\S]*gssapi\/gssapi\.h: No such file or directory/,
      );
    });

    // The upgrade tester builds the fixture's v1.0 in an artifact stage on the extbuilder: on one
    // missing a tool, that stage fails.
    it.each([
      ["bison", "bison", /make: \/usr\/bin\/bison: No such file or directory/],
      ["sys/sdt.h", "systemtap-sdt-dev", /fatal error: 'sys\/sdt\.h' file not found|sys\/sdt\.h: No such file or directory/],
    ])("an extbuilder without %s cannot build the extension the upgrade tester carries", async (_, pkg, message) => {
      const parent = "extbuilder-15-bookworm";
      needs(parent);
      const tag = `pg-images-test/broken:no-${pkg}`;
      await build(parent, tag, `FROM ${built.get(parent)!}\nRUN dpkg -r ${pkg}\n`, world!.dir);
      const t = target("extupgradetester-15-bookworm");
      const dockerfile = renderDockerfile(t, recipeFor(t, world!.ctx), target);
      const error = await build(t.id, "pg-images-test/broken:upgrade", dockerfile, world!.dir, { [baseArg(parent)]: tag }).then(() => "built", (e: Error) => e.message);
      expect(error).toMatch(/^extupgradetester-15-bookworm: build failed/);
      expect(error).toMatch(message);
    });

    it("a suite PGXS skips silently fails the exttester check, naming what it did not leave", async () => {
      const id = "exttester-15-bookworm";
      needs(id);
      const fixtures = mkdtempSync(join(tmpdir(), "pg-images-broken-fixture-"));
      for (const f of ["pgxs-hello", "ext-real"]) cpSync(join(REPO, "test/fixtures", f), join(fixtures, "test/fixtures", f), { recursive: true });
      const makefile = join(fixtures, "test/fixtures/ext-real/Makefile");
      writeFileSync(makefile, readFileSync(makefile, "utf8").replace("TAP_TESTS = 1\n", ""));
      await expect(smoke(id, built.get(id)!, recipeFor(target(id), world!.ctx), { ...world!.roots, fixtures })).rejects.toThrow(
        /^exttester-15-bookworm: a preloaded extension's regression, isolation and TAP suites pass: exit 1\n[\s\S]*left no tmp_check\/log\/regress_log_001_preload/,
      );
    });
  });

  it("summary", () => {
    console.log(summary.join("\n"));
  });
});
