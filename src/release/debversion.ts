// Debian version ordering (epoch:upstream-revision, "~" before everything), as dpkg compares.

export function compareDebianVersions(a: string, b: string): number {
  const [ea, ua, ra] = split(a);
  const [eb, ub, rb] = split(b);
  return Math.sign(ea - eb) || comparePart(ua, ub) || comparePart(ra, rb);
}

function split(v: string): [number, string, string] {
  const colon = v.indexOf(":");
  const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0;
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf("-");
  return dash >= 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ""];
}

// Letters sort before non-letters; "~" before anything, even the end of the string.
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === "~") return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit run, character by character.
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const ca = i < a.length && !isDigit(a[i]!) ? a[i] : undefined;
      const cb = j < b.length && !isDigit(b[j]!) ? b[j] : undefined;
      const diff = order(ca) - order(cb);
      if (diff !== 0) return Math.sign(diff);
      if (ca !== undefined) i++;
      if (cb !== undefined) j++;
    }
    // Digit run, numerically.
    let na = "";
    let nb = "";
    while (i < a.length && isDigit(a[i]!)) na += a[i++];
    while (j < b.length && isDigit(b[j]!)) nb += b[j++];
    const diff = Number(na || "0") - Number(nb || "0");
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}
