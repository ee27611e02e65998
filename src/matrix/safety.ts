// Rules for matrix text that reaches a shell, a Dockerfile or a registry, and for input that
// could mean two things. Each refuses with what to change; nothing is silently cleaned up.
import { KINDS } from "../kinds.js";
import { parsePgVersion } from "../plan/pgversion.js";
import { commonTag, type TemplateOf } from "../plan/tagLanguage.js";
import type { Problem } from "./problems.js";
import type { Matrix } from "./schema.js";

type Rule = (m: Matrix) => Problem[];

// C0 and C1 controls (newline, carriage return, tab, escape) and the Unicode line separators: a
// newline in a label or comment of a Dockerfile starts a new instruction.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The first control character in free text, named as a person reads it, or undefined. */
export function controlCharacter(text: string): string | undefined {
  const c = CONTROL.exec(text)?.[0];
  if (c === undefined) return undefined;
  return ({ "\n": "a newline", "\r": "a carriage return", "\t": "a tab" } as Record<string, string>)[c] ?? `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Debian policy 5.6.1: lower case, digits, + - ., at least two characters, a letter or digit first. */
export const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
/** PEP 508 project names: letters and digits at both ends, . _ - inside. */
const PYTHON_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** Git ref names as `git clone --branch` takes them (a subset of check-ref-format). */
const GIT_REF = /^[A-Za-z0-9_][A-Za-z0-9._/+-]*$/;
const gitRef = (ref: string) => GIT_REF.test(ref) && !ref.includes("..") && !ref.endsWith("/") && !ref.endsWith(".lock");
/** URL schemes git clones over without a remote helper that runs commands. */
const GIT_SCHEMES = ["https", "http", "ssh", "git", "file"];

/**
 * Why a path the matrix names (read from the folder holding matrix.yaml, copied into the build
 * context) is refused, or undefined. Only the text is checked here; readers resolve it inside
 * that folder.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path.startsWith("/")) return `"${path}" is absolute; give a path relative to matrix.yaml's folder`;
  if (path.includes("\\")) return `"${path}" contains "\\"; separate folders with "/"`;
  const segments = path.split("/");
  if (segments.includes("..")) return `"${path}" leaves matrix.yaml's folder; keep it inside that folder`;
  if (!/^[A-Za-z0-9._/+-]+$/.test(path) || segments.some((s) => s === "" || s.startsWith("-"))) {
    return `"${path}" is not a plain relative path (letters, digits, . _ + - and /; no part may start with "-" or be empty)`;
  }
  return undefined;
}

/** Why an extupgradetester repository is refused, or undefined: a git URL or a relative path. */
export function repositoryProblem(repository: string): string | undefined {
  const control = controlCharacter(repository);
  if (control || /\s/.test(repository)) return `"${repository}" contains ${control ?? "whitespace"}`;
  if (repository.startsWith("-")) return `"${repository}" starts with "-", which git reads as an option; give a URL or a relative path`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(repository)?.[1];
  if (scheme !== undefined) {
    if (!GIT_SCHEMES.includes(scheme)) return `URL scheme "${scheme}" is not one of ${GIT_SCHEMES.join(", ")}`;
    return URL.canParse(repository) ? undefined : `"${repository}" is not a valid URL`;
  }
  // scp-like "git@host:path" and remote helpers ("ext::sh -c …") are both "<something>:".
  if (/^[^/]*:/.test(repository)) return `"${repository}" is neither a URL with :// nor a path; write ssh://user@host/path`;
  return relativePathProblem(repository);
}

const freeText: Rule = (m) => {
  const texts: [(string | number)[], string | undefined][] = [
    ...m.images.map((img, i): [(string | number)[], string | undefined] => [["images", i, "description"], img.description]),
    ...m.images.map((img, i): [(string | number)[], string | undefined] => [["images", i, "title"], img.title]),
    ...(["vendor", "authors", "licenses"] as const).map((k): [(string | number)[], string | undefined] => [["metadata", k], m.metadata[k]]),
  ];
  return texts.flatMap(([path, text]) => {
    const c = text === undefined ? undefined : controlCharacter(text);
    return c ? [{ path, message: `contains ${c}; labels and Dockerfiles take one line of text, so write it on one line` }] : [];
  });
};

const packageNames: Rule = (m) => [
  ...Object.entries(m.extensions).flatMap(([name, ext]) => {
    const filled = ext.package.replaceAll("{major}", "17");
    return DEBIAN_PACKAGE.test(filled) && !filled.includes("{")
      ? []
      : [{ path: ["extensions", name, "package"], message: `"${ext.package}" is not a Debian package name (a letter or digit first, then a-z 0-9 + . -; {major} allowed)` }];
  }),
  ...m.images.flatMap((img, i) => [
    ...Object.keys(img.packages ?? {})
      .filter((p) => !DEBIAN_PACKAGE.test(p))
      .map((p) => ({ path: ["images", i, "packages", p], message: `"${p}" is not a Debian package name (a letter or digit first, then a-z 0-9 + . -, two characters or more)` })),
    ...Object.keys(img.python ?? {})
      .filter((p) => !PYTHON_NAME.test(p))
      .map((p) => ({ path: ["images", i, "python", p], message: `"${p}" is not a Python project name (letters or digits at both ends, . _ - inside)` })),
  ]),
];

const pathsAndUrls: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const problems: Problem[] = [];
    const requirements = img.requirements === undefined ? undefined : relativePathProblem(img.requirements);
    if (requirements) problems.push({ path: ["images", i, "requirements"], message: requirements });
    img.sources?.forEach((src, j) => {
      const repository = repositoryProblem(src.repository);
      if (repository) problems.push({ path: ["images", i, "sources", j, "repository"], message: repository });
      if (!gitRef(src.ref)) problems.push({ path: ["images", i, "sources", j, "ref"], message: `"${src.ref}" is not a git tag or branch name (a letter, digit or _ first, then letters, digits and . _ / + -)` });
      const first = img.sources!.findIndex((o) => o.name === src.name);
      if (first < j) problems.push({ path: ["images", i, "sources", j, "name"], message: `"${src.name}" is also sources[${first}]; each tool is built once` });
    });
    if (img.extension) {
      const repository = repositoryProblem(img.extension.repository);
      if (repository) problems.push({ path: ["images", i, "extension", "repository"], message: repository });
      img.extension.versions.forEach((v, j) => {
        if (!gitRef(v.ref)) {
          problems.push({ path: ["images", i, "extension", "versions", j, "ref"], message: `"${v.ref}" is not a git tag or branch name (a letter, digit or _ first, then letters, digits and . _ / + -)` });
        }
      });
    }
    return problems;
  });

// The same value twice in a list gives two identical targets (or steps); say which to remove.
const noRepeats: Rule = (m) => {
  const repeats = (path: (string | number)[], values: readonly unknown[] | undefined, what: (v: unknown) => string): Problem[] =>
    (values ?? []).flatMap((v, j) => {
      const first = values!.findIndex((w) => JSON.stringify(w) === JSON.stringify(v));
      return first < j ? [{ path: [...path, j], message: `${what(v)} is listed twice (also at [${first}]); remove one` }] : [];
    });
  return [
    ...m.distros.flatMap((d, i) => repeats(["distros", i, "pg"], d.pg, (v) => `PostgreSQL ${String(v)}`)),
    ...m.images.flatMap((img, i) => [
      ...repeats(["images", i, "pg"], img.pg, (v) => `PostgreSQL ${String(v)}`),
      ...repeats(["images", i, "distros"], img.distros, (v) => `distro "${String(v)}"`),
      ...repeats(["images", i, "pairs"], img.pairs, (v) => `pair ${JSON.stringify(v)}`),
      ...repeats(["images", i, "extensions"], img.extensions, (v) => `extension "${String(v)}"`),
      ...repeats(["images", i, "tags", "aliases"], img.tags?.aliases, (v) => `alias "${String(v)}"`),
      ...Object.entries(img.tags?.distroAliases ?? {}).flatMap(([distro, aliases]) => [
        ...repeats(["images", i, "tags", "distroAliases", distro], aliases, (v) => `alias "${String(v)}"`),
        ...aliases.flatMap((a, j) =>
          (img.tags?.aliases ?? []).includes(a) ? [{ path: ["images", i, "tags", "distroAliases", distro, j], message: `alias "${a}" is already in tags.aliases, which every distro gets; remove it here` }] : [],
        ),
      ]),
      ...repeats(["images", i, "extension", "versions"], img.extension?.versions.map((v) => v.version ?? v.ref), (v) => `version "${String(v)}"`),
    ]),
  ];
};

// A preview gets no rolling aliases, so it must be declared, and only a preview may be one.
const previewsDeclared: Rule = (m) =>
  m.postgres.flatMap((p, i) => {
    const isPreview = parsePgVersion(p.version)?.stage !== undefined;
    if (isPreview && !p.preview) {
      return [{ path: ["postgres", i, "version"], message: `"${p.version}" is a preview; add preview: true, since previews get no extensions and no rolling aliases unless an image's tags.previewAliases asks for them` }];
    }
    if (!isPreview && p.preview) {
      return [{ path: ["postgres", i, "preview"], message: `"${p.version}" is a final release; remove preview: true, or give the preview's version (such as ${p.major}~beta1)` }];
    }
    return [];
  });

/** An image's testing and release repositories, from its repository name (default: its id). */
export function imageRepositories(registry: Matrix["registry"], name: string): { testing: string; release: string } {
  return { testing: `${registry.testing}/${registry.testingRepository.replaceAll("{repository}", name)}`, release: `${registry.release}/${name}` };
}

/**
 * Why these registry settings may not be used together, or undefined. A testing repository may be
 * a release repository (the-process keeps `-dev-<sha>` beside `-v<sha>` in one), but only where no
 * testing tag can ever equal a release tag or alias written there: a dev tag would otherwise
 * overwrite a release, be pulled as one, or be deleted with it by retention.
 */
export function registriesProblem(m: Pick<Matrix, "registry" | "images" | "distros">): string | undefined {
  const { registry } = m;
  type Written = { id: string; what: string; of: TemplateOf };
  const testing = new Map<string, Written[]>();
  const release = new Map<string, Written[]>();
  const add = (to: Map<string, Written[]>, repo: string, w: Written) => to.set(repo, [...(to.get(repo) ?? []), w]);
  for (const img of m.images) {
    const repos = imageRepositories(registry, img.repository ?? img.id);
    const t = { ...KINDS[img.kind].tags, ...img.tags };
    const distros = [...new Set(img.pairs?.map((p) => p.distro) ?? img.distros ?? m.distros.map((d) => d.name))];
    const fixed = { image: [img.id], distro: distros, ...(img.flavour ? { flavour: [img.flavour] } : {}) };
    add(testing, repos.testing, { id: img.id, what: "testing tag", of: { template: t.testing, fixed } });
    add(release, repos.release, { id: img.id, what: "release tag", of: { template: t.release, fixed } });
    for (const a of [...t.aliases, ...Object.values(t.distroAliases ?? {}).flat()]) add(release, repos.release, { id: img.id, what: "alias", of: { template: a, fixed } });
  }
  for (const [repo, written] of [...testing].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const dev of written) {
      for (const rel of release.get(repo) ?? []) {
        const tag = commonTag(dev.of, rel.of);
        if (tag === undefined) continue;
        const where =
          registry.testing === registry.release && registry.testingRepository === "{repository}"
            ? `testing and release are both "${registry.release}", so "${repo}" holds both kinds of tag`
            : `testing repository "${repo}" is also a release repository`;
        return `${where}, and ${dev.id}'s testing tag "${dev.of.template}" and ${rel.id}'s ${rel.what} "${rel.of.template}" can be the same tag (such as "${tag}"): a dev tag would overwrite a release or be pulled as one; give testing its own prefix, such as ${registry.release}/testing, or make the templates differ by a fixed part, such as {version}-dev-{shortrevision} beside {version}-v{shortrevision}`;
      }
    }
  }
  return undefined;
}

// The name template must name the image's repository, or every image would share one.
const testingRepositoryTemplate: Rule = (m) => {
  const t = m.registry.testingRepository;
  const others = [...t.matchAll(/\{([^}]*)\}/g)].map((x) => x[1]).filter((n) => n !== "repository");
  if (!t.includes("{repository}") || others.length > 0) {
    return [{ path: ["registry", "testingRepository"], message: `"${t}" must contain {repository} and no other placeholder, such as {repository}-testing` }];
  }
  // OCI repository path components: lower-case alphanumerics, single separators inside.
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(t.replaceAll("{repository}", "x"))) {
    return [{ path: ["registry", "testingRepository"], message: `"${t}" does not make a valid repository name (lower-case letters and digits, with . _ - or / only between them)` }];
  }
  return [];
};

const separateRegistries: Rule = (m) => {
  const problem = registriesProblem(m);
  const path = m.registry.testing === m.registry.release && m.registry.testingRepository !== "{repository}" ? ["registry", "testingRepository"] : ["registry", "testing"];
  return problem ? [{ path, message: problem }] : [];
};

// Unique tags must differ between runs, as the defaults do (plan/tags.ts): dev tags carry the
// timestamp (retention reads it) or the revision (the-process's -dev-<sha>, which retention cannot
// date and so keeps), release tags the timestamp or the revision.
const uniqueTagTemplates: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const problems: Problem[] = [];
    const testing = img.tags?.testing;
    if (testing !== undefined && !["{timestamp}", "{revision}", "{shortrevision}"].some((p) => testing.includes(p))) {
      problems.push({
        path: ["images", i, "tags", "testing"],
        message: `"${testing}" has neither {timestamp} nor {revision}: every run would write the same testing tag; add {timestamp} (retention expires dev tags by it) or {shortrevision}`,
      });
    }
    const release = img.tags?.release;
    if (release !== undefined && !["{timestamp}", "{revision}", "{shortrevision}"].some((p) => release.includes(p))) {
      problems.push({ path: ["images", i, "tags", "release"], message: `"${release}" has neither {timestamp} nor {revision}: the next release would need the same unique tag for another digest; add one of them` });
    }
    return problems;
  });

export const SAFETY_RULES: Rule[] = [freeText, packageNames, pathsAndUrls, noRepeats, previewsDeclared, testingRepositoryTemplate, separateRegistries, uniqueTagTemplates];
