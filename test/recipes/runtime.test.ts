// The operator-runtime check: its data (written here from CloudNativePG's pod contract, not from
// the recipe), and its rendering by both smoke runners: docker run flags, and the Dagger calls
// against a recording stand-in of the Container API.
import type { Container, Directory } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { prepareScan, scanWrites, underRuntime } from "../../src/chain/target.js";
import { recipeFor } from "../../src/recipes/index.js";
import type { Runtime, SmokeCheck } from "../../src/recipes/types.js";
import { smokeArgs } from "../../scripts/world/docker.js";
import { ctx, plan, target } from "./helpers.js";

const NAME = "runs as an operator runs it: read-only root, 26:26, no capabilities";
const CONTRACT: Runtime = {
  readOnlyRoot: true,
  user: "26:26",
  dropCapabilities: true,
  tmpfs: ["/run", "/controller", "/dev/shm"],
  volumes: ["/var/lib/postgresql/data"],
  env: { PGDATA: "/var/lib/postgresql/data/pgdata", PGHOST: "/controller/run", TMPDIR: "/controller/tmp" },
};

const operands = plan.targets.filter((t) => t.kind === "operand").map((t) => t.id);
const check = (id: string): SmokeCheck => {
  const c = recipeFor(target(id), ctx).smoke.find((s) => s.runtime);
  if (!c) throw new Error(`${id}: no check with a runtime`);
  return c;
};

describe("every operand is checked under the operator's runtime", () => {
  it.each(operands)("%s", (id) => {
    const c = check(id);
    expect(c.name).toBe(NAME);
    expect(c.runtime).toEqual(CONTRACT);
    expect(c.user).toBeUndefined();
    const lines = c.script.split("\n");
    // In the operator's order: tools on PATH, initdb, start on the socket directory, probes, a clean stop.
    const order = [
      'for c in initdb postgres pg_ctl pg_controldata pg_isready pg_basebackup pg_rewind psql; do command -v "$c"',
      'initdb -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --lc-collate=C --lc-ctype=C ',
      'pg_ctl -D "$PGDATA" -l "$TMPDIR/server.log" -w -o "-c listen_addresses= -c unix_socket_directories=$PGHOST" start ',
      "r=$(pg_isready) ",
      '[ "$e" = "UTF8 C" ]',
      "pg_controldata \"$PGDATA\" | grep -q '^Database cluster state: *in production$'",
      "b=$(mktemp -d)",
      'pg_basebackup -U postgres -D "$b/base" -c fast -X stream ',
      "pg_rewind --help >/dev/null ",
      'pg_ctl -D "$PGDATA" -m fast -w stop ',
      "grep -q 'database system is shut down'",
    ].map((start) => lines.findIndex((l) => l.startsWith(start)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(c.script).toContain('getent passwd 26 >/dev/null || { echo "no passwd entry for UID 26');
    expect(c.script).toContain("CapPrm CapEff");
    // Nothing written under the image's own paths: no absolute binary path, no /tmp.
    expect(c.script).not.toMatch(/\/usr\/lib\/postgresql|\/tmp|\/var\/run/);
  });

  it("no other kind carries a runtime", () => {
    const others = plan.targets.filter((t) => t.kind !== "operand");
    expect(others.length).toBeGreaterThan(0);
    expect(others.flatMap((t) => recipeFor(t, ctx).smoke.filter((s) => s.runtime).map((s) => `${t.id}: ${s.name}`))).toEqual([]);
  });
});

describe("the Docker runner", () => {
  it("applies the runtime as docker run flags", () => {
    const c = check("minimal-17-trixie");
    expect(smokeArgs("img", c, { context: "/ctx", fixtures: "/fx" })).toEqual([
      "run", "--rm", "--network", "host",
      "--read-only",
      "-u", "26:26",
      "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
      "--tmpfs", "/run:mode=0777", "--tmpfs", "/controller:mode=0777", "--tmpfs", "/dev/shm:mode=0777",
      "--mount", 'type=volume,dst=/var/lib/postgresql/data,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=uid=26,gid=26,mode=0700"',
      "-e", "PGDATA=/var/lib/postgresql/data/pgdata", "-e", "PGHOST=/controller/run", "-e", "TMPDIR=/controller/tmp",
      "img", "sh", "-ec", c.script,
    ]);
  });

  it("runs a check without a runtime as before", () => {
    const c = recipeFor(target("minimal-17-trixie"), ctx).smoke[0]!;
    expect(smokeArgs("img", { ...c, user: "root" }, { context: "/ctx", fixtures: "/fx" })).toEqual(["run", "--rm", "--network", "host", "-u", "root", "img", "sh", "-ec", c.script]);
  });
});

/** A stand-in Container that records each call (objects as their label). */
function recording(log: string[], label: string): unknown {
  return new Proxy(
    {},
    {
      get(_, name) {
        if (typeof name !== "string" || !(CONTAINER_METHODS as readonly string[]).includes(name)) throw new Error(`${label}: no method ${String(name)} on the stand-in`);
        return (...args: unknown[]) => {
          if (args.some((a) => a === undefined || a === null)) throw new Error(`${label}.${name}: an argument is missing`);
          log.push(`${name}(${args.map((a) => (typeof a === "object" && a && LABEL in a ? (a as Record<symbol, string>)[LABEL] : JSON.stringify(a))).join(", ")})`);
          return recording(log, `${label}.${name}`);
        };
      },
    },
  );
}
const LABEL = Symbol("label");
const CONTAINER_METHODS = ["withExec", "withUser", "withMountedTemp", "withMountedDirectory", "withEnvVariable"] satisfies (keyof Container)[];

describe("the Dagger runner", () => {
  const c = check("minimal-17-trixie");
  const render = (r: Runtime) => {
    const log: string[] = [];
    underRuntime(recording(log, "image") as Container, c, r, () => ({ [LABEL]: "<empty directory>" }) as unknown as Directory);
    return log;
  };
  const sh = (script: string) => `withExec(${JSON.stringify(["sh", "-ec", script])})`;

  it("mounts the writable paths, runs the check as 26:26, then scans the root as root", () => {
    expect(render(CONTRACT)).toEqual([
      'withUser("root")',
      sh(prepareScan(CONTRACT)),
      'withMountedTemp("/run")',
      'withMountedTemp("/controller")',
      'withMountedTemp("/dev/shm")',
      'withMountedDirectory("/var/lib/postgresql/data", <empty directory>, {"owner":"26:26"})',
      'withEnvVariable("PGDATA", "/var/lib/postgresql/data/pgdata")',
      'withEnvVariable("PGHOST", "/controller/run")',
      'withEnvVariable("TMPDIR", "/controller/tmp")',
      'withUser("26:26")',
      sh(c.script),
      'withUser("root")',
      sh(scanWrites(CONTRACT)),
    ]);
  });

  it("scans only when the root is meant read-only", () => {
    expect(render({ ...CONTRACT, readOnlyRoot: false }).slice(-2)).toEqual(['withUser("26:26")', sh(c.script)]);
  });

  it("the scan leaves out the kernel's filesystems and the mounts, and names what it found", () => {
    const prune = "\\( -path '/proc' -o -path '/sys' -o -path '/dev' -o -path '/run' -o -path '/controller' -o -path '/dev/shm' -o -path '/var/lib/postgresql/data' -o -path '/.pg-images-scan' -o -path '/etc/hosts' -o -path '/etc/resolv.conf' -o -path '/etc/hostname' -o -path '/.init' \\) -prune";
    expect(prepareScan(CONTRACT).split("\n")).toEqual([
      "mkdir -p '/run' '/controller' '/dev/shm' '/var/lib/postgresql/data' /.pg-images-scan",
      "chmod 0777 '/run' '/controller' '/dev/shm'",
      `find / -xdev ${prune} -o -type d -print > /.pg-images-scan/dirs`,
      "touch /.pg-images-scan/marker && touch /.pg-images-scan/marker",
    ]);
    const scan = scanWrites(CONTRACT).split("\n");
    expect(scan[0]).toBe(`w=$( { find / -xdev ${prune} -o ! -type d -newer /.pg-images-scan/marker -print; find / -xdev ${prune} -o -type d -print | grep -vxF -f /.pg-images-scan/dirs; } | sort)`);
    expect(scan[1]).toContain("written outside the writable paths (/run, /controller, /dev/shm, /var/lib/postgresql/data), on a root filesystem meant read-only: ");
  });
});
