// The benchmarks' tables: fixed-width columns, one header line, one line per row.

/** `value` right-aligned in `width` characters. */
export const pad = (value: string | number, width: number) => String(value).padStart(width);

/** `n` with `digits` decimals, or '-' when it was not measured (NaN, Infinity). */
export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** A column's title and width: a positive width aligns right, a negative one left. */
export type Column = readonly [title: string, width: number];

/** Lays out `columns`, joined by `separator`: `header` is the titles' line, `row(cells)` one row's. */
export function table(columns: readonly Column[], separator = ''): { header: string; row: (cells: readonly (string | number)[]) => string } {
  const line = (cells: readonly (string | number)[]) =>
    columns.map(([, width], i) => (width < 0 ? String(cells[i] ?? '').padEnd(-width) : pad(cells[i] ?? '', width))).join(separator);
  return { header: line(columns.map(([title]) => title)), row: line };
}
