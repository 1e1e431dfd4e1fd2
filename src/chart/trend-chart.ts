import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflate } from 'node:zlib';
import { renderAsync } from '@resvg/resvg-js';
import { scaleBand, scaleLinear, type ScaleLinear } from 'd3-scale';

/**
 * The digest's chart: requests per week as bars, median time to ready as a line on its own right
 * axis, for the last weeks. `trendChartSvg` writes the SVG directly (d3-scale for the band and
 * linear scales, their nice domains and ticks), resvg rasterises it on its own thread and zlib
 * compresses the PNG on the thread pool, so the event loop only pays for building a string and
 * copying pixel rows (a few milliseconds). Text uses DejaVu Sans from the `dejavu-fonts-ttf`
 * package, loaded explicitly, so the picture is the same on a laptop and in the container,
 * whatever fonts the system has.
 */

export interface ChartWeek {
  /** Short label on the x axis, e.g. `Nov 16`. */
  label: string;
  requests: number;
  /** Undefined for a week in which no namespace became ready: the line has a gap there. */
  medianTimeToReadyMs: number | undefined;
}

const FONT_FAMILY = 'DejaVu Sans';
const fontDir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(fontDir, f));

const BAR = '#4C78A8';
const LINE = '#E45756';
const TEXT = '#333';
const GRID = '#e6e6e6';
const AXIS = '#999';

/** The plot area, without axes and titles. */
const WIDTH = 620;
const HEIGHT = 240;
const PADDING = { left: 12, right: 12, top: 10, bottom: 8 };
/** The title block's height: title, subtitle and a 14 px gap above the plot's top edge. */
const TITLE_BLOCK = 43;
/** Below the x axis: tick, padding and the labels' line. */
const X_LABELS_EXTENT = 18;
/** Axis labels sit this far from the axis line (5 px tick, 2 px padding); axis titles 4 px beyond the labels. */
const LABEL_OFFSET = 7;
const TITLE_PADDING = 4;
const AXIS_TITLE_SIZE = 11;
/** Points of the line: filled circles with an area of 45 px². */
const POINT_RADIUS = Math.sqrt(45) / 2;

// Without a text layout engine at hand, widths of axis labels (which place the axis titles and
// the margins) are estimated per character from DejaVu Sans's advance widths.
const NARROW = new Set([..." .,:;|!'"]);
const THIN = new Set([...'iljI']);
const SLIM = new Set([...'ftr()[]-']);
const WIDE = new Set([...'mwMW%']);
function charEm(c: string): number {
  if (THIN.has(c)) return 0.28;
  if (NARROW.has(c)) return 0.32;
  if (SLIM.has(c)) return 0.4;
  if (WIDE.has(c)) return 0.95;
  if (c >= '0' && c <= '9') return 0.64;
  if (c >= 'A' && c <= 'Z') return 0.7;
  return 0.61;
}
function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charEm(c);
  return em * fontSize * (bold ? 1.08 : 1);
}

/** Text and attribute values in the SVG: titles carry user-visible strings. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** Coordinates to three decimals: enough for 2× rendering, short SVG. */
function n(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/** The unit that reads best for the largest median: minutes up to 2 h, hours beyond. */
function timeUnit(weeks: readonly ChartWeek[]): { name: string; ms: number } {
  const max = Math.max(0, ...weeks.map((w) => w.medianTimeToReadyMs ?? 0));
  if (max >= 2 * 3_600_000) return { name: 'hours', ms: 3_600_000 };
  if (max >= 2 * 60_000) return { name: 'minutes', ms: 60_000 };
  return { name: 'seconds', ms: 1000 };
}

/** About one tick per 40 px, fewer if ticks would be closer than `minStep` apart (no 0.5 requests). */
function axisTicks(scale: ScaleLinear<number, number>, format: string, minStep?: number): { value: number; label: string }[] {
  let count = Math.ceil(HEIGHT / 40);
  if (minStep !== undefined) {
    const [lo = 0, hi = 0] = scale.domain();
    count = Math.min(count, Math.floor((hi - lo) / minStep || 1) + 1);
    const step = (c: number): number => {
      const t = scale.ticks(c);
      return t.length > 1 ? t[1]! - t[0]! : Infinity;
    };
    while (count > 1 && step(count) < minStep) count--;
  }
  const label = scale.tickFormat(count, format);
  return scale.ticks(count).map((value) => ({ value, label: label(value) }));
}

/** The chart as an SVG document (pure). */
export function trendChartSvg(weeks: readonly ChartWeek[], title: string, subtitle = ''): string {
  const unit = timeUnit(weeks);
  const ready = weeks.map((w) => (w.medianTimeToReadyMs === undefined ? undefined : Math.round((w.medianTimeToReadyMs / unit.ms) * 10) / 10));

  const x = scaleBand<number>()
    .domain(weeks.map((_, i) => i))
    .range([0, WIDTH])
    .paddingInner(0.1)
    .paddingOuter(0.05);
  // Fixed domains from 0: an all-zero series still gets an axis that reads 0 at the bottom.
  const yRequests = scaleLinear()
    .domain([0, Math.max(4, ...weeks.map((w) => w.requests))])
    .range([HEIGHT, 0])
    .nice();
  const yReady = scaleLinear()
    .domain([0, Math.max(1, ...weeks.map((w) => (w.medianTimeToReadyMs ?? 0) / unit.ms))])
    .range([HEIGHT, 0])
    .nice();
  const requestTicks = axisTicks(yRequests, 'd', 1);
  const readyTicks = axisTicks(yReady, ',~r');
  const center = (i: number): number => (x(i) ?? 0) + x.bandwidth() / 2;

  const leftTitle = 'Requests per week (bars)';
  const rightTitle = `Median time to ready, ${unit.name} (line)`;
  const leftTitleX = LABEL_OFFSET + Math.max(0, ...requestTicks.map((t) => textWidth(t.label, 10))) + TITLE_PADDING;
  const rightTitleX = LABEL_OFFSET + Math.max(0, ...readyTicks.map((t) => textWidth(t.label, 10))) + TITLE_PADDING;
  const left = Math.ceil(PADDING.left + leftTitleX + AXIS_TITLE_SIZE);
  // The title sits above whatever reaches highest: the plot's edge, a top axis label (10 px text
  // centred on its tick) or the count above a full-height bar.
  const contentTop = Math.min(
    0,
    ...requestTicks.map((t) => yRequests(t.value) - 5),
    ...readyTicks.map((t) => yReady(t.value) - 5),
    ...weeks.map((w) => yRequests(w.requests) - 12),
  );
  const titleY = contentTop - TITLE_BLOCK;
  const top = Math.ceil(PADDING.top - titleY);
  const titleX = -(leftTitleX + AXIS_TITLE_SIZE);
  const titleRight = left + titleX + Math.max(textWidth(title, 15, true), textWidth(subtitle, 11)) + PADDING.right;
  const width = Math.ceil(Math.max(left + WIDTH + rightTitleX + AXIS_TITLE_SIZE + PADDING.right, titleRight));
  const height = top + HEIGHT + X_LABELS_EXTENT + PADDING.bottom;
  const font = `font-family="${FONT_FAMILY}"`;
  const out: string[] = [];

  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<g transform="translate(${left},${top})">`);

  // Gridlines of the requests axis, then the axes (lines on half pixels stay crisp).
  out.push(`<g class="grid" stroke="${GRID}">`);
  for (const t of requestTicks)
    out.push(`<line x1="0.5" x2="${WIDTH + 0.5}" y1="${Math.round(yRequests(t.value)) + 0.5}" y2="${Math.round(yRequests(t.value)) + 0.5}"/>`);
  out.push('</g>');

  out.push(`<g class="x-axis" ${font} font-size="11" fill="${TEXT}" text-anchor="middle">`);
  for (let i = 0; i < weeks.length; i++) {
    const tx = Math.round(center(i) - 0.5) + 0.5;
    out.push(`<line x1="${tx}" x2="${tx}" y1="${HEIGHT + 0.5}" y2="${HEIGHT + 5.5}" stroke="${AXIS}"/>`);
    out.push(`<text x="${n(center(i))}" y="${HEIGHT + 16.5}">${escapeXml(weeks[i]!.label)}</text>`);
  }
  out.push(`<line x1="0.5" x2="${WIDTH + 0.5}" y1="${HEIGHT + 0.5}" y2="${HEIGHT + 0.5}" stroke="${AXIS}"/>`);
  out.push('</g>');

  const yAxis = (
    side: 'left' | 'right',
    ticks: { value: number; label: string }[],
    scale: ScaleLinear<number, number>,
    name: string,
    colour: string,
    titleOffset: number,
  ): void => {
    const dir = side === 'left' ? -1 : 1;
    const ax = (side === 'left' ? 0 : WIDTH) + 0.5;
    out.push(`<g class="${side}-axis" ${font} font-size="10" fill="${TEXT}" text-anchor="${side === 'left' ? 'end' : 'start'}">`);
    for (const t of ticks) {
      const ty = Math.round(scale(t.value)) + 0.5;
      out.push(`<line x1="${ax}" x2="${ax + 5 * dir}" y1="${ty}" y2="${ty}" stroke="${AXIS}"/>`);
      out.push(`<text x="${ax + LABEL_OFFSET * dir}" y="${n(scale(t.value) + 3.5)}">${escapeXml(t.label)}</text>`);
    }
    out.push(`<line x1="${ax}" x2="${ax}" y1="0.5" y2="${HEIGHT + 0.5}" stroke="${AXIS}"/>`);
    out.push(
      `<text class="axis-title" text-anchor="middle" font-size="${AXIS_TITLE_SIZE}" fill="${colour}" ` +
        `transform="translate(${n(ax + titleOffset * dir)},${HEIGHT / 2 + 0.5}) rotate(${90 * dir}) translate(0,-2)">${escapeXml(name)}</text>`,
    );
    out.push('</g>');
  };
  yAxis('left', requestTicks, yRequests, leftTitle, BAR, leftTitleX);
  yAxis('right', readyTicks, yReady, rightTitle, LINE, rightTitleX);

  // Bars with rounded top corners, each labelled with its count just above it.
  const barWidth = x.bandwidth() * 0.62;
  out.push(`<g class="bars" fill="${BAR}">`);
  weeks.forEach((w, i) => {
    const x0 = center(i) - barWidth / 2;
    const x1 = x0 + barWidth;
    const y0 = yRequests(w.requests);
    const r = Math.min(2, HEIGHT - y0, barWidth / 2);
    out.push(
      `<path class="bar" d="M${n(x0)},${HEIGHT}V${n(y0 + r)}A${n(r)},${n(r)},0,0,1,${n(x0 + r)},${n(y0)}` +
        `H${n(x1 - r)}A${n(r)},${n(r)},0,0,1,${n(x1)},${n(y0 + r)}V${HEIGHT}Z"/>`,
    );
  });
  out.push('</g>');
  out.push(`<g class="bar-labels" ${font} font-size="10" fill="${TEXT}" text-anchor="middle">`);
  weeks.forEach((w, i) => out.push(`<text x="${n(center(i))}" y="${n(yRequests(w.requests) - 4)}">${w.requests}</text>`));
  out.push('</g>');

  // The line breaks at a week without a median (a new subpath), and every median gets a point.
  let d = '';
  let drawing = false;
  ready.forEach((v, i) => {
    if (v === undefined) {
      drawing = false;
      return;
    }
    d += `${drawing ? 'L' : 'M'}${n(center(i))},${n(yReady(v))}`;
    drawing = true;
  });
  if (d) out.push(`<path class="line" d="${d}" fill="none" stroke="${LINE}" stroke-width="2.5"/>`);
  out.push(`<g class="points" fill="${LINE}">`);
  ready.forEach((v, i) => {
    if (v !== undefined) out.push(`<circle cx="${n(center(i))}" cy="${n(yReady(v))}" r="${n(POINT_RADIUS)}"/>`);
  });
  out.push('</g>');

  out.push(`<g class="title" ${font} transform="translate(${n(titleX)},${n(titleY)})">`);
  out.push(`<text y="12" font-size="15" font-weight="bold" fill="#000">${escapeXml(title)}</text>`);
  if (subtitle) out.push(`<text y="27" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`);
  out.push('</g>');

  out.push('</g></svg>');
  return out.join('');
}

/**
 * Renders the chart to a PNG at twice the SVG's size (crisp on high-density screens). resvg parses
 * the fonts and rasterises on its own thread (`renderAsync`); its PNG encoder would run on the
 * event loop (about 15 ms), so the pixels are compressed by zlib on libuv's thread pool instead.
 */
export async function renderTrendChart(weeks: readonly ChartWeek[], title: string, subtitle = ''): Promise<Buffer> {
  const image = await renderAsync(trendChartSvg(weeks, title, subtitle), {
    fitTo: { mode: 'zoom', value: 2 },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
  });
  return encodePng(image.pixels, image.width, image.height);
}

const deflateAsync = promisify(deflate);

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * An 8-bit RGBA PNG of resvg's pixels. resvg hands out premultiplied alpha, which equals straight
 * alpha here because the SVG's white background makes every pixel opaque. Rows go unfiltered
 * (filter byte 0): flat chart colours compress to about the size resvg's own encoder produces.
 */
async function encodePng(pixels: Buffer, width: number, height: number): Promise<Buffer> {
  const stride = width * 4;
  const rows = Buffer.allocUnsafe(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    rows[y * (stride + 1)] = 0;
    pixels.copy(rows, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', await deflateAsync(rows, { level: 1 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
