// One order for everything that is hashed, compared or printed for machines: UTF-16 code units,
// the same on every machine. localeCompare follows the process's locale (Estonian puts "z"
// before "t"), so the same matrix would give another plan and input key elsewhere.

export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A comparator ordering values by a string key, code unit by code unit. */
export function byKey<T>(key: (value: T) => string): (a: T, b: T) => number {
  return (a, b) => byCodeUnit(key(a), key(b));
}
