// Rules for what an image adds to its kind's defaults: environment variables, a CI user, default
// packages it removes, where an upgrade tester puts its tarballs. Each value reaches a shell or a
// Dockerfile, so each is checked against its grammar and refused with what to change.
import { KINDS } from "../kinds.js";
import { ENV_PLACEHOLDERS, envPlaceholders, placeholdersIn } from "../plan/env.js";
import { known, type Problem } from "./problems.js";
import { controlCharacter } from "./safety.js";
import { DEBIAN_RELEASES } from "./sources.js";
import type { Matrix } from "./schema.js";

type Rule = (m: Matrix) => Problem[];

/** Variables the recipes set themselves; an image's value would silently break them. */
const RESERVED_ENV = ["PATH"];
/** An absolute path of plain characters, no "..", no empty or "-"-led segment. */
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._+-]+)+\/?$/;
/** The placeholders a tarball path may use. */
export const TARBALL_PLACEHOLDERS = ["major", "name", "ref", "version"] as const;

/** Why an absolute path the matrix names is refused, or undefined. */
export function absolutePathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return `"${path}" is not absolute; give a path starting with /`;
  const segments = path.split("/").slice(1).filter((s, i, all) => s !== "" || i < all.length - 1);
  if (!ABSOLUTE_PATH.test(path) || segments.some((s) => s === "." || s === ".." || s.startsWith("-"))) {
    return `"${path}" is not a plain absolute path (letters, digits, . _ + - between /; no . or .. part, none starting with -)`;
  }
  return undefined;
}

const env: Rule = (m) =>
  m.images.flatMap((img, i) =>
    Object.entries(img.env ?? {}).flatMap(([name, value]): Problem[] => {
      const at = ["images", i, "env", name];
      if (RESERVED_ENV.includes(name)) return [{ path: at, message: `${name} is set by the ${img.kind} recipe; choose another name` }];
      if (value === null) {
        return name in KINDS[img.kind].env
          ? []
          : [{ path: at, message: `null removes a default variable, and ${img.kind} has no ${name}; ${known(Object.keys(KINDS[img.kind].env))}` }];
      }
      const c = controlCharacter(value);
      if (c) return [{ path: at, message: `contains ${c}; an environment variable here takes one line of text` }];
      const bad = /[$\\"`]/.exec(value)?.[0];
      if (bad) return [{ path: at, message: `contains ${bad}, which a Dockerfile's ENV would expand or unquote and Dagger would not; write the value without $ \\ " and \`` }];
      const allowed: readonly string[] = envPlaceholders(img.kind);
      return placeholdersIn(value)
        .filter((p) => !allowed.includes(p))
        .map((p) => ({
          path: at,
          message: (ENV_PLACEHOLDERS as readonly string[]).includes(p)
            ? `{${p}} means nothing for kind ${img.kind}; ${allowed.length > 0 ? known(allowed.map((a) => `{${a}}`)) : "it takes no placeholders"}`
            : `unknown placeholder {${p}}; ${allowed.length > 0 ? known(allowed.map((a) => `{${a}}`)) : `kind ${img.kind} takes no placeholders`}`,
        }));
    }),
  );

// null in packages removes one of the kind's defaults; anywhere else it would be a silent no-op.
const removedPackages: Rule = (m) =>
  m.images.flatMap((img, i) =>
    Object.entries(img.packages ?? {})
      .filter(([name, version]) => version === null && !KINDS[img.kind].packages.includes(name))
      .map(([name]) => ({
        path: ["images", i, "packages", name],
        message: `null removes a default package, and ${name} is not one of kind ${img.kind}'s (${KINDS[img.kind].packages.join(", ") || "it has none"}); remove the key`,
      })),
  );

const ciUser: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const u = img.ciUser;
    if (!u) return [];
    const at = (...rest: (string | number)[]) => ["images", i, "ciUser", ...rest];
    const paths: [(string | number)[], string | undefined][] = [
      [at("home"), u.home],
      [at("shell"), u.shell],
      [at("workdir"), u.workdir],
      ...u.owns.map((p, j): [(string | number)[], string] => [at("owns", j), p]),
    ];
    const problems: Problem[] = paths.flatMap(([path, value]) => {
      if (value !== undefined && /^\/+$/.test(value)) return [{ path, message: `"${value}" is the root directory; name the directory itself` }];
      const bad = value === undefined ? undefined : absolutePathProblem(value);
      return bad ? [{ path, message: bad }] : [];
    });
    if (u.name === "root" || u.name === "postgres") {
      problems.push({ path: at("name"), message: `"${u.name}" is not a CI user of its own (root runs the build, postgres owns the server's files); choose another name, such as ci` });
    }
    return problems;
  });

const tarballs: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const list = img.extension?.tarballs;
    if (!list) return [];
    const at = (...rest: (string | number)[]) => ["images", i, "extension", "tarballs", ...rest];
    const problems: Problem[] = [];
    list.forEach((t, j) => {
      const unknownNames = placeholdersIn(t.path).filter((p) => !(TARBALL_PLACEHOLDERS as readonly string[]).includes(p));
      unknownNames.forEach((p) => problems.push({ path: at(j, "path"), message: `unknown placeholder {${p}}; ${known(TARBALL_PLACEHOLDERS.map((x) => `{${x}}`))}` }));
      const filled = t.path.replace(/\{[^}]*\}/g, "x");
      const bad = absolutePathProblem(filled);
      if (unknownNames.length === 0 && bad) problems.push({ path: at(j, "path"), message: `${bad.replace(`"${filled}"`, `"${t.path}"`)} ({major} {name} {ref} {version} allowed)` });
      if (!t.path.endsWith(".tar")) problems.push({ path: at(j, "path"), message: `"${t.path}" does not end in .tar; the tarball is an uncompressed tar, so name it so` });
      if (!t.path.includes("{ref}") && !t.path.includes("{version}") && (img.extension?.versions.length ?? 0) > 1) {
        problems.push({ path: at(j, "path"), message: `"${t.path}" has neither {ref} nor {version}, so every older version would write the same file; add one of them` });
      }
      if (t.only !== undefined && !/^[A-Za-z0-9*?._+-]+$/.test(t.only)) {
        problems.push({ path: at(j, "only"), message: `"${t.only}" is not a file-name glob (letters, digits, * ? . _ + -; matched against each file's name)` });
      }
      const first = list.findIndex((o) => o.path === t.path);
      if (first < j) problems.push({ path: at(j, "path"), message: `"${t.path}" is also tarballs[${first}]; give each tarball its own path` });
    });
    if (list.every((t) => t.only !== undefined)) {
      problems.push({ path: at(), message: "every tarball has only: the upgrade check installs an older version from a tarball that holds all its files; add one without only" });
    }
    return problems;
  });

// A Python from the archive must be the one the release carries; another comes with the base image.
const interpreter: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const want = img.interpreter;
    if (!want || want.source !== "apt") return [];
    const distros = [...new Set(img.pairs?.map((p) => p.distro) ?? img.distros ?? m.distros.map((d) => d.name))];
    return distros.flatMap((d) => {
      const has = DEBIAN_RELEASES[d]?.python;
      if (has === undefined || has === want.version) return [];
      return [{
        path: ["images", i, "interpreter", "version"],
        message: `Python ${want.version} is not in ${d}'s archive (it has ${has}); give ${has}, or a distro whose base image has ${want.version} (such as python:${want.version}-slim-${d}, pinned by digest) and interpreter.source: image`,
      }];
    });
  });

// Python tools are installed only from a hash-pinned file; the map names what to check.
const stylecheckerPython: Rule = (m) =>
  m.images.flatMap((img, i) =>
    img.kind === "stylechecker" && img.python !== undefined && img.requirements === undefined
      ? [{ path: ["images", i, "python"], message: "these tools are installed from a hash-pinned requirements file; add requirements: (pip-compile --generate-hashes) listing each as name==version" }]
      : [],
  );

// Debian's archive keeps -dbgsym packages in a separate debug archive, which no recipe configures.
const debugSymbols: Rule = (m) =>
  m.packageSource === "pgdg"
    ? []
    : m.images.flatMap((img, i) =>
        img.debugSymbols
          ? [{ path: ["images", i, "debugSymbols"], message: `package source "${m.packageSource}" has no -dbgsym packages (Debian keeps them in a separate debug archive); remove debugSymbols or use packageSource pgdg` }]
          : [],
      );

export const CUSTOM_RULES: Rule[] = [env, removedPackages, ciUser, tarballs, interpreter, stylecheckerPython, debugSymbols];
