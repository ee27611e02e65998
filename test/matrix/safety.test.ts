// Paths and repository URLs from the matrix reach COPY and git: which are taken and which refused.
import { describe, expect, it } from "vitest";
import { controlCharacter, DEBIAN_PACKAGE, relativePathProblem, repositoryProblem } from "../../src/matrix/safety.js";

describe("paths relative to matrix.yaml", () => {
  it.each<[string, string | undefined]>([
    ["images/failtester/requirements.txt", undefined],
    ["ext-repo", undefined],
    ["./reqs.txt", undefined],
    ["../reqs.txt", `"../reqs.txt" leaves matrix.yaml's folder; keep it inside that folder`],
    ["a/../../b", `"a/../../b" leaves matrix.yaml's folder; keep it inside that folder`],
    ["/etc/passwd", `"/etc/passwd" is absolute; give a path relative to matrix.yaml's folder`],
    ["a\\..\\b", `"a\\..\\b" contains "\\"; separate folders with "/"`],
    ["--link", `"--link" is not a plain relative path (letters, digits, . _ + - and /; no part may start with "-" or be empty)`],
    ["a b", `"a b" is not a plain relative path (letters, digits, . _ + - and /; no part may start with "-" or be empty)`],
    ["a//b", `"a//b" is not a plain relative path (letters, digits, . _ + - and /; no part may start with "-" or be empty)`],
  ])("%s", (path, problem) => expect(relativePathProblem(path)).toBe(problem));
});

describe("extension repositories", () => {
  it.each<[string, string | undefined]>([
    ["https://github.com/citusdata/citus.git", undefined],
    ["ssh://git@github.com/citusdata/citus.git", undefined],
    ["file:///srv/git/citus", undefined],
    ["ext-repo", undefined],
    ["-uecho", `"-uecho" starts with "-", which git reads as an option; give a URL or a relative path`],
    ["ext::sh", `"ext::sh" is neither a URL with :// nor a path; write ssh://user@host/path`],
    ["fd::7", `"fd::7" is neither a URL with :// nor a path; write ssh://user@host/path`],
    ["foo://x/y", `URL scheme "foo" is not one of https, http, ssh, git, file`],
    ["https://a b", `"https://a b" contains whitespace`],
    ["https://x/\ny", `"https://x/\ny" contains a newline`],
  ])("%s", (repository, problem) => expect(repositoryProblem(repository)).toBe(problem));
});

describe("Debian package names", () => {
  it.each([
    ["postgresql-17", true],
    ["libc++1", true],
    ["g++", true],
    ["x", false],
    ["-oDebug::pkgProblemResolver=1", false],
    ["+x", false],
    ["Upper", false],
  ])("%s: %s", (name, ok) => expect(DEBIAN_PACKAGE.test(name)).toBe(ok));
});

describe("control characters in free text", () => {
  it.each<[string, string | undefined]>([
    ["PostgreSQL server, with “quotes” and $dollars", undefined],
    ["a\nb", "a newline"],
    ["a\rb", "a carriage return"],
    ["a\u001bb", "U+001B"],
    ["a\u2028b", "U+2028"],
  ])("%j", (text, found) => expect(controlCharacter(text)).toBe(found));
});
