/**
 * Lays `override` over `base`, as a later config file is laid over an earlier one: mappings merge
 * key by key, all the way down; anything else (a list, a scalar, null) in `override` replaces what
 * `base` has there. Neither argument is changed.
 */
export function mergeDocuments(base: unknown, override: unknown): unknown {
  if (!isMapping(base) || !isMapping(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeDocuments(base[key], value);
  return merged;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
