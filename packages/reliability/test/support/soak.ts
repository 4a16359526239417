/** True under `pnpm test:soak` (vitest.soak.config.ts sets FIELDSEAL_SOAK=1). */
export const SOAK = process.env.FIELDSEAL_SOAK === '1';

/** A count for CI, or the larger one under `test:soak`. */
export function scale(ci: number, soak: number): number {
  return SOAK ? soak : ci;
}
