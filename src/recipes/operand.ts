// Operand images: what people run. minimal is PostgreSQL alone; standard and full stack locales
// and extensions on the flavour below. No entrypoint, user 26, no cluster in the image: an
// operator (CloudNativePG and the like) owns the data directory and the process.
import type { OperandTarget } from "../plan/types.js";
import { aptInstall, aptSetup, pgInstall, pgPackages, pgPath, pinned } from "./apt.js";
import { reproducible } from "./reproducible.js";
import { binDir, expectVersion, startCluster, stopCluster } from "./smoke.js";
import type { RecipeContext } from "./index.js";
import type { Recipe, SmokeCheck, Step } from "./types.js";

/** The user operand images run as, by UID (and GID): what operators expect (runAsUser: 26). */
export const OPERAND_UID = 26;

export function operandRecipe(target: OperandTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const steps: Step[] = target.from ? layerSteps(target) : minimalSteps(target, ctx);
  steps.push(
    { op: "env", name: "PATH", value: pgPath(pg.major) },
    { op: "entrypoint", args: [] },
    { op: "cmd", args: ["bash"] },
    { op: "user", user: String(OPERAND_UID) },
  );
  return {
    target: target.id,
    base: target.from ? { target: target.from } : { image: target.base },
    artifacts: [],
    steps,
    smoke: operandSmoke(target),
    config: { user: String(OPERAND_UID), entrypoint: [] },
  };
}

function minimalSteps(target: OperandTarget, ctx: RecipeContext): Step[] {
  const [pg] = target.postgres;
  return [
    reproducible(aptSetup(target.packageSource, target.distro, target.postgres, ctx.pgdg)),
    reproducible(pgInstall([...pgPackages([pg]), ...extraPackages(target), ...extensionPackages(target.extensions)])),
    reproducible(moveToUid26()),
  ];
}

// Package steps end with the normalisation of reproducible.ts, so equal inputs give equal layers.
// A flavour on top of another: the parent is root-less (USER 26), so switch back for apt.
// target.extensions holds the parent's too; apt leaves those, already at their pins, alone.
function layerSteps(target: OperandTarget): Step[] {
  const packages = [...extraPackages(target), ...extensionPackages(target.extensions)];
  return [{ op: "user", user: "root" }, ...(packages.length > 0 ? [reproducible(aptInstall(packages))] : [])];
}

const extraPackages = (t: OperandTarget) => t.packages.map((p) => pinned(p.name, p.version || undefined));
const extensionPackages = (e: OperandTarget["extensions"]) => e.map((x) => pinned(x.package, x.version));

/**
 * Debian installs postgres with a dynamic system UID; operators run the image as 26. Move the
 * user and its group to 26 and re-own what the packages made. Debian gives GID 26 to "tape",
 * which nothing in a container uses: it makes way.
 */
function moveToUid26(): string {
  return [
    `old_uid=$(id -u postgres) && old_gid=$(id -g postgres)`,
    `if [ "$(getent group ${OPERAND_UID} | cut -d: -f1)" = tape ]; then groupdel tape; fi`,
    `groupmod -g ${OPERAND_UID} postgres`,
    `usermod -u ${OPERAND_UID} -g ${OPERAND_UID} postgres`,
    `find / -xdev -uid "$old_uid" -exec chown -h ${OPERAND_UID} {} +`,
    `find / -xdev -gid "$old_gid" -exec chgrp -h ${OPERAND_UID} {} +`,
  ].join("\n");
}

function operandSmoke(target: OperandTarget): SmokeCheck[] {
  const [pg] = target.postgres;
  const bin = binDir(pg.major);
  const checks: SmokeCheck[] = [
    { name: "runs as UID 26", script: `u=$(id -u); g=$(id -g); [ "$u:$g" = "${OPERAND_UID}:${OPERAND_UID}" ] || { echo "id -u:id -g is $u:$g, expected ${OPERAND_UID}:${OPERAND_UID}"; exit 1; }` },
    {
      name: `server starts and reports ${pg.version}`,
      script: [startCluster({ bin }), expectVersion(pg), stopCluster({ bin })].join("\n"),
    },
  ];
  const creates = target.extensions.flatMap((e) => e.create);
  if (creates.length > 0) {
    const preload = [...new Set(target.extensions.flatMap((e) => e.preload))];
    checks.push({
      name: `CREATE EXTENSION ${creates.join(", ")}`,
      script: [
        startCluster({ bin, preload }),
        ...creates.map((c) => `$psql -c 'CREATE EXTENSION ${c} CASCADE' || { echo "CREATE EXTENSION ${c} failed"; exit 1; }`),
        stopCluster({ bin }),
      ].join("\n"),
    });
  }
  // Preload-only packages (no CREATE EXTENSION) still must load.
  const preloadOnly = target.extensions.filter((e) => e.create.length === 0 && e.preload.length > 0).flatMap((e) => e.preload);
  if (preloadOnly.length > 0) {
    checks.push({
      name: `server starts with ${preloadOnly.join(", ")} preloaded`,
      script: [startCluster({ bin, preload: preloadOnly }), `$psql -c 'SELECT 1' >/dev/null`, stopCluster({ bin })].join("\n"),
    });
  }
  return checks;
}
