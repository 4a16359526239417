import type * as Operations from './operations.js';

// `fieldseal --help`, `init` and `keygen` must start fast: the operations (and the database and
// adapter code they pull in) are imported on first use. Same signatures as ./operations.js.
const load = () => import('./operations.js');

/** {@link Operations.migrate}, imported on first call. */
export const migrate: typeof Operations.migrate = async (...args) => (await load()).migrate(...args);
/** {@link Operations.rotate}, imported on first call. */
export const rotate: typeof Operations.rotate = async (...args) => (await load()).rotate(...args);
/** {@link Operations.status}, imported on first call. */
export const status: typeof Operations.status = async (...args) => (await load()).status(...args);
/** {@link Operations.verify}, imported on first call. */
export const verify: typeof Operations.verify = async (...args) => (await load()).verify(...args);
/** {@link Operations.upgrade}, imported on first call. */
export const upgrade: typeof Operations.upgrade = async (...args) => (await load()).upgrade(...args);
