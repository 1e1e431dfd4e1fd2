import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTrendChart, trendChartSvg, type ChartWeek } from '../../src/chart/trend-chart.ts';

const M = 60_000;
const H = 3_600_000;
const LABELS = ['Oct 13', 'Oct 20', 'Oct 27', 'Nov 3', 'Nov 10', 'Nov 17', 'Nov 24', 'Dec 1'];

function weeks(requests: number[], medians: (number | undefined)[]): ChartWeek[] {
  return LABELS.map((label, i) => ({ label, requests: requests[i] ?? 0, medianTimeToReadyMs: medians[i] }));
}

/** Each bar's height in pixels, read from its path (`M x,bottom V … A … x,top H …`). */
function barHeights(svg: string): number[] {
  return [...svg.matchAll(/<path class="bar" d="M[\d.]+,([\d.]+)V[\d.]+A[\d.]+,[\d.]+,0,0,1,[\d.]+,([\d.]+)H/g)].map((m) => Number(m[1]) - Number(m[2]));
}

function texts(svg: string, group: string): string[] {
  const body = new RegExp(`<g class="${group}"[^>]*>(.*?)</g>`).exec(svg)?.[1] ?? '';
  return [...body.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? '');
}

test('one bar per week, as tall as its requests on the left axis, each labelled with its count', async () => {
  const requests = [3, 7, 12, 0, 9, 15, 11, 6];
  const svg = trendChartSvg(weeks(requests, []), 'Adoption');
  const heights = barHeights(svg);
  assert.equal(heights.length, 8);
  // The axis is niced to 0–16 over 240 px: 15 px per request.
  heights.forEach((h, i) => assert.ok(Math.abs(h - requests[i]! * 15) < 0.01, `bar ${i}: ${h} px for ${requests[i]} requests`));
  assert.deepEqual(texts(svg, 'bar-labels'), requests.map(String));
  assert.deepEqual(texts(svg, 'x-axis'), LABELS);
  // Whole requests only on the axis, even when the counts are small.
  assert.deepEqual(texts(trendChartSvg(weeks([1, 2], []), 'Adoption'), 'left-axis').slice(0, -1), ['0', '1', '2', '3', '4']);
});

test('the line breaks at a week in which nothing became ready, and has a point for every other week', async () => {
  const svg = trendChartSvg(weeks([3, 7, 12, 0, 9, 15, 11, 6], [4.5 * M, 6 * M, 3.2 * M, undefined, 8 * M, 5.5 * M, 12.3 * M, 7 * M]), 'Adoption');
  const d = /<path class="line" d="([^"]*)"/.exec(svg)?.[1] ?? '';
  const runs = d
    .split('M')
    .filter(Boolean)
    .map((run) => run.split('L').length);
  assert.deepEqual(runs, [3, 4], 'weeks 1–3, a gap, weeks 5–8');
  assert.equal([...svg.matchAll(/<circle /g)].length, 7);
  assert.match(svg, />Median time to ready, minutes \(line\)</);
});

test('the time axis switches to hours when a median reaches two hours, and to seconds below two minutes', async () => {
  const hours = trendChartSvg(weeks([1, 2, 0, 4], [3 * H, 26 * H, undefined, 5.5 * H]), 'Adoption');
  assert.match(hours, />Median time to ready, hours \(line\)</);
  assert.deepEqual(texts(hours, 'right-axis').slice(0, -1), ['0', '5', '10', '15', '20', '25']);
  // 0–26 h over 240 px: each point at its median in hours.
  const ys = [...hours.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    ys,
    [3, 26, 5.5].map((h) => Math.round((240 - (h / 26) * 240) * 1000) / 1000),
  );
  const seconds = trendChartSvg(weeks([1], [40_000]), 'Adoption');
  assert.match(seconds, />Median time to ready, seconds \(line\)</);
});

test('titles are escaped into the SVG', async () => {
  const svg = trendChartSvg(weeks([1], []), 'Team <script>& "co"', "it's <b>");
  assert.match(svg, />Team &lt;script&gt;&amp; &quot;co&quot;</);
  assert.match(svg, />it&apos;s &lt;b&gt;</);
  assert.doesNotMatch(svg, /<script>|<b>/);
});

test('renderTrendChart returns a PNG at twice the SVG size', async () => {
  const svg = trendChartSvg(weeks([3, 7], [4 * M, undefined]), 'Adoption', 'Weeks start on Monday');
  const [, width, height] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
  const png = await renderTrendChart(weeks([3, 7], [4 * M, undefined]), 'Adoption', 'Weeks start on Monday');
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  assert.equal(png.readUInt32BE(16), 2 * Number(width));
  assert.equal(png.readUInt32BE(20), 2 * Number(height));
  assert.ok(png.readUInt32BE(16) > 1240, 'the 620 px plot and its axes, at 2×');
});
