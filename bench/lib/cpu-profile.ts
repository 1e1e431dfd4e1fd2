// A V8 CPU profile of this process over part of a benchmark, and a summary of where its time went.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fmt, pad } from './table.ts';

/**
 * Starts V8's CPU profiler in this process. The returned function stops it, writes the profile to
 * `file` (open it in Chrome DevTools) and returns the lines of a summary, headed as the profile of `what`.
 */
export async function startCpuProfile(file: string, what: string): Promise<() => Promise<string[]>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return profileSummary(profile, file, what);
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Where a V8 CPU profile's time went. Each sample goes to the nearest frame on its stack that
 * belongs to someone: Slipway (src/ and the libraries it calls), the emulators, or the bench's
 * driver; frames with no such caller (socket and parser callbacks, GC) stay "Node, unattributed".
 */
function profileSummary(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }, file: string, what: string): string[] {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const SLIPWAY_LIBS = /\/node_modules\/(@slack\/(bolt|web-api|socket-mode|oauth)|@kubernetes\/client-node|better-sqlite3|pino[^/]*|p-queue|p-retry|zod)\//;
  const ownerOf = (url: string, name: string): string | undefined => {
    if (name === '(garbage collector)') return 'garbage collector';
    if (name === '(idle)' || name === '(program)') return name;
    if (url.startsWith('node:inspector')) return '(profiler)';
    if (url.includes('/test/emulators/')) return 'emulators (test/emulators + what they call)';
    if (url.includes('/src/') || SLIPWAY_LIBS.test(url)) return 'Slipway (src/ + its libraries)';
    if (url.includes('/bench/') || url.includes('/test/support/')) return 'bench driver (signing, polling)';
    return undefined;
  };
  const owners = new Map<number, string>();
  const owner = (id: number): string => {
    const known = owners.get(id);
    if (known) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const found =
      (node && ownerOf(node.callFrame.url, node.callFrame.functionName)) ?? (up === undefined ? 'Node, unattributed (sockets, parsers, timers)' : owner(up));
    owners.set(id, found);
    return found;
  };
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const slipwayBy = new Map<string, number>();
  const { samples = [], timeDeltas = [] } = profile;
  let busy = 0;
  samples.forEach((id, i) => {
    const ms = (timeDeltas[i] ?? 0) / 1000;
    const who = owner(id);
    if (who === '(profiler)') return;
    byOwner.set(who, (byOwner.get(who) ?? 0) + ms);
    const frame = byId.get(id)?.callFrame;
    if (who.startsWith('Slipway')) {
      // The nearest Slipway frame on the stack names the package (or src/ file) the time is spent for.
      let up: number | undefined = id;
      let area = '';
      while (up !== undefined && !area) {
        const url = byId.get(up)?.callFrame.url ?? '';
        area = /\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? (url.includes('/src/') ? `src/${url.split('/src/')[1] ?? ''}` : '');
        if (area && !area.startsWith('src/') && !SLIPWAY_LIBS.test(url)) area = '';
        up = parent.get(up);
      }
      slipwayBy.set(area || '?', (slipwayBy.get(area || '?') ?? 0) + ms);
    }
    const where = frame?.url ? `${frame.url.replace(/^.*\/(node_modules|src|test|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '(native)';
    const fn = `${frame?.functionName || '(anonymous)'} ${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    if (who !== '(idle)') busy += ms;
  });
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `\nCPU profile of ${what} (${file}; the profiler slows the run): ${fmt(busy, 0)} ms busy. Self time by owner (nearest owning caller):`,
    ...top(byOwner, 10).map(([who, ms]) => `  ${pad(fmt(ms, 0), 7)} ms ${pad(fmt((100 * ms) / busy, 0), 3)}%  ${who}`),
    `Slipway's share by package / file: ${top(slipwayBy, 8)
      .map(([area, ms]) => `${area} ${fmt(ms, 0)}`)
      .join(', ')} (ms)`,
    'Top functions by self time:',
    ...top(byFunction, 12).map(([fn, ms]) => `  ${pad(fmt(ms, 0), 7)} ms  ${fn}`),
  ];
}
