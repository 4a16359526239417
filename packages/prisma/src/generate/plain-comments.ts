// `//` comments are dropped by Prisma before generators see the schema's fields, so a
// `// @encrypted` would silently leave its column in plaintext. They are found in the schema text.

const MODEL_START = /^\s*model\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/;
const FIELD_NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s/;
// `//` not followed by a third slash, then something that reads like one of our annotations.
const PLAIN_ANNOTATION = /(^|[^/])\/\/(?!\/)\s*.*?@(encr\w*|data_?k\w*|blind\w*|tenant\b)/i;

/**
 * Problems for every `//` (two-slash) comment that looks like a fieldseal annotation, naming
 * model and field: `User.email: "// @encrypted" is an ordinary comment …; write "/// @encrypted"`.
 */
export function plainCommentProblems(schemaText: string): string[] {
  const problems: string[] = [];
  let model: string | undefined;
  for (const line of schemaText.split(/\r?\n/)) {
    const start = MODEL_START.exec(line);
    if (start) {
      model = start[1];
      continue;
    }
    if (model && /^\s*\}/.test(line)) {
      model = undefined;
      continue;
    }
    const match = PLAIN_ANNOTATION.exec(line);
    if (!match) continue;
    const field = FIELD_NAME.exec(line)?.[1];
    const where = model
      ? `${model}${field && !line.trimStart().startsWith('//') ? `.${field}` : ''}`
      : 'schema';
    problems.push(
      `${where}: "//" comment with @${match[2]} is an ordinary comment Prisma does not pass on, so it has no effect; write "///" (three slashes)`,
    );
  }
  return problems;
}
