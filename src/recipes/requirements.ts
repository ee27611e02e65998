// A requirements file split into what pip can check by hash and what it cannot: VCS requirements
// (`name @ git+https://host/path@<commit>`). pip's --require-hashes refuses VCS lines, so they are
// accepted only pinned to a full commit, over https or from a local path, and installed apart with
// --no-deps: nothing they pull in escapes the hashed part. Pure: reads text, runs nothing.

/**
 * A VCS requirement pip may install without a hash: https (or a repository on the build's own
 * filesystem, file:///path), a full 40-hex commit, nothing else. The commit names the content.
 */
const PINNED_VCS = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[A-Za-z0-9._,-]+\])?\s*@\s*)?git\+(?:https:\/\/[A-Za-z0-9.-]+(?::[0-9]+)?|file:\/\/)\/[A-Za-z0-9._~\/-]+@[0-9a-f]{40}(?:#egg=[A-Za-z0-9._-]+)?$/;
/** Any VCS URL pip knows, pinned or not. */
const VCS = /\b(?:git|hg|svn|bzr)\+[a-z]+:/;

export interface SplitRequirements {
  /** VCS requirements: their 1-based line (left out of the hashed part) and the requirement. */
  vcs: { line: number; requirement: string }[];
  /** Why a line is refused, with its 1-based line number. */
  problems: { line: number; message: string }[];
}

export function splitRequirements(text: string): SplitRequirements {
  const out: SplitRequirements = { vcs: [], problems: [] };
  const lines = text.split("\n");
  lines.forEach((raw, n) => {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (!VCS.test(line) || line.startsWith("#")) return;
    const continued = line.endsWith("\\");
    if (line.startsWith("-e") || line.startsWith("--editable")) {
      out.problems.push({ line: n + 1, message: "an editable VCS requirement (-e) is installed from a checkout pip may change; write name @ git+https://…@<commit>" });
    } else if (continued || /--hash/.test(line)) {
      out.problems.push({ line: n + 1, message: "pip cannot check a VCS requirement by hash; write it on one line without --hash, pinned to a full commit" });
    } else if (/@\s*git\+file:/.test(line) && !line.startsWith("git+")) {
      // pip's requirement parser refuses a URL with no host after "name @" and reads it as a path.
      out.problems.push({ line: n + 1, message: "pip reads name @ git+file:///… as a path; write git+file:///path@<40-hex commit>#egg=name" });
    } else if (!PINNED_VCS.test(line)) {
      out.problems.push({
        line: n + 1,
        message: `"${line.length > 100 ? line.slice(0, 99) + "…" : line}" is a VCS requirement not pinned to a commit; write name @ git+https://host/path@<40-hex commit> (a tag or branch can move; every other line needs --hash)`,
      });
    } else {
      out.vcs.push({ line: n + 1, requirement: line });
    }
  });
  return out;
}
