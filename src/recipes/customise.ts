// What an image adds to its kind's recipe, as data from the matrix: a non-root CI user and
// environment variables. Appended to every kind's recipe in one place (index.ts), so both
// renderers and every kind honour them alike. Pure: returns steps and checks.
import type { CiUser, Target } from "../plan/types.js";
import { aptInstall, shellQuote } from "./apt.js";
import type { Recipe, SmokeCheck, Step } from "./types.js";

/** The Unix socket directory of Debian's PostgreSQL, where test servers put their sockets. */
export const SOCKET_DIR = "/var/run/postgresql";

/** Shell: make the socket directory writable by any user (setgid postgres), as test images need. */
export function socketDirWritable(): string {
  return `install -d -m 2777 -o postgres -g postgres ${SOCKET_DIR} && chmod 2777 ${SOCKET_DIR}`;
}

/** A check, as root: a user that is neither root nor postgres can create a socket there. */
export function socketDirCheck(): SmokeCheck {
  return {
    name: `${SOCKET_DIR} is writable by a non-root user`,
    user: "root",
    script: [
      `m=$(stat -c %a ${SOCKET_DIR}) && [ "$m" = 2777 ] || { echo "${SOCKET_DIR} has mode $m, expected 2777"; exit 1; }`,
      `runuser -u nobody -- sh -c 'f=${SOCKET_DIR}/.pg-images-probe && touch "$f" && rm "$f"' || { echo "nobody cannot create a file in ${SOCKET_DIR}"; exit 1; }`,
    ].join("\n"),
  };
}

/**
 * The command prefix that runs the rest of a line as the CI user. gosu sets HOME from the user's
 * passwd entry; setpriv keeps the caller's (root's), so it is set here, and PATH is kept for both.
 */
export function dropTo(u: CiUser): string {
  return u.privilegeDrop === "gosu" ? `gosu ${u.name}` : `setpriv --reuid=${u.name} --regid=${u.name} --init-groups env HOME=${shellQuote(u.home)}`;
}

/** The step, as root, that installs the privilege-drop tool from the release's own archive where the image lacks it. */
export function dropToolStep(u: CiUser): Step | undefined {
  // setpriv is util-linux's, in every Debian image.
  if (u.privilegeDrop !== "gosu") return undefined;
  const install = aptInstall(["gosu"], "parent");
  return { ...install, script: [`command -v gosu >/dev/null && exit 0`, install.script].join("\n") };
}

/** Shell, as root: the user (idempotent: an image built on one that has it keeps it) and its paths. */
export function ciUserScript(u: CiUser): string {
  const lines = [
    `test -x ${u.shell} || { echo "shell ${u.shell} is not in the image"; exit 1; }`,
    `if ! id -u ${u.name} >/dev/null 2>&1; then`,
    `useradd --create-home --home-dir ${u.home} --shell ${u.shell} --user-group ${u.name}`,
    `fi`,
    `mkdir -p ${u.home} && chown ${u.name}: ${u.home}`,
  ];
  if (u.workdir !== undefined && u.workdir !== u.home) lines.push(`mkdir -p ${u.workdir} && chown ${u.name}: ${u.workdir}`);
  for (const p of u.owns) lines.push(`mkdir -p ${p} && chown -R ${u.name}: ${p}`);
  return lines.join("\n");
}

/** Checks, as root: the user, its home and shell, the drop tool, the paths it owns. */
export function ciUserChecks(u: CiUser, postgres: boolean): SmokeCheck[] {
  const drop = dropTo(u);
  const checks: SmokeCheck[] = [
    {
      name: `CI user ${u.name} (${u.privilegeDrop})`,
      user: "root",
      script: [
        `e=$(getent passwd ${u.name} | cut -d: -f6,7) && [ "$e" = ${shellQuote(`${u.home}:${u.shell}`)} ] || { echo "${u.name}'s home:shell is '$e', expected ${u.home}:${u.shell}"; exit 1; }`,
        `o=$(stat -c %U ${u.home}) && [ "$o" = ${u.name} ] || { echo "${u.home} is owned by $o, expected ${u.name}"; exit 1; }`,
        `w=$(${drop} id -un) && [ "$w" = ${u.name} ] || { echo "${drop} id -un printed '$w', expected ${u.name}"; exit 1; }`,
        `${drop} sh -c 'touch "$HOME/.pg-images-probe" && rm "$HOME/.pg-images-probe"' || { echo "${u.name} cannot write its home"; exit 1; }`,
        ...u.owns.map((p) => `f=$(find ${p} ! -user ${u.name} -print -quit) && [ -z "$f" ] || { echo "${p}: $f is not owned by ${u.name}"; exit 1; }`),
        ...(postgres ? [`${drop} sh -c 'f=/var/run/postgresql/.pg-images-probe && touch "$f" && rm "$f"' || { echo "${u.name} cannot create a socket in /var/run/postgresql"; exit 1; }`] : []),
      ].join("\n"),
    },
  ];
  if (u.default) {
    checks.push({ name: `runs as ${u.name}`, script: `u=$(id -un) && [ "$u" = ${u.name} ] || { echo "the image runs as $u, expected ${u.name}"; exit 1; }` });
  }
  if (u.workdir !== undefined) {
    checks.push({ name: `starts in ${u.workdir}`, script: `[ "$(pwd)" = ${u.workdir} ] || { echo "the image starts in $(pwd), expected ${u.workdir}"; exit 1; }` });
  }
  return checks;
}

/** A check: each variable has exactly its planned value in the built image. */
export function envCheck(env: Target["env"]): SmokeCheck {
  return {
    name: `environment ${env.map((e) => e.name).join(", ")}`,
    script: env.map((e) => `[ "\${${e.name}-<unset>}" = ${shellQuote(e.value)} ] || { echo "${e.name} is '\${${e.name}-<unset>}', expected ${shellQuote(e.value).replaceAll("'", "")}"; exit 1; }`).join("\n"),
  };
}

/**
 * The recipe with the image's customisation appended. An image built on another target starts as
 * root, whoever its parent runs as, since its steps install packages; it runs as the CI user again
 * only when its own ciUser says so. Checks written for root get `user: "root"` when it does.
 */
export function customise(recipe: Recipe, target: Target): Recipe {
  const u = target.ciUser;
  const tail: Step[] = [];
  const checks: SmokeCheck[] = [];
  if (u) {
    const tool = dropToolStep(u);
    if (tool) tail.push(tool);
    tail.push({ op: "run", script: ciUserScript(u) });
    checks.push(...ciUserChecks(u, target.postgres.length > 0));
  }
  tail.push(...target.env.map((e): Step => ({ op: "env", name: e.name, value: e.value })));
  if (target.env.length > 0) checks.push(envCheck(target.env));
  if (u?.workdir !== undefined) tail.push({ op: "workdir", path: u.workdir });
  if (u?.default) tail.push({ op: "user", user: u.name });
  const asRoot = (steps: Step[]): Step[] => (steps[0]?.op === "user" ? steps : [{ op: "user", user: "root" }, ...steps]);
  const onTarget = "target" in recipe.base && target.kind !== "operand";
  return {
    ...recipe,
    artifacts: recipe.artifacts.map((a) => ("target" in a.base ? { ...a, steps: asRoot(a.steps) } : a)),
    steps: [...(onTarget ? asRoot(recipe.steps) : recipe.steps), ...tail],
    smoke: [...(u?.default ? recipe.smoke.map((c) => (c.user ? c : { ...c, user: "root" })) : recipe.smoke), ...checks],
  };
}
