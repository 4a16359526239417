/** Prints rows as an aligned table, shortening long cells (ciphertext) in the middle. */
export function printTable(
  title: string,
  rows: ReadonlyArray<Record<string, string | number>>,
  maxWidth = 34,
): void {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  const cell = (value: string | number) => {
    const text = String(value);
    return text.length <= maxWidth ? text : `${text.slice(0, maxWidth - 9)}…${text.slice(-8)}`;
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c] ?? '').length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  console.log(title);
  console.log(line(columns));
  console.log(line(widths.map((w) => '─'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c] ?? ''))));
  console.log();
}
