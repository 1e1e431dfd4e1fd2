/**
 * Survey statistics: the one place they are defined (docs/metrics.md, "Surveys"). Pure
 * functions of counts; nothing here knows who answered.
 */

/** How many answers gave each score, index 0 = score 1 … index 4 = score 5. */
export type Distribution = [number, number, number, number, number];

export interface ScoreSummary {
  /** Answers counted. */
  n: number;
  /** At least the configured minimum: only then is anything but `n` shown. */
  enough: boolean;
  distribution: Distribution;
  mean: number | undefined;
  /** Sample standard deviation (n − 1). */
  sd: number | undefined;
  /** The 95% t-interval of the mean: mean ± t(0.975, n − 1) · sd / √n. Needs n ≥ 2. */
  ci: { low: number; high: number } | undefined;
  /** Share of answers that are 4 or 5. */
  topTwo: number | undefined;
}

export function emptyDistribution(): Distribution {
  return [0, 0, 0, 0, 0];
}

export function distributionOf(scores: readonly number[]): Distribution {
  const d = emptyDistribution();
  for (const s of scores) if (Number.isInteger(s) && s >= 1 && s <= 5) d[s - 1] = (d[s - 1] ?? 0) + 1;
  return d;
}

/**
 * Summarises 1-5 answers. Below `minAnswers` the summary holds only the count: the figures are
 * not computed, so they cannot be shown by mistake.
 */
export function summarize(distribution: Readonly<Distribution>, minAnswers: number): ScoreSummary {
  const d: Distribution = [...distribution] as Distribution;
  const n = d.reduce((a, b) => a + b, 0);
  const enough = n >= minAnswers && n > 0;
  if (!enough) return { n, enough, distribution: emptyDistribution(), mean: undefined, sd: undefined, ci: undefined, topTwo: undefined };
  const sum = d.reduce((acc, count, i) => acc + count * (i + 1), 0);
  const mean = sum / n;
  let squares = 0;
  d.forEach((count, i) => (squares += count * (i + 1 - mean) ** 2));
  const sd = n > 1 ? Math.sqrt(squares / (n - 1)) : undefined;
  const ci = sd === undefined ? undefined : tInterval(mean, sd, n);
  return { n, enough, distribution: d, mean, sd, ci, topTwo: (d[3] + d[4]) / n };
}

/** A cell held back: nothing in it, not even its count. */
export function withheld(minAnswers: number): ScoreSummary {
  return summarize(emptyDistribution(), minAnswers);
}

/**
 * The cells of one split of `total` answers (e.g. fast / slow), as they may be shown. A cell
 * below the minimum is withheld; so is a shown cell when the answers left out of the shown cells
 * (the total minus them) would be a group below the minimum, since subtracting the shown cells
 * from a total would reveal that group (the smallest shown cells go first, until the rest is
 * empty or big enough). Withheld cells carry no count.
 */
export function withoutSmallComplements(cells: readonly ScoreSummary[], total: number, minAnswers: number): ScoreSummary[] {
  const shown = cells.map((c) => c.enough);
  const rest = () => total - cells.reduce((sum, c, i) => sum + (shown[i] ? c.n : 0), 0);
  while (rest() > 0 && rest() < minAnswers && shown.some(Boolean)) {
    let smallest = -1;
    cells.forEach((c, i) => {
      if (shown[i] && (smallest < 0 || c.n < (cells[smallest]?.n ?? Infinity))) smallest = i;
    });
    shown[smallest] = false;
  }
  return cells.map((c, i) => (shown[i] ? c : withheld(minAnswers)));
}

/** The two-sided 95% Student t confidence interval of a mean. */
export function tInterval(mean: number, sd: number, n: number, confidence = 0.95): { low: number; high: number } {
  const t = studentTQuantile(1 - (1 - confidence) / 2, n - 1);
  const margin = (t * sd) / Math.sqrt(n);
  return { low: mean - margin, high: mean + margin };
}

// ------------------------------------------------------------------ Student's t distribution

/** ln Γ(x), Lanczos approximation (g = 7, n = 9), accurate to ~15 digits for x > 0. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] ?? 1;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] ?? 0) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (df ≥ 1, any real), by bisection
 * on the CDF to 1e-12: t(0.975, 1) = 12.706, t(0.975, 6) = 2.447, t(0.975, ∞) → 1.960.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12; i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** Participation to aim for (issue 7): a share of the people asked who answered. */
export const PARTICIPATION_AIM = { pulse: 0.25, provisioning: 0.4 } as const;
