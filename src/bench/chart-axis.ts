// Axis helpers for the bench report's SVG charts: round ticks (1, 2, 2.5 or 5 × 10^k) and a
// text-width estimate so that labels get the room they need inside the viewBox.

/** Ticks from 0 to a round top at or above `max`, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const rough = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const value = Number((step * i).toPrecision(12));
    ticks.push(value);
    if (value >= top) break;
  }
  return ticks;
}

/** A tick's label: as few decimals as the ticks need (2.5 → "2.5", 20 → "20"). */
export function tickLabel(value: number, ticks: readonly number[]): string {
  let decimals = 0;
  while (decimals < 4 && ticks.some((t) => Number(t.toFixed(decimals)) !== t)) decimals++;
  return value.toFixed(decimals);
}

/** Width of a label in px at the charts' 12px sans-serif: generous, so nothing is cut. */
export function textWidth(text: string, fontSize = 12): number {
  return Math.ceil(text.length * fontSize * 0.62);
}
