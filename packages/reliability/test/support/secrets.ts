/** Every printable form a secret could leak in: raw text, hex, base64 and base64url. */
export function secretForms(secret: string | Uint8Array): string[] {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const forms = new Set<string>([
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ]);
  if (typeof secret === 'string') forms.add(secret);
  // Short secrets would match by chance; all test secrets are longer than this.
  return [...forms].filter((form) => form.length >= 8);
}

/** The forms of `secrets` found in `text`, for a readable failure. */
export function leaks(text: string, secrets: readonly (string | Uint8Array)[]): string[] {
  const found: string[] = [];
  for (const secret of secrets)
    for (const form of secretForms(secret)) if (text.includes(form)) found.push(form);
  return found;
}

/** Message, stack and the whole `cause` chain (and `errors` of aggregates) of an error, as text. */
export function errorText(error: unknown, depth = 0): string {
  if (depth > 8 || error === null || error === undefined) return '';
  if (typeof error !== 'object') return String(error);
  const e = error as { message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown };
  const parts = [String(e.message ?? ''), String(e.stack ?? '')];
  try {
    parts.push(JSON.stringify(error));
  } catch {
    // circular: inspect below covers it
  }
  parts.push(errorText(e.cause, depth + 1));
  if (Array.isArray(e.errors)) for (const inner of e.errors) parts.push(errorText(inner, depth + 1));
  return parts.join('\n');
}

/** Every cell of `rows` as text (buffers as latin1 and UTF-8), to search stored data for plaintext. */
export function cellsText(rows: readonly Record<string, unknown>[]): string {
  const out: string[] = [];
  for (const row of rows) {
    for (const cell of Object.values(row)) {
      if (cell instanceof Uint8Array)
        out.push(Buffer.from(cell).toString('latin1'), Buffer.from(cell).toString('utf8'));
      else out.push(String(cell));
    }
  }
  return out.join('\n');
}
