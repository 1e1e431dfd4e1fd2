import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { goldenPathObjects, type GoldenPath } from '../../cluster/manifests.ts';

/**
 * Drift: how a namespace's live objects differ from what the golden path renders today. Pure:
 * the scan lists the objects, this module only compares them.
 *
 * - `edited`: the live value was last set by a field manager other than Slipway's (someone ran
 *   `kubectl edit`, a patch, another controller), or an object Slipway made is gone.
 * - `outdated`: Slipway's own value differs from today's render, or the field is not there at all:
 *   the config changed since the namespace was provisioned (a removed field leaves no owner in
 *   `managedFields`, so a field someone deleted by hand also counts here).
 */
export type DriftKind = 'edited' | 'outdated';

export interface Difference {
  namespace: string;
  /** `ResourceQuota/slipway-quota`. */
  object: string;
  /** `spec.hard[requests.cpu]`; `(object)` when the whole object is missing or unexpected. */
  field: string;
  live: string | undefined;
  expected: string | undefined;
  /** The field manager that last set the live value, from `managedFields`. */
  manager: string | undefined;
  kind: DriftKind;
}

/** A live object as listed, in client-node's model form (`_from`, `_default` for keyword fields). */
export type LiveObject = KubernetesObject & Record<string, unknown>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly string[];

function isMap(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys sorted and named as on the wire, so equal content compares and prints the same. */
function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isMap(value)) return value;
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort((a, b) => wireName(a).localeCompare(wireName(b)))) {
    const item = value[key];
    if (item !== undefined) out[wireName(key)] = canonical(item);
  }
  return out;
}

/** Plain JSON: drops the `undefined` members model classes carry and turns dates into strings. */
function plain(value: unknown): Json | undefined {
  return value === undefined ? undefined : canonical(JSON.parse(JSON.stringify(value)) as Json);
}

function same(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Keyword fields are renamed in client-node's models; managedFields uses the API's names. */
function wireName(segment: string): string {
  return segment === '_from' || segment === '_default' || segment === '_continue' ? segment.slice(1) : segment;
}

function formatField(path: Path): string {
  return path.map((s, i) => (/[./]/.test(s) ? `[${s}]` : i === 0 ? wireName(s) : `.${wireName(s)}`)).join('');
}

function show(value: Json | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `f:spec` → `f:hard` → `f:requests.cpu`: does this FieldsV1 tree hold the path or anything below it? */
function holds(fields: unknown, path: Path): boolean {
  let node: unknown = fields;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[`f:${wireName(segment)}`];
  }
  return typeof node === 'object' && node !== null;
}

/** Who set a field: another manager first (a hand edit on top of Slipway's apply is what matters). */
function ownerOf(entries: readonly V1ManagedFieldsEntry[], path: Path, slipway: string): string | undefined {
  const owners = entries.filter((e) => holds(e.fieldsV1, path)).map((e) => e.manager ?? '');
  return owners.find((m) => m !== slipway) ?? owners[0];
}

interface Walk {
  namespace: string;
  object: string;
  entries: readonly V1ManagedFieldsEntry[];
  slipway: string;
  out: Difference[];
}

function record(w: Walk, path: Path, live: Json | undefined, expected: Json | undefined): void {
  const manager = ownerOf(w.entries, path, w.slipway);
  const kind: DriftKind = manager !== undefined && manager !== w.slipway ? 'edited' : 'outdated';
  w.out.push({ namespace: w.namespace, object: w.object, field: formatField(path), live: show(live), expected: show(expected), manager, kind });
}

/**
 * Compares maps key by key, lists whole (the golden path's lists are atomic to the server too).
 * With `onlyExpected`, keys the render does not set are left alone (labels others add are theirs).
 */
function compare(w: Walk, path: Path, live: Json | undefined, expected: Json | undefined, onlyExpected: boolean): void {
  if (isMap(live) && isMap(expected)) {
    const keys = new Set([...Object.keys(expected), ...(onlyExpected ? [] : Object.keys(live))]);
    for (const key of [...keys].sort()) compare(w, [...path, key], live[key], expected[key], onlyExpected);
  } else if (!same(live, expected)) {
    record(w, path, live, expected);
  }
}

/** What is compared on each object: metadata labels and annotations Slipway sets, and the content. */
const CONTENT = ['spec', 'roleRef', 'subjects'] as const;

/**
 * `onlyExpected`: labels and annotations the expected object does not name are left alone (the
 * render against live); without it every key counts (live against what the server would make of it).
 */
function compareObject(w: Walk, live: LiveObject, expected: KubernetesObject, onlyExpected = true): void {
  const liveMeta = plain(live.metadata);
  const expectedMeta = plain(expected.metadata);
  for (const key of ['labels', 'annotations']) {
    const want = isMap(expectedMeta) ? expectedMeta[key] : undefined;
    if (want === undefined && onlyExpected) continue;
    compare(w, ['metadata', key], (isMap(liveMeta) ? liveMeta[key] : undefined) ?? {}, want ?? {}, onlyExpected);
  }
  const exp = expected as KubernetesObject & Record<string, unknown>;
  for (const key of CONTENT) {
    // The server's own content (a namespace's spec.finalizers) is not the golden path's.
    if (exp[key] === undefined) continue;
    compare(w, [key], plain(live[key]), plain(exp[key]), false);
  }
}

function objectKey(obj: KubernetesObject): string {
  return `${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * Every difference between one namespace's live objects (the namespace itself and the objects
 * in it labelled managed-by slipway) and today's render of its golden path.
 */
export function compareNamespace(expected: GoldenPath, live: readonly LiveObject[], slipway: string): Difference[] {
  const namespace = expected.namespace.metadata?.name ?? '';
  const byKey = new Map(live.map((obj) => [objectKey(obj), obj]));
  const out: Difference[] = [];
  const wanted = goldenPathObjects(expected);
  for (const obj of wanted) {
    const key = objectKey(obj);
    const found = byKey.get(key);
    const w: Walk = { namespace, object: key, entries: found?.metadata?.managedFields ?? [], slipway, out };
    if (found) compareObject(w, found, obj);
    else out.push({ namespace, object: key, field: '(object)', live: 'missing', expected: 'present', manager: undefined, kind: 'edited' });
  }
  const wantedKeys = new Set(wanted.map(objectKey));
  for (const obj of live) {
    const key = objectKey(obj);
    if (wantedKeys.has(key)) continue;
    const manager = ownerOf(obj.metadata?.managedFields ?? [], ['metadata', 'labels'], slipway);
    out.push({ namespace, object: key, field: '(object)', live: 'present', expected: 'absent', manager, kind: 'outdated' });
  }
  return out;
}

/**
 * What applying would change, object by object: `live` as the objects stand, `after` as the
 * server's dry run of the apply returned them (defaults and other managers' fields included, so
 * only real changes show). `expected` is the value after the apply, `manager` who set the live one.
 */
export function appliedChanges(live: readonly (LiveObject | undefined)[], after: readonly LiveObject[], slipway: string): Difference[] {
  const out: Difference[] = [];
  after.forEach((obj, i) => {
    const namespace = (obj.kind === 'Namespace' ? obj.metadata?.name : obj.metadata?.namespace) ?? '';
    const key = objectKey(obj);
    const before = live[i];
    if (!before) {
      out.push({ namespace, object: key, field: '(object)', live: 'missing', expected: 'present', manager: undefined, kind: 'edited' });
      return;
    }
    compareObject({ namespace, object: key, entries: before.metadata?.managedFields ?? [], slipway, out }, before, obj, false);
  });
  return out;
}
