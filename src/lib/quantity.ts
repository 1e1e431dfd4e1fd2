/**
 * Kubernetes resource quantities (`500m`, `2`, `4Gi`, `1.5G`) as numbers, and sums of them written
 * back the way people read them. Only the suffixes of
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/ are accepted.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

export interface Quantity {
  value: number;
  /** Written with a power-of-two suffix (memory, storage), so its sum is shown in Gi. */
  binary: boolean;
}

/** The quantity's value in base units, or undefined when it is not a Kubernetes quantity. */
export function parseQuantity(text: string): Quantity | undefined {
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/.exec(text.trim());
  if (!match) return undefined;
  const suffix = match[2] ?? '';
  const binary = Object.hasOwn(BINARY, suffix);
  const factor = binary ? BINARY[suffix] : DECIMAL[suffix];
  return factor === undefined ? undefined : { value: Number(match[1]) * factor, binary };
}

/** `12Gi`, `1.5Gi`, `6`, `0.5`: a sum written with at most two decimals. */
export function formatQuantity(quantity: Quantity): string {
  const round = (n: number) => String(Math.round(n * 100) / 100);
  if (quantity.binary) return quantity.value >= 2 ** 30 ? `${round(quantity.value / 2 ** 30)}Gi` : `${round(quantity.value / 2 ** 20)}Mi`;
  return round(quantity.value);
}

/** Adds resource lists (`requests.cpu: "2"`, …) key by key; values that are not quantities are left out. */
export function sumResources(lists: readonly Readonly<Record<string, string>>[]): Map<string, Quantity> {
  const sums = new Map<string, Quantity>();
  for (const list of lists) {
    for (const [resource, text] of Object.entries(list)) {
      const quantity = parseQuantity(text);
      if (!quantity) continue;
      const sum = sums.get(resource) ?? { value: 0, binary: false };
      sums.set(resource, { value: sum.value + quantity.value, binary: sum.binary || quantity.binary });
    }
  }
  return sums;
}

/** A resource whose use is above a quota's hard limit, and by how much. */
export interface QuotaShortfall {
  resource: string;
  used: string;
  hard: string;
  over: string;
}

/**
 * The resources of `used` (a ResourceQuota's `status.used`) above `hard` (the quota to be), in
 * the order of `hard`. A resource without a hard limit, or a value that is not a quantity, is left out.
 */
export function quotaShortfalls(hard: Readonly<Record<string, string>>, used: Readonly<Record<string, string>>): QuotaShortfall[] {
  const shortfalls: QuotaShortfall[] = [];
  for (const [resource, limit] of Object.entries(hard)) {
    const inUse = Object.hasOwn(used, resource) ? used[resource] : undefined;
    const [h, u] = [parseQuantity(limit), inUse === undefined ? undefined : parseQuantity(inUse)];
    if (!h || !u || inUse === undefined || u.value <= h.value) continue;
    shortfalls.push({ resource, used: inUse, hard: limit, over: formatQuantity({ value: u.value - h.value, binary: h.binary || u.binary }) });
  }
  return shortfalls;
}
