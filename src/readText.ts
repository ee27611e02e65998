// How the plain command reads the matrix and the files it names: never more than a limit, as
// UTF-8, and every failure a sentence the user can act on instead of an errno and a stack.
import { closeSync, openSync, readSync } from "node:fs";

/** At most maxBytes of a file. Throws the system's error (with its code) when it cannot be read. */
export type ReadBytes = (path: string, maxBytes: number) => Uint8Array;

/** Reads in pieces up to the limit, so /dev/zero or a huge file costs the limit and no more. */
export const readBytes: ReadBytes = (path, maxBytes) => {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(maxBytes);
    let length = 0;
    while (length < maxBytes) {
      const got = readSync(fd, buf, length, maxBytes - length, null);
      if (got === 0) break;
      length += got;
    }
    return buf.subarray(0, length);
  } finally {
    closeSync(fd);
  }
};

/**
 * The text of a file, or why there is none: `unreadable` when the path names nothing that can be
 * read (the caller's argument is wrong), `invalid` when the file is there but is not a matrix's
 * text (too large, not UTF-8).
 */
export type TextRead = { ok: true; text: string } | { ok: false; kind: "unreadable" | "invalid"; reason: string };

export function readText(path: string, limit: number, read: ReadBytes = readBytes): TextRead {
  let bytes: Uint8Array;
  try {
    bytes = read(path, limit + 1);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== "string") throw e; // not the system refusing: a fault of ours
    return { ok: false, kind: "unreadable", reason: REASONS[code] ?? `cannot be read (${code})` };
  }
  if (bytes.length > limit) {
    return { ok: false, kind: "invalid", reason: `larger than the limit of ${limit} bytes (${limit / 1024 / 1024} MiB); is this the matrix file?` };
  }
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, kind: "invalid", reason: "not UTF-8 text; save it as UTF-8" };
  }
}

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "is a directory; name the file, such as DIR/matrix.yaml",
  ELOOP: "symbolic links that loop; point the link at a file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a part of the path is a file, not a directory",
  ENAMETOOLONG: "the path is too long",
  EIO: "input/output error while reading",
};
