import { describe, expect, it } from "vitest";
import { recipeFor } from "../../src/recipes/index.js";
import { renderStep } from "../../src/render/dockerfile.js";
import { NORMALIZE } from "../../src/recipes/reproducible.js";
import type { Recipe, Step } from "../../src/recipes/types.js";
import { ctx, installed, plan, runScripts, target, targetOf } from "./helpers.js";


const operands = plan.targets.filter((t) => t.kind === "operand").map((t) => t.id);

describe("operand images", () => {
  it.each(operands)("%s: user 26, no entrypoint, PostgreSQL's bin on PATH", (id) => {
    const t = target(id);
    const r = recipeFor(t, ctx);
    const tail = r.steps.slice(-4);
    expect(tail).toEqual<Step[]>([
      { op: "env", name: "PATH", value: `/usr/lib/postgresql/${t.postgres[0]!.major}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
      { op: "entrypoint", args: [] },
      { op: "cmd", args: ["bash"] },
      { op: "user", user: "26" },
    ]);
    expect(r.config).toEqual({ user: "26", entrypoint: [] });
    expect(r.smoke.map((c) => c.name)).toContain("runs as UID 26");
  });

  it.each([
    ["minimal-17-trixie", ["postgresql-common", "postgresql-17=17.9-*", "postgresql-client-17=17.9-*", "libpq5=17.9-*"]],
    ["minimal-19-trixie", ["postgresql-common", "postgresql-19=19~beta1-*", "postgresql-client-19=19~beta1-*", "libpq5=19~beta1-*"]],
    ["standard-17-trixie", ["locales-all", "postgresql-17-pgaudit=17.1-*", "postgresql-17-pgvector=0.8.1-*", "postgresql-17-pg-failover-slots=1.2.0-*"]],
    [
      "standard-18-bookworm",
      ["locales-all", "postgresql-18-pgaudit=18.0-*", "postgresql-18-pgvector=0.8.1-*", "postgresql-18-pg-failover-slots=1.2.0-*", "postgresql-18-jit=18.3-*"],
    ],
  ])("%s installs exactly %j", (id, packages) => {
    expect(installed(recipeFor(target(id), ctx)).filter((p) => !["ca-certificates", "curl", "gpg"].includes(p))).toEqual(packages);
  });

  it("minimal turns the main cluster off before installing the server", () => {
    const script = runScripts(recipeFor(target("minimal-17-trixie"), ctx))[1]!;
    const conf = script.indexOf("create_main_cluster = false");
    expect(conf).toBeGreaterThan(script.indexOf("install -y -q --no-install-recommends postgresql-common"));
    expect(conf).toBeLessThan(script.indexOf("postgresql-17=17.9-*"));
  });

  it.each([["minimal-17-trixie"], ["full-18-trixie"]])("%s smoke creates every bundled extension with its preloads", (id) => {
    const r = recipeFor(target(id), ctx);
    const creates = target(id).extensions.flatMap((e) => e.create);
    const check = r.smoke.find((c) => c.name.startsWith("CREATE EXTENSION"));
    if (creates.length === 0) return expect(check).toBeUndefined();
    for (const c of creates) expect(check!.script).toContain(`CREATE EXTENSION ${c} CASCADE`);
    expect(check!.script).toContain("shared_preload_libraries=pgaudit,pg_failover_slots,pg_cron");
  });
});

describe("an operand flavour with pip requirements (a system flavour: Barman Cloud)", () => {
  const REQ = "images/system/requirements.txt";
  const text = "# pip-compile --generate-hashes\nbarman[cloud]==3.14.0 \\\n    --hash=sha256:" + "a".repeat(64) + "\nboto3==1.35.0 --hash=sha256:" + "b".repeat(64) + "\n";
  const withFile = { ...ctx, files: new Map([...ctx.files, [REQ, text]]) };
  const system = { ...targetOf("standard-17-trixie", "operand"), id: "system-17-trixie", flavour: "system", requirements: REQ };

  it("installs pip with apt, then the hash-pinned file into the system Python, before USER 26", () => {
    const r = recipeFor(system, withFile);
    expect(installed(r)).toContain("python3-pip");
    const copy = r.steps.findIndex((s) => s.op === "copy");
    expect(r.steps[copy]).toEqual({ op: "copy", source: { context: REQ }, what: "file", to: "/opt/pg-images/operand/requirements.txt" });
    const pip = r.steps[copy + 1]!;
    expect(pip.op === "run" && pip.script.split("\n")).toEqual([
      expect.stringMatching(/^echo "[0-9a-f]{64}  \/opt\/pg-images\/operand\/requirements.txt" \| sha256sum -c --quiet$/),
      "PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir --no-compile --require-hashes -r /opt/pg-images/operand/requirements.txt",
    ]);
    expect(r.steps.slice(-1)).toEqual([{ op: "user", user: "26" }]);
    // No ENV: the variable lives for the pip command only.
    expect(r.steps.filter((s) => s.op === "env").map((s) => s.op === "env" && s.name)).toEqual(["PATH"]);
    expect(r.smoke.find((c) => c.name === "pip installed barman, boto3")!.script).toContain("python3 -m pip show barman >/dev/null 2>&1 ||");
  });

  it("renders the same steps as Dockerfile instructions", () => {
    const lines = recipeFor(system, withFile).steps.map(renderStep);
    expect(lines).toContain("COPY images/system/requirements.txt /opt/pg-images/operand/requirements.txt");
    expect(lines.find((l) => l.includes("pip install"))).toContain("PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install");
  });

  it("leaves pip to the matrix's pin when it lists python3-pip among the packages", () => {
    const pinnedPip = { ...system, packages: [{ name: "python3-pip", version: "25.1.1+dfsg-1" }] };
    expect(installed(recipeFor(pinnedPip, withFile)).filter((p) => p.startsWith("python3-pip"))).toEqual(["python3-pip=25.1.1+dfsg-1"]);
  });

  it("adds nothing to a flavour without requirements", () => {
    const r = recipeFor(targetOf("standard-17-trixie", "operand"), ctx);
    expect(installed(r)).not.toContain("python3-pip");
    expect(r.steps.some((s) => s.op === "copy")).toBe(false);
  });
});

// PostgreSQL's own packages and every bundled extension: never without a version when the target pins them.
const pinnedNames = (id: string) => {
  const t = target(id);
  return [/^postgresql-\d+$/, /^postgresql-client-\d+$/, /^postgresql-server-dev-\d+$/, /^libpq5$/, /^libpq-dev$/, ...t.extensions.map((e) => new RegExp(`^${e.package}$`))];
};

describe("no unpinned PostgreSQL install", () => {
  it.each(plan.targets.map((t) => t.id))("%s", (id) => {
    const unpinned = installed(recipeFor(target(id), ctx)).filter((p) => !p.includes("=") && pinnedNames(id).some((re) => re.test(p)));
    expect(unpinned).toEqual([]);
  });

  it.each(plan.targets.map((t) => t.id))("%s: every install skips recommends and cleans apt in the same step", (id) => {
    const t = target(id);
    for (const script of runScripts(recipeFor(t, ctx)).filter((s) => s.includes("apt-get install"))) {
      expect(script).not.toMatch(/apt-get install (?!-y -q --no-install-recommends)/);
      // Operand images end each package step with the normalisation for reproducible layers.
      const clean = "rm -rf /var/lib/apt/lists/* /var/cache/apt/*";
      expect(script.trimEnd().endsWith(t.kind === "operand" ? `${clean}\n${NORMALIZE}` : clean)).toBe(true);
    }
  });
});

describe("test images", () => {
  it.each([
    ["extbuilder-17-bookworm", ["postgresql-server-dev-17=17.9-*", "build-essential", "libcurl4-openssl-dev", "libkrb5-dev", "libselinux1-dev", "git"]],
    ["exttester-17-bookworm", ["gdb", "lcov", "libipc-run-perl", "postgresql-17-wal2json"]],
    ["failtester-17-bookworm", ["python3", "python3-venv"]],
    ["pgupgradetester-bookworm", ["postgresql-16=16.13-*", "postgresql-17=17.9-*", "postgresql-18=18.3-*", "libpq5=18.3-*"]],
    ["stylechecker", ["shellcheck=0.9.0-*", "uncrustify=0.72.0+dfsg1-*"]],
  ])("%s installs %j", (id, packages) => {
    expect(installed(recipeFor(target(id), ctx))).toEqual(expect.arrayContaining(packages));
  });

  it.each([
    ["extbuilder-17-bookworm", "/fixture-real", ["make install"]],
    ["exttester-17-bookworm", "/fixture-real", ["shared_preload_libraries=ext_real", "runuser -u postgres -- env PATH=\"$PATH\" PGHOST=\"$d\" PGUSER=postgres make installcheck", "output_iso/results/concurrent.out", "tmp_check/log/regress_log_001_preload"]],
  ])("%s checks the real-shaped fixture mounted at %s", (id, at, fragments) => {
    const check = recipeFor(target(id), ctx).smoke.find((c) => c.mounts?.some((m) => m.at === at));
    expect(check?.mounts).toEqual([{ fixture: "test/fixtures/ext-real", at }]);
    for (const f of fragments) expect(check!.script).toContain(f);
  });

  it("failtester installs the requirements with hashes, checked against the planned text", () => {
    const r = recipeFor(target("failtester-17-bookworm"), ctx);
    expect(r.steps).toContainEqual({ op: "copy", source: { context: "images/failtester/requirements.txt" }, what: "file", to: "/opt/pg-images/failtester/requirements.txt" });
    const run = runScripts(r).find((s) => s.includes("pip install"))!;
    expect(run).toMatch(/^echo "[0-9a-f]{64}  \/opt\/pg-images\/failtester\/requirements.txt" \| sha256sum -c --quiet$/m);
    expect(run).toContain("pip install --no-cache-dir --require-hashes -r /opt/pg-images/failtester/requirements.txt");
  });

  it("extupgradetester builds each older version once and copies its tarballs where the templates say", () => {
    const r = recipeFor(target("extupgradetester-16-bookworm"), ctx);
    expect(r.artifacts.map((a) => [a.id, a.base])).toEqual([["citus-v12.1.12-pg16", { target: "extbuilder-16-bookworm" }]]);
    expect(r.steps.filter((s) => s.op === "copy")).toEqual([
      { op: "copy", source: { artifact: "citus-v12.1.12-pg16", path: "/out/install-pg16-citusv12.1.12.tar" }, what: "file", to: "/install-pg16-citusv12.1.12.tar" },
      { op: "copy", source: { artifact: "citus-v12.1.12-pg16", path: "/out/so-pg16-citusv12.1.12.tar" }, what: "file", to: "/so-pg16-citusv12.1.12.tar" },
    ]);
    // "--" before the URL: git never reads the repository as an option.
    expect(runScripts(r)[0]).toContain("clone -q --depth 1 --branch v12.1.12 -- https://github.com/citusdata/citus.git /build/src");
    expect(r.smoke.map((c) => /git .*clone .*/.exec(c.script)?.[0]).filter(Boolean)).toEqual([
      "git -c safe.directory='*' clone -q --depth 1 -- https://github.com/citusdata/citus.git /tmp/newest",
    ]);
  });

  it("extupgradetester copies a repository given as a path from the context", () => {
    const t = targetOf("extupgradetester-16-bookworm", "extupgradetester");
    const r = recipeFor({ ...t, extension: { ...t.extension, name: "greeter", repository: "ext-repo", versions: [{ version: "1.0", ref: "v1.0" }] } }, ctx);
    // The artifact's first step switches to root (the parent may run as its CI user), then copies.
    expect(r.artifacts[0]!.steps.slice(0, 2)).toEqual([
      { op: "user", user: "root" },
      { op: "copy", source: { context: "ext-repo" }, what: "directory", to: "/src/repository" },
    ]);
    expect(r.smoke.find((c) => c.name.startsWith("upgrade greeter"))!.mounts).toEqual([{ context: "ext-repo", at: "/mnt/repository" }]);
  });
});
