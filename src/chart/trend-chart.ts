import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The digest's chart: requests per week as bars, median time to ready as a line, for the last
 * weeks. Vega-Lite compiles to a Vega spec, Vega renders SVG headless (`renderer: 'none'`, no
 * canvas, no browser), and resvg rasterises it to PNG. Text uses DejaVu Sans from the
 * `dejavu-fonts-ttf` package, loaded explicitly, so the picture is the same on a laptop and in the
 * container, whatever fonts the system has.
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

// Without a canvas Vega guesses text widths at 0.8 em per character, about a third too wide for
// DejaVu Sans, and pads the layout for text that is not there. A per-character estimate from
// DejaVu Sans's advance widths keeps axis titles and labels where they belong. Vega documents
// replacing `textMetrics.width` for this (vega-scenegraph: "User defined textMetrics.width").
const NARROW = new Set([...' .,:;|!\'']);
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
function textWidth(item: { fontSize?: number; fontWeight?: string | number; text?: unknown }, text?: unknown): number {
  const value = String(text ?? item.text ?? '');
  const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600);
  let em = 0;
  for (const c of value) em += charEm(c);
  return em * (item.fontSize ?? 11) * (bold ? 1.08 : 1);
}
const metrics = (vega as unknown as { textMetrics?: { width: unknown } }).textMetrics;
if (metrics) metrics.width = textWidth;

const BAR = '#4C78A8';
// Vega-Lite's compile warnings go to the console otherwise.
const quietLogger = vega.logger(vega.None);
const LINE = '#E45756';

/** The unit that reads best for the largest median: minutes up to 2 h, hours beyond. */
function timeUnit(weeks: readonly ChartWeek[]): { name: string; ms: number } {
  const max = Math.max(0, ...weeks.map((w) => w.medianTimeToReadyMs ?? 0));
  if (max >= 2 * 3_600_000) return { name: 'hours', ms: 3_600_000 };
  if (max >= 2 * 60_000) return { name: 'minutes', ms: 60_000 };
  return { name: 'seconds', ms: 1000 };
}

/** The Vega-Lite spec (pure; the data is inline). */
export function trendChartSpec(weeks: readonly ChartWeek[], title: string, subtitle = ''): TopLevelSpec {
  const unit = timeUnit(weeks);
  // Fixed domains from 0: an all-zero series still gets an axis that reads 0 at the bottom.
  const maxRequests = Math.max(4, ...weeks.map((w) => w.requests));
  const maxReady = Math.max(1, ...weeks.map((w) => (w.medianTimeToReadyMs ?? 0) / unit.ms));
  const values = weeks.map((w, i) => ({
    order: i,
    week: w.label,
    requests: w.requests,
    ready: w.medianTimeToReadyMs === undefined ? null : Math.round((w.medianTimeToReadyMs / unit.ms) * 10) / 10,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 620,
    height: 240,
    padding: { left: 12, right: 12, top: 10, bottom: 8 },
    title: { text: title, subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', offset: 14 },
    data: { values },
    encoding: {
      x: { field: 'week', type: 'ordinal', sort: null, title: null, axis: { labelAngle: 0, labelFontSize: 11 } },
    },
    layer: [
      {
        // Bars and their labels share one scale; the line has its own (resolve below).
        encoding: {
          y: {
            field: 'requests',
            type: 'quantitative',
            title: 'Requests per week (bars)',
            axis: { titleColor: BAR, tickMinStep: 1, format: 'd' },
            scale: { domain: [0, maxRequests], nice: true },
          },
        },
        layer: [
          { mark: { type: 'bar', color: BAR, width: { band: 0.62 }, cornerRadiusTopLeft: 2, cornerRadiusTopRight: 2 } },
          { mark: { type: 'text', dy: -7, fontSize: 10, color: '#333' }, encoding: { text: { field: 'requests', type: 'quantitative' } } },
        ],
      },
      {
        mark: { type: 'line', color: LINE, strokeWidth: 2.5, point: { color: LINE, filled: true, size: 45 } },
        encoding: {
          y: {
            field: 'ready',
            type: 'quantitative',
            title: `Median time to ready, ${unit.name} (line)`,
            axis: { titleColor: LINE, orient: 'right', format: ',~r' },
            scale: { domain: [0, maxReady], nice: true },
          },
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
    config: {
      font: FONT_FAMILY,
      background: 'white',
      view: { stroke: null },
      axis: { labelColor: '#333', titleColor: '#333', gridColor: '#e6e6e6', domainColor: '#999', tickColor: '#999', titleFontWeight: 'normal', titleFontSize: 11 },
    },
  };
}

/** Renders the chart to a PNG at twice the spec's size (crisp on high-density screens). */
export async function renderTrendChart(weeks: readonly ChartWeek[], title: string, subtitle = ''): Promise<Buffer> {
  const svg = await renderSvg(weeks, title, subtitle);
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
  }).render();
  return png.asPng();
}

export async function renderSvg(weeks: readonly ChartWeek[], title: string, subtitle = ''): Promise<string> {
  const spec = compile(trendChartSpec(weeks, title, subtitle), { logger: quietLogger }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
